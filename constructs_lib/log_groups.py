"""Log groups the platform causes are declared: retention from config, a customer KMS key, quiet handlers."""

from __future__ import annotations

from aws_cdk import ArnFormat, CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from platform_config.config import LOG_RETENTION_DAYS

# Lambda's JSON log format with level filtering: the CDK handlers log whole events (manifests, Helm values)
# at INFO, so only warnings and errors reach CloudWatch.
HANDLER_LOGGING = {"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "WARN"}


def logs_key(scope: Construct, id_: str, *, description: str) -> kms.Key:
    """A rotating key CloudWatch Logs may use for this account's and region's log groups only."""
    key = kms.Key(scope, id_, description=description, enable_key_rotation=True, pending_window=Duration.days(30))
    stack = Stack.of(scope)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudWatchLogsOfThisAccountAndRegion",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
    return key


def log_group(
    scope: Construct, id_: str, *, retention_days: int, key: kms.IKey, name: str | None = None
) -> logs.LogGroup:
    """A log group with a config retention and the logs key; removed with its stack (make destroy)."""
    return logs.LogGroup(
        scope,
        id_,
        log_group_name=name,
        retention=logs.RetentionDays[LOG_RETENTION_DAYS[retention_days]],
        encryption_key=key,
        removal_policy=RemovalPolicy.DESTROY,
    )


def route_function_logs(function: IConstruct, group: logs.ILogGroup) -> None:
    """Send a Lambda function's logs (a CDK-internal AWS::Lambda::Function) to `group`, warnings and errors only."""
    cfn = function if isinstance(function, CfnResource) else function.node.default_child
    if not isinstance(cfn, CfnResource) or cfn.cfn_resource_type != "AWS::Lambda::Function":
        raise TypeError(f"{function.node.path} is not a Lambda function")
    cfn.add_property_override("LoggingConfig", {**HANDLER_LOGGING, "LogGroup": group.log_group_name})
    cfn.node.add_dependency(group)

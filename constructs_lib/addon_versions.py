"""AddonVersionLookup: the EKS add-on versions EKS marks default for the profile's Kubernetes version, resolved at
deploy time (eks:DescribeAddonVersions, the only action its role has) and re-resolved when that version changes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import CustomResource, Duration, aws_lambda
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.handlers import addon_versions as handler
from constructs_lib.log_groups import log_group, route_function_logs
from constructs_lib.nag import acknowledge, acknowledge_in_packs

# Shipped inline (the template shows the code; no asset to upload); tests import the same file.
HANDLER_SOURCE = Path(handler.__file__).read_text()
RESOURCE_TYPE = "Custom::EksAddonVersions"
# The compliance packs' Lambda rules, answered for this deploy-time lookup.
LAMBDA_RULES = {
    "LambdaDLQ": "CloudFormation invokes the lookup synchronously and records a failure as a failed stack event; an "
    "asynchronous dead-letter queue would never receive anything.",
    "LambdaConcurrency": "The lookup runs only during a deploy that changes the Kubernetes version, once; reserved "
    "concurrency would take capacity from the account's pool for no gain.",
    "LambdaInsideVPC": "The lookup calls only the regional EKS API (eks:DescribeAddonVersions, no cluster data) and "
    "reaches nothing inside the VPC; it holds no network path into it.",
}


# The custom resource attribute that carries an add-on's resolved version: the handler's own naming.
attribute = handler.attribute


class AddonVersionLookup(Construct):
    """Exposes `resource` (a Custom::EksAddonVersions) and `version(addon)` (its resolved version, a token)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        kubernetes_version: str,
        addons: Sequence[str],
        logs_key: kms.IKey,
        retention_days: int,
        compliance_packs: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        logs = log_group(self, "Logs", retention_days=retention_days, key=logs_key)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="EKS add-on version lookup: eks:DescribeAddonVersions and its own log group only",
        )
        # A customer managed policy, not an inline one (the compliance packs' IAMNoInlinePolicy).
        policy = iam.ManagedPolicy(
            self,
            "Policy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="DescribeAddonVersions", actions=["eks:DescribeAddonVersions"], resources=["*"]
                ),
                iam.PolicyStatement(
                    sid="OwnLogGroup",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[logs.log_group_arn],
                ),
            ],
        )
        function = aws_lambda.Function(
            self,
            "Handler",
            runtime=aws_lambda.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=aws_lambda.Code.from_inline(HANDLER_SOURCE),
            role=role,
            timeout=Duration.minutes(2),
            memory_size=128,
            description="Resolves the default EKS add-on versions for the cluster's Kubernetes version",
        )
        function.node.add_dependency(policy)
        route_function_logs(function, logs)  # JSON, warnings and errors only: a failed lookup is logged
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "eks:DescribeAddonVersions supports no resource-level permissions (it reads EKS's public add-on "
            "catalogue, no cluster); it is the only action on *.",
        )
        for rule, why in LAMBDA_RULES.items():
            acknowledge_in_packs(function, rule, why, enabled=compliance_packs)
        # KubernetesVersion is a property: a changed version is an Update, so the lookup runs again.
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties={"KubernetesVersion": kubernetes_version, "Addons": list(addons)},
        )

    def version(self, addon: str) -> str:
        """The resolved version of `addon` (a CloudFormation GetAtt)."""
        return self.resource.get_att_string(attribute(addon))

"""Every log group the platform creates or causes is declared with the configured retention and a KMS key."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from tests.conftest import Synthesized
from tests.stack_fixtures import config


def undeclared_logs(template: dict[str, Any], retention: dict[str, int]) -> list[str]:
    """Functions whose logs go to a group this template does not declare with retention and key."""
    resources = template["Resources"]
    groups = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"}
    errors = []
    for name, props in groups.items():
        if "KmsKeyId" not in props:
            errors.append(f"{name}: log group without a KMS key")
        if props.get("RetentionInDays") not in retention.values():
            errors.append(f"{name}: retention {props.get('RetentionInDays')} is not from config")
    for name, res in resources.items():
        if res["Type"] != "AWS::Lambda::Function":
            continue
        target = (res["Properties"].get("LoggingConfig") or {}).get("LogGroup")
        if not (isinstance(target, dict) and target.get("Ref") in groups):
            errors.append(f"{name}: logs to an undeclared /aws/lambda group that never expires")
        elif res["Properties"]["LoggingConfig"].get("ApplicationLogLevel") not in ("WARN", "ERROR", "FATAL"):
            errors.append(f"{name}: application logs at INFO would carry whole manifests and values")
    return errors


def retention(s: Synthesized) -> dict[str, int]:
    cfg = s.config
    return {"flow": cfg.flow_log_retention_days, "platform": cfg.log_retention_days}


def test_every_stack_declares_its_log_groups_with_retention_and_key(synthesized: Synthesized) -> None:
    for name, template in synthesized.templates.items():
        assert undeclared_logs(template, retention(synthesized)) == [], name
    functions = sum(len(synthesized.resources(n, "AWS::Lambda::Function")) for n in synthesized.templates)
    assert functions >= 3


def test_check_reports_a_function_with_default_logging_and_an_unencrypted_group() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    lambda_.Function(
        stack,
        "F",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
    )
    cdk.aws_logs.LogGroup(stack, "G", retention=cdk.aws_logs.RetentionDays.ONE_WEEK)
    template = cdk.assertions.Template.from_stack(stack).to_json()
    errors = undeclared_logs(template, {"platform": 90})
    assert any("logs to an undeclared /aws/lambda group" in e for e in errors)
    assert any("log group without a KMS key" in e for e in errors)
    assert any("retention 7 is not from config" in e for e in errors)


def test_control_plane_log_group_is_declared_before_the_cluster(synthesized: Synthesized) -> None:
    groups = synthesized.resources("cluster", "AWS::Logs::LogGroup")
    (cp_id,) = [k for k, g in groups.items() if g["Properties"].get("LogGroupName") == "/aws/eks/eks-platform/cluster"]
    assert groups[cp_id]["Properties"]["RetentionInDays"] == synthesized.config.log_retention_days
    (cluster,) = synthesized.resources("cluster", "AWS::EKS::Cluster").values()
    assert cp_id in cluster["DependsOn"]


def test_retention_follows_config() -> None:
    from constructs_lib.log_groups import log_group, logs_key

    cfg = config(log_retention_days=365)
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account=cfg.account, region=cfg.region))
    log_group(stack, "G", retention_days=cfg.log_retention_days, key=logs_key(stack, "K", description="k"))
    template = cdk.assertions.Template.from_stack(stack)
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})


def test_logs_key_serves_only_cloudwatch_logs_of_this_account_and_region(synthesized: Synthesized) -> None:
    keys = synthesized.resources("cluster", "AWS::KMS::Key")
    statements = [s for k in keys.values() for s in k["Properties"]["KeyPolicy"]["Statement"]]
    (logs,) = [s for s in statements if s.get("Sid") == "CloudWatchLogsOfThisAccountAndRegion"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    arn = str(logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
    assert ":logs:us-east-1:111111111111:log-group:*" in arn

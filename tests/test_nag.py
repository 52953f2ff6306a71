"""cdk-nag AwsSolutions gates the whole app: no unacknowledged finding, every acknowledgement concrete."""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from tests.conftest import Synthesized

VAGUE = re.compile(r"^(n/?a|ok|todo|tbd|fine|needed|required|suppress(ed)?|false positive|ignore)\.?$", re.I)


def report(s: Synthesized) -> dict[str, Any]:
    plugins = json.loads((s.outdir / "validation-report.json").read_text())["pluginReports"]
    (nag,) = [p for p in plugins if p["pluginName"] == "AwsSolutions"]
    return nag


def test_app_has_zero_unacknowledged_findings(synthesized: Synthesized) -> None:
    nag = report(synthesized)
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []


def test_every_acknowledgement_has_a_concrete_reason(synthesized: Synthesized) -> None:
    suppressed = report(synthesized)["suppressedViolations"]
    assert suppressed, "expected the documented acknowledgements (managed policies, Karpenter wildcards)"
    for finding in suppressed:
        reason = finding["reason"].strip()
        assert len(reason) >= 20 and not VAGUE.match(reason), f"{finding['acknowledgedId']}: {reason!r}"


def test_acknowledgements_name_one_finding_not_a_whole_rule(synthesized: Synthesized) -> None:
    for finding in report(synthesized)["suppressedViolations"]:
        rule = finding["acknowledgedId"].removeprefix("AwsSolutions::")
        if rule.startswith(("AwsSolutions-IAM4", "AwsSolutions-IAM5")):
            assert "[" in rule, f"{rule} acknowledges every finding of the rule"


def test_acknowledgements_sit_on_constructs_not_stacks(synthesized: Synthesized) -> None:
    stacks = {s.stack_name for s in synthesized.platform.app.node.children if isinstance(s, cdk.Stack)}
    for finding in report(synthesized)["suppressedViolations"]:
        assert finding["acknowledgedAt"] not in stacks, finding["acknowledgedId"]


def test_an_unacknowledged_wildcard_fails_synth(tmp_path: pytest.TempPathFactory) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bad")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:*"], resources=["*"]))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    violations = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"][0]["violations"]
    assert any(v["ruleName"].startswith("AwsSolutions-IAM5") for v in violations)

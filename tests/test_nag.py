"""cdk-nag AwsSolutions gates the whole app: no unacknowledged finding, every acknowledgement concrete."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from constructs_lib import nag
from platform_config.config import COMPLIANCE_PACKS, PlatformConfig
from platform_stacks.platform_app import build_app
from tests.conftest import PROFILE_NAMES, TODAY, Synthesized
from tests.fixed_context import fixed_context

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


# Every documented boolean or enum switched away from its default, in one app with the cdk-nag gate on
# (the session app covers the defaults). A rule that throws fails synth like a finding does.
NON_DEFAULT_OPTIONS: dict[str, Any] = {
    "interface_endpoints": True,
    "endpoint_access": "public_and_private",
    "public_access_cidrs": ["0.0.0.0/0"],
    "allow_public_endpoint_anywhere": True,
    "shop_ingress": "internet-facing",
    "ingress_allowed_cidrs": ["0.0.0.0/0"],
    "allow_ingress_anywhere": True,
    "allow_ingress_plain_http": True,
    "karpenter_architectures": ["amd64", "arm64"],
    "karpenter_expire_after": "Never",
    "nat_gateways": 3,
    "admin_principal_arns": ["arn:aws:iam::123456789012:role/platform-admins"],
    # Every opt-in compliance pack (NIST 800-53 R5, PCI DSS 3.2.1, HIPAA): fixed or acknowledged, finding by finding.
    "compliance_packs": list(COMPLIANCE_PACKS),
    "spot_drill": True,
    "spot_drill_selection": "PERCENT(20)",
}


def test_every_boolean_option_is_in_the_non_default_nag_app() -> None:
    booleans = {f.name for f in fields(PlatformConfig) if f.type == "bool"}
    assert booleans and booleans <= set(NON_DEFAULT_OPTIONS)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_documented_option_synthesizes_with_cdk_nag_on(tmp_path: Path, profile: str) -> None:
    context = fixed_context(**NON_DEFAULT_OPTIONS, release=profile)
    platform = build_app(context, env={}, today=TODAY, outdir=str(tmp_path))
    platform.app.synth()
    plugins = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert {p["pluginName"] for p in plugins} >= {"AwsSolutions", *COMPLIANCE_PACKS}
    for plugin in plugins:
        assert (plugin["conclusion"], plugin.get("violations", [])) == ("success", []), plugin["pluginName"]
        for finding in plugin.get("suppressedViolations", []):
            reason = finding["reason"].strip()
            assert len(reason) >= 20 and not VAGUE.match(reason), f"{finding['acknowledgedId']}: {reason!r}"
    network = json.loads((tmp_path / f"{platform.network.stack_name}.template.json").read_text())
    ingress = [
        rule
        for res in network["Resources"].values()
        if res["Type"] == "AWS::EC2::SecurityGroup"
        for rule in res["Properties"].get("SecurityGroupIngress", [])
    ]
    # The endpoints admit HTTPS from the literal VPC CIDR (a token there made cdk-nag's EC23 rule throw).
    assert ingress == [
        {
            "CidrIp": "10.0.0.0/16",
            "Description": "HTTPS from the VPC",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]


# cdk-nag's own pack sources, in the jsii bundle its Python package ships: which rules each compliance pack runs.
_PACK_SOURCES = {
    "HIPAA.Security": "hipaa-security.js",
    "NIST.800.53.R5": "nist-800-53-r5.js",
    "PCI.DSS.321": "pci-dss-321.js",
}


def _rules_each_pack_runs() -> dict[str, set[str]]:
    import tarfile

    import cdk_nag

    (bundle,) = (Path(cdk_nag.__file__).parent / "_jsii").glob("cdk-nag@*.jsii.tgz")
    with tarfile.open(bundle) as tar:
        read = {
            pack: tar.extractfile(f"package/lib/packs/{name}").read().decode()  # type: ignore[union-attr]
            for pack, name in _PACK_SOURCES.items()
        }
    return {pack: set(re.findall(r"rule: \w+\.(\w+),", text)) for pack, text in read.items()}


def test_the_compliance_packs_the_config_accepts_are_the_packs_the_app_runs() -> None:
    assert set(nag.PACKS) == set(COMPLIANCE_PACKS) == set(_PACK_SOURCES)


def test_each_acknowledged_rule_names_exactly_the_packs_that_run_it() -> None:
    runs = _rules_each_pack_runs()
    assert all(runs.values()), "no rule read from cdk-nag's pack sources: the pattern no longer matches"
    for rule, packs in nag.RULE_PACKS.items():
        assert set(packs) == {pack for pack, rules in runs.items() if rule in rules}, rule


def test_acknowledging_a_rule_outside_the_table_is_refused_by_name() -> None:
    with pytest.raises(KeyError, match="NoSuchRule"):
        nag.acknowledge_in_packs(cdk.Stack(cdk.App(), "S"), "NoSuchRule", "why", enabled=COMPLIANCE_PACKS)

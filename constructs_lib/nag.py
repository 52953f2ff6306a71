"""One way to acknowledge a cdk-nag finding: on one construct, one finding id of one pack, with a concrete reason."""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from cdk_nag import HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct

# The opt-in compliance packs (config key compliance_packs), by the rule-id prefix cdk-nag gives each.
PACKS: dict[str, type[NagPack]] = {
    "HIPAA.Security": HIPAASecurityChecks,
    "NIST.800.53.R5": NIST80053R5Checks,
    "PCI.DSS.321": PCIDSS321Checks,
}


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge `finding` (e.g. ``AwsSolutions-IAM5[Action::ec2:*]`` or ``NIST.800.53.R5-VPCDefaultSGClosed``)
    on `scope` only."""
    # The validation framework keys findings by plugin name (the pack, the rule id's prefix), then the rule id.
    pack = finding.split("-", 1)[0]
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"{pack}::{finding}", reason=reason))


# Which compliance packs run each rule we acknowledge (the packs share rule names; cdk-nag's own pack sources are
# the truth, and tests/test_nag.py holds this table to them): an acknowledgement names only packs that have it.
RULE_PACKS: dict[str, tuple[str, ...]] = {
    "CloudWatchAlarmAction": ("HIPAA.Security", "NIST.800.53.R5"),
    "IAMNoInlinePolicy": ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"),
    "LambdaConcurrency": ("HIPAA.Security", "NIST.800.53.R5"),
    "LambdaDLQ": ("HIPAA.Security", "NIST.800.53.R5"),
    "LambdaInsideVPC": ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"),
    "VPCNoUnrestrictedRouteToIGW": ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"),
}


def acknowledge_in_packs(scope: IConstruct, rule: str, reason: str, *, enabled: Iterable[str]) -> None:
    """Acknowledge one rule (its name without the pack prefix, e.g. ``IAMNoInlinePolicy``) in each `enabled` pack
    that runs it (RULE_PACKS)."""
    if rule not in RULE_PACKS:
        raise KeyError(f"{rule}: add the packs that run it to RULE_PACKS (constructs_lib/nag.py)")
    for pack in sorted(set(RULE_PACKS[rule]) & set(enabled)):
        acknowledge(scope, f"{pack}-{rule}", reason)


def managed_policy_finding(policy: str) -> str:
    """The IAM4 finding id cdk-nag reports for an AWS managed policy name (e.g. service-role/X)."""
    return f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{policy}]"

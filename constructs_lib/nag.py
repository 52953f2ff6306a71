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


def acknowledge_in_packs(
    scope: IConstruct, rule: str, reason: str, *, packs: Iterable[str], enabled: Iterable[str]
) -> None:
    """Acknowledge one rule (its name without the pack prefix, e.g. ``IAMNoInlinePolicy``) in each pack of `packs`
    (those that have the rule) that is `enabled`: the compliance packs share rule names."""
    for pack in sorted(set(packs) & set(enabled)):
        acknowledge(scope, f"{pack}-{rule}", reason)


def managed_policy_finding(policy: str) -> str:
    """The IAM4 finding id cdk-nag reports for an AWS managed policy name (e.g. service-role/X)."""
    return f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{policy}]"

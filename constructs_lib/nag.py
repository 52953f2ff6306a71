"""One way to acknowledge a cdk-nag finding: on one construct, one finding id, with a concrete reason."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge `finding` (e.g. ``AwsSolutions-IAM5[Action::ec2:*]``) on `scope` only."""
    # The validation framework keys findings by plugin name, then the rule id cdk-nag reports.
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"AwsSolutions::{finding}", reason=reason))


def managed_policy_finding(policy: str) -> str:
    """The IAM4 finding id cdk-nag reports for an AWS managed policy name (e.g. service-role/X)."""
    return f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{policy}]"

"""The reference configuration: every setting at its documented default plus the CDK feature flags the code is
written against. The suite, the snapshots and the committed architecture picture are built from it, never from
a fork's cdk.json (a fork configures itself there, and its `make test` must stay green)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from platform_config.config import PlatformConfig

_DEFAULTS = PlatformConfig()

# The CDK feature flags the app is written against (cdk.json carries the same ones; tests/test_fork.py checks it).
FEATURE_FLAGS: dict[str, Any] = {
    "@aws-cdk/aws-ec2:restrictDefaultSecurityGroup": True,
    "@aws-cdk/core:checkSecretUsage": True,
    "@aws-cdk/aws-iam:minimizePolicies": True,
    "@aws-cdk/core:enablePartitionLiterals": True,
    "@aws-cdk/aws-sqs:useSqsManagedEncryptionByDefault": True,
    "@aws-cdk/core:defaultCrossStackReferences": "strong",
}

# Every setting spelled out at PlatformConfig's documented default (explicit, as cdk.json states them, so
# CDK_DEFAULT_* never fill a gap), plus the zone cache key for the placeholder account.
# ami_alias is left out: its default is the selected release profile's pin, so reference_context(release=...)
# gets that profile's alias.
SETTINGS: dict[str, Any] = {
    f.name: list(value) if isinstance(value := getattr(_DEFAULTS, f.name), tuple) else value
    for f in fields(PlatformConfig)
    if f.name != "ami_alias"
}
REFERENCE_CONTEXT: dict[str, Any] = {
    **FEATURE_FLAGS,
    **SETTINGS,
    f"availability-zones:account={_DEFAULTS.account}:region={_DEFAULTS.region}": list(_DEFAULTS.availability_zones),
}


def reference_context(**overrides: Any) -> dict[str, Any]:
    """The reference context with overrides (a fresh dict: callers may change it)."""
    return {**REFERENCE_CONTEXT, **overrides}

"""The suite's own app context: the documented defaults plus the CDK feature flags, never the user's cdk.json.

A fork configures itself in cdk.json (git_repo_url, admin_principal_arns, endpoint access, NAT count, ...);
`make test` must stay green on that commit, so no test reads cdk.json's settings. The feature flags are part of
the code, not of a fork's configuration: they are copied here and test_fork asserts cdk.json still carries them.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from platform_config.config import PlatformConfig

_DEFAULTS = PlatformConfig()

# The CDK feature flags the app is written against (cdk.json carries the same ones; test_fork checks it).
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
# ami_alias is left out: its default is the selected release profile's pin, so fixed_context(release=...) gets
# that profile's alias.
SETTINGS: dict[str, Any] = {
    f.name: list(value) if isinstance(value := getattr(_DEFAULTS, f.name), tuple) else value
    for f in fields(PlatformConfig)
    if f.name != "ami_alias"
}
TEST_CONTEXT: dict[str, Any] = {
    **FEATURE_FLAGS,
    **SETTINGS,
    f"availability-zones:account={_DEFAULTS.account}:region={_DEFAULTS.region}": list(_DEFAULTS.availability_zones),
}


def fixed_context(**overrides: Any) -> dict[str, Any]:
    """The fixed test context with overrides (a fresh dict: callers may change it)."""
    return {**TEST_CONTEXT, **overrides}

"""The suite's own app context: the documented defaults plus the CDK feature flags, never the user's cdk.json.

A fork configures itself in cdk.json (git_repo_url, admin_principal_arns, endpoint access, NAT count, ...);
`make test` must stay green on that commit, so no test reads cdk.json's settings. The feature flags are part of
the code, not of a fork's configuration: they are copied here and test_fork asserts cdk.json still carries them.
"""

from __future__ import annotations

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

# Every setting is PlatformConfig's documented default; only the zone cache key is spelled out, so the
# VPC never falls back to CDK's dummy zones for the placeholder account.
TEST_CONTEXT: dict[str, Any] = {
    **FEATURE_FLAGS,
    f"availability-zones:account={_DEFAULTS.account}:region={_DEFAULTS.region}": list(_DEFAULTS.availability_zones),
}


def fixed_context(**overrides: Any) -> dict[str, Any]:
    """The fixed test context with overrides (a fresh dict: callers may change it)."""
    return {**TEST_CONTEXT, **overrides}

"""The suite's own app context: the reference configuration (platform_config/reference_context.py), never the
user's cdk.json.

A fork configures itself in cdk.json (git_repo_url, admin_principal_arns, endpoint access, NAT count, ...);
`make test` must stay green on that commit, so no test reads cdk.json's settings. The feature flags are part of
the code, not of a fork's configuration: test_fork asserts cdk.json still carries them.
"""

from __future__ import annotations

from typing import Any

from platform_config.feature_flags import FEATURE_FLAGS
from platform_config.reference_context import REFERENCE_CONTEXT, SETTINGS

TEST_CONTEXT: dict[str, Any] = REFERENCE_CONTEXT

__all__ = ["FEATURE_FLAGS", "SETTINGS", "TEST_CONTEXT", "fixed_context"]


def fixed_context(**overrides: Any) -> dict[str, Any]:
    """The fixed test context with overrides (a fresh dict: callers may change it)."""
    return {**TEST_CONTEXT, **overrides}

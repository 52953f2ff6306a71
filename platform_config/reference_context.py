"""The reference configuration: every setting at its documented default plus the CDK feature flags the code is
written against. The suite, the snapshots and the committed architecture picture are built from it, never from
a fork's cdk.json (a fork configures itself there, and its `make test` must stay green)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from platform_config.config import PlatformConfig
from platform_config.feature_flags import FEATURE_FLAGS

_DEFAULTS = PlatformConfig()

# Every setting spelled out at PlatformConfig's documented default (explicit, as cdk.json states them, so
# CDK_DEFAULT_* never fill a gap). No `availability-zones:...` lookup key: build_app answers CDK's zone lookup
# from availability_zones itself.
# ami_alias is left out: its default is the selected release profile's pin, so reference_context(release=...)
# gets that profile's alias.
SETTINGS: dict[str, Any] = {
    f.name: list(value) if isinstance(value := getattr(_DEFAULTS, f.name), tuple) else value
    for f in fields(PlatformConfig)
    if f.name != "ami_alias"
}
REFERENCE_CONTEXT: dict[str, Any] = {**FEATURE_FLAGS, **SETTINGS}


def reference_context(**overrides: Any) -> dict[str, Any]:
    """The reference context with overrides (a fresh dict: callers may change it)."""
    return {**REFERENCE_CONTEXT, **overrides}

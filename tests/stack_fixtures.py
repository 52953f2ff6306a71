"""Smallest fixtures for construct tests: a config with overrides and a throwaway stack to put constructs in."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from platform_config.config import PlatformConfig
from tests.fixed_context import fixed_context


def config(**overrides: Any) -> PlatformConfig:
    """The fixed test configuration (documented defaults, not cdk.json) with overrides, validated."""
    context = fixed_context(**overrides)
    return PlatformConfig.from_context(context, {})


def stack(cfg: PlatformConfig | None = None) -> cdk.Stack:
    """An empty stack in the config's account and region."""
    cfg = cfg or config()
    app = cdk.App()
    return cdk.Stack(app, "Test", env=cdk.Environment(account=cfg.account, region=cfg.region))


def template(of: cdk.Stack) -> Template:
    """The synthesized template of a fixture stack."""
    return Template.from_stack(of)

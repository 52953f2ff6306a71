"""Shared fixtures: the whole app is synthesized once per pytest run and profile; construct tests build small stacks."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from platform_config.config import PlatformConfig, app_config
from platform_config.versions import DEFAULT_PROFILE, PROFILES
from platform_stacks.platform_app import Platform, build_app
from tests.fixed_context import fixed_context
from tests.synth_cache import shared_synth, synth_key

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 26)
# Every profile-dependent test runs once per release profile (a profile is data: the same tests hold for both).
PROFILE_NAMES = tuple(sorted(PROFILES))


@dataclass
class Synthesized:
    """The synthesized app: templates by short stack name, the assembly dir and the platform object."""

    outdir: Path
    templates: dict[str, dict[str, Any]]
    context: dict[str, Any]
    build: Callable[[], Platform] = field(repr=False)

    @cached_property
    def config(self) -> PlatformConfig:
        """The checked configuration the app was built from (what build_app checks first)."""
        return app_config(self.context, {})

    @cached_property
    def platform(self) -> Platform:
        """The construct tree of this app (built when first asked for if the assembly came from the run's cache)."""
        return self.build()

    def resources(self, stack: str, type_: str) -> dict[str, dict[str, Any]]:
        """Resources of one CloudFormation type in one stack, by logical id."""
        return {k: v for k, v in self.templates[stack]["Resources"].items() if v["Type"] == type_}

    def only(self, stack: str, type_: str) -> dict[str, Any]:
        """The single resource of a type in a stack (fails if there is not exactly one)."""
        found = list(self.resources(stack, type_).values())
        assert len(found) == 1, f"expected one {type_} in {stack}, found {len(found)}"
        return found[0]


@pytest.fixture(scope="session", params=PROFILE_NAMES)
def profile(request: pytest.FixtureRequest) -> str:
    """The release profile under test (tests that take it, or `synthesized`, run once per profile)."""
    name: str = request.param
    return name


def synthesize(outdir: Path, profile: str = DEFAULT_PROFILE) -> Synthesized:
    """The suite's entry: the whole app of one profile from the fixed test context (never cdk.json), cdk-nag on;
    synthesized once per pytest run for the same inputs (tests/synth_cache.py)."""
    context = fixed_context(release=profile)
    built: list[Platform] = []

    def build() -> Platform:
        return built[0] if built else build_app(context, env={}, today=TODAY, outdir=str(outdir))

    def synth(out: Path) -> dict[str, dict[str, Any]]:
        built.append(platform := build())
        return {
            stack.stack_name.rsplit("-", 1)[-1].lower(): json.loads(Path(stack.template_full_path).read_text())
            for stack in platform.app.synth().stacks
        }

    templates = shared_synth(outdir, synth_key(ROOT, context, TODAY.isoformat()), synth)
    return Synthesized(outdir=outdir, templates=templates, context=context, build=build)


@pytest.fixture(scope="session")
def synthesized(profile: str, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp(f"cdk.out-{profile}"), profile)


from tests.render_fixtures import (  # noqa: E402  (the render gate's session fixture and its cache's hooks)
    platform_render,
    pytest_configure,
    pytest_unconfigure,
)

__all__ = ["Synthesized", "platform_render", "pytest_configure", "pytest_unconfigure", "synthesized"]

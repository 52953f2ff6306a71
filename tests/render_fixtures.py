"""Session fixtures of the render gate: the platform rendered once per release profile, shared by every test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platform_checks.rendered import PlatformRender, render_platform
from platform_stacks.platform_app import build_app
from tests.fixed_context import TEST_CONTEXT

# The profiles the render gate covers: the ONE list to extend. Add "current" here once `-c release=current`
# synthesizes the current profile's content (issue 10); every render test then runs for both.
RENDER_PROFILES: tuple[str, ...] = ("seed",)


def synthesize(profile: str, outdir: Path) -> dict[str, dict[str, Any]]:
    """Templates (by short stack name) of the app from the fixed test context with `release=<profile>`."""
    from tests.conftest import TODAY  # conftest imports this module: read it lazily

    platform = build_app({**TEST_CONTEXT, "release": profile}, env={}, today=TODAY, outdir=str(outdir))
    assembly = platform.app.synth()
    return {
        stack.stack_name.rsplit("-", 1)[-1].lower(): json.loads(Path(stack.template_full_path).read_text())
        for stack in assembly.stacks
    }


@pytest.fixture(scope="session", params=RENDER_PROFILES)
def platform_render(
    request: pytest.FixtureRequest, synthesized: Any, tmp_path_factory: pytest.TempPathFactory
) -> PlatformRender:
    """Every release and Application of one profile, rendered from the synthesized templates (cached)."""
    profile: str = request.param
    if synthesized.platform.config.release == profile:
        templates = synthesized.templates
    else:
        templates = synthesize(profile, tmp_path_factory.mktemp(f"cdk.out-{profile}"))
    return render_platform(profile, templates)

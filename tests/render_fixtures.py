"""Session fixture of the render gate: the platform rendered once per release profile, shared by every test."""

from __future__ import annotations

from typing import Any

import pytest

from platform_checks.platform_render import PlatformRender, render_platform


@pytest.fixture(scope="session")
def platform_render(synthesized: Any) -> PlatformRender:
    """Every release and Application of the profile under test (conftest's `profile`: every profile of
    platform_config/versions.PROFILES), rendered from that profile's synthesized templates."""
    return render_platform(synthesized.platform.config.release, synthesized.templates)

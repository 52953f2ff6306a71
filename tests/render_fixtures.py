"""Session fixture of the render gate: the platform rendered once per release profile, shared by every test; and one
render cache per pytest run, shared by its xdist workers and the repository copies its tests run pytest in."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

import pytest

from platform_checks.helm_template import RENDER_CACHE_ENV
from platform_checks.platform_render import PlatformRender, render_platform

_OWN_CACHE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """The first pytest process of a run (before xdist starts its workers, which inherit the environment) makes the
    cache; a run inside a test of another run keeps that run's."""
    if not os.environ.get(RENDER_CACHE_ENV):
        config.stash[_OWN_CACHE] = os.environ[RENDER_CACHE_ENV] = tempfile.mkdtemp(prefix="helm-renders-")


def pytest_unconfigure(config: pytest.Config) -> None:
    if (own := config.stash.get(_OWN_CACHE, None)) is not None:
        shutil.rmtree(own, ignore_errors=True)
        os.environ.pop(RENDER_CACHE_ENV, None)


@pytest.fixture(scope="session")
def platform_render(synthesized: Any) -> PlatformRender:
    """Every release and Application of the profile under test (conftest's `profile`: every profile of
    platform_config/versions.PROFILES), rendered from that profile's synthesized templates."""
    return render_platform(synthesized.platform.config.release, synthesized.templates)

"""Session fixture of the render gate: the platform rendered once per release profile, shared by every test; and one
render cache and one synth cache per pytest run, shared by its xdist workers and the repository copies its tests run
pytest in."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

import pytest

from platform_checks.platform_render import PlatformRender, render_platform
from platform_checks.render_cache import RENDER_CACHE_ENV
from tests.synth_cache import SYNTH_CACHE_ENV

_OWN_CACHES = pytest.StashKey[dict[str, str]]()
RUN_CACHES = {RENDER_CACHE_ENV: "helm-renders-", SYNTH_CACHE_ENV: "synths-"}


def pytest_configure(config: pytest.Config) -> None:
    """The first pytest process of a run (before xdist starts its workers, which inherit the environment) makes the
    caches; a run inside a test of another run keeps that run's."""
    own = config.stash[_OWN_CACHES] = {}
    for env, prefix in RUN_CACHES.items():
        if not os.environ.get(env):
            own[env] = os.environ[env] = tempfile.mkdtemp(prefix=prefix)


def pytest_unconfigure(config: pytest.Config) -> None:
    for env, path in config.stash.get(_OWN_CACHES, {}).items():
        shutil.rmtree(path, ignore_errors=True)
        os.environ.pop(env, None)


@pytest.fixture(scope="session")
def platform_render(synthesized: Any) -> PlatformRender:
    """Every release and Application of the profile under test (conftest's `profile`: every profile of
    platform_config/versions.PROFILES), rendered from that profile's synthesized templates."""
    return render_platform(synthesized.config.release, synthesized.templates)

"""What the root app syncs for a release profile: the kustomize build of each GitOps root's overlay."""

from __future__ import annotations

from functools import cache
from typing import Any

from constructs_lib.gitops import overlay_paths
from platform_checks.kustomize import kustomize_build
from platform_config.versions import DEFAULT_PROFILE
from tests.conftest import ROOT


@cache
def _build(profile: str) -> tuple[dict[str, Any], ...]:
    return tuple(obj for path in overlay_paths(profile) for obj in kustomize_build(ROOT / path))


def built_overlays(profile: str = DEFAULT_PROFILE) -> list[dict[str, Any]]:
    """Fresh copies of the built objects (tests may modify them)."""
    import copy

    return copy.deepcopy(list(_build(profile)))

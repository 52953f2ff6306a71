"""What the root app syncs for a release profile: the kustomize build of each GitOps root's overlay, built once
per session with that profile's kubectl (tests/observability_helpers and the content tests read it from here)."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from constructs_lib.gitops import overlay_paths
from platform_checks.kustomize import kustomize_build
from platform_config.versions import DEFAULT_PROFILE
from tests.conftest import ROOT


@cache
def built_root(root: str, profile: str) -> tuple[dict[str, Any], ...]:
    """The build of `root`'s (infra or apps) overlay of a profile; shared: never modify the objects."""
    return tuple(kustomize_build(ROOT / root / "overlays" / profile, profile))


def built_overlays(profile: str = DEFAULT_PROFILE) -> list[dict[str, Any]]:
    """Fresh copies of everything the profile's root app syncs (tests may modify them)."""
    roots = [path.split("/")[0] for path in overlay_paths(profile)]
    return copy.deepcopy([obj for root in roots for obj in built_root(root, profile)])

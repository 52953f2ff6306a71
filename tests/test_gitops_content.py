"""Everything ArgoCD syncs builds with kubectl kustomize, validates (1.29 + pinned CRDs) and passes the guardrails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kyverno_cel as kc
import pytest

from platform_checks import validate_manifest
from platform_checks.kustomize import kustomize_build
from tests.conftest import ROOT

KUSTOMIZE_DIRS = sorted(p.parent for root in ("infra", "apps") for p in (ROOT / root).rglob("kustomization.yaml"))
POLICIES = kc.load_policies()


def test_gitops_roots_and_every_concern_have_a_kustomization() -> None:
    relative = {str(p.relative_to(ROOT)) for p in KUSTOMIZE_DIRS}
    assert {
        "infra",
        "apps",
        "infra/policies",
        "infra/observability",
        "infra/dashboards",
        "apps/astronomy-shop",
    } <= relative


@pytest.mark.parametrize("directory", KUSTOMIZE_DIRS, ids=lambda p: str(p.relative_to(ROOT)))
def test_directory_builds_and_every_object_validates(directory: Path) -> None:
    objects = kustomize_build(directory)
    assert objects, f"{directory} builds to nothing"
    errors = [e for obj in objects for e in validate_manifest(obj)]
    assert errors == []


def enforce_failures(obj: dict[str, Any]) -> list[str]:
    return [
        f"{r.policy}/{r.rule}: {r.message}"
        for r in kc.evaluate(POLICIES, obj)
        if not r.passed and r.action == "Enforce"
    ]


@pytest.mark.parametrize("root", ["infra", "apps"])
def test_every_synced_object_passes_every_enforced_guardrail(root: str) -> None:
    for obj in kustomize_build(ROOT / root):
        assert enforce_failures(obj) == [], f"{obj['kind']}/{obj['metadata']['name']}"


# The astronomy shop's pods and everything else the platform deploys are checked against these guardrails on the
# real render (helm template of the pinned charts): tests/test_render_wiring.py.

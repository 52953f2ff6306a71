"""Everything ArgoCD syncs builds with kubectl kustomize, validates (1.29 + pinned CRDs) and passes the guardrails."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kyverno_cel as kc
import pytest

from platform_checks import validate_manifest
from platform_checks.kustomize import kustomize_build
from platform_config.versions import PROFILES
from tests.conftest import PROFILE_NAMES, ROOT
from tests.observability_helpers import astronomy_shop_values

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
def test_directory_builds_and_every_object_validates(profile: str, directory: Path) -> None:
    objects = kustomize_build(directory)
    assert objects, f"{directory} builds to nothing"
    errors = [e for obj in objects for e in validate_manifest(obj, profile=profile)]
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


# --- The astronomy shop's pods, approximated from chart defaults + our values (chart templates are not
# available offline, so this renders the fields the guardrails read: images, resources, placement). ---


def shop_deployments(profile: str) -> list[dict[str, Any]]:
    values = astronomy_shop_values(profile)
    default = values["default"]
    tag = default["image"].get("tag") or PROFILES[profile].charts["opentelemetry-demo"].app_version
    out = []
    for name, component in sorted(values["components"].items()):
        if not component.get("enabled"):
            continue
        override = component.get("imageOverride") or {}
        image = (
            f"{override['repository']}:{override.get('tag') or tag}"
            if override.get("repository")
            else f"{default['image']['repository']}:{tag}-{name.lower()}"
        )
        rules = component.get("schedulingRules") or default.get("schedulingRules") or {}
        container = {
            "name": name.lower(),
            "image": image,
            "resources": component.get("resources") or {},
            "securityContext": component.get("securityContext") or default.get("securityContext") or {},
        }
        spec: dict[str, Any] = {"containers": [container]}
        init = [
            {"resources": {}, **copy.deepcopy(c)} for c in component.get("initContainers") or [] if isinstance(c, dict)
        ]
        if init:
            spec["initContainers"] = init
        for key in ("nodeSelector", "tolerations", "affinity"):
            if rules.get(key):
                spec[key] = rules[key]
        out.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": f"astronomy-shop-{name.lower()}", "namespace": "astronomy-shop"},
                "spec": {
                    "replicas": component.get("replicas", 1),
                    "selector": {"matchLabels": {"app": name.lower()}},
                    "template": {"metadata": {"labels": {"app": name.lower()}}, "spec": spec},
                },
            }
        )
    return out


def test_shop_render_covers_every_enabled_component(profile: str) -> None:
    deployments = shop_deployments(profile)
    assert len(deployments) >= 15
    assert {"astronomy-shop-frontend", "astronomy-shop-kafka", "astronomy-shop-valkey"} <= {
        d["metadata"]["name"] for d in deployments
    }


@pytest.mark.parametrize(
    "deployment",
    [pytest.param(d, id=f"{p}-{d['metadata']['name']}") for p in PROFILE_NAMES for d in shop_deployments(p)],
)
def test_astronomy_shop_component_passes_every_enforced_guardrail(deployment: dict[str, Any]) -> None:
    assert enforce_failures(deployment) == []


def test_guardrail_check_on_shop_components_can_fail(profile: str) -> None:
    broken = copy.deepcopy(shop_deployments(profile)[0])
    broken["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/open-telemetry/demo:latest"
    assert any("disallow-latest-tag" in f for f in enforce_failures(broken))

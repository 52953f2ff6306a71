"""Everything ArgoCD syncs, for every release profile, builds with kubectl kustomize, validates against the
profile's Kubernetes release and CRDs, and passes the profile's guardrails."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.namespace_guards import guard_manifests
from platform_checks import kyverno_cel as kc
from platform_checks import validate_manifest
from platform_checks.kustomize import kustomize_build
from platform_checks.upstream_facts import app_version
from tests.conftest import PROFILE_NAMES, ROOT
from tests.gitops_overlays import built_overlays, built_root
from tests.observability_helpers import DEMO, astronomy_shop_values

ROOTS = ("infra", "apps")
KUSTOMIZE_DIRS = sorted(p.parent for root in ROOTS for p in (ROOT / root).rglob("kustomization.yaml"))
# Local-config only (the guardrail thresholds): read by the policies' kustomizations, never applied.
SETTINGS_DIR = ROOT / "infra" / "policies" / "settings"
# A directory outside infra/overlays/<profile> and apps/overlays/<profile> is shared by every profile.
PROFILE_DIRS = [
    (profile, d)
    for d in KUSTOMIZE_DIRS
    for profile in PROFILE_NAMES
    if d != SETTINGS_DIR and ("overlays" not in d.parts or d.parts[d.parts.index("overlays") + 1] == profile)
]


@cache
def guardrails(profile: str) -> list[dict[str, Any]]:
    return kc.load_policies(profile)


def test_gitops_roots_and_every_concern_have_a_kustomization() -> None:
    relative = {str(p.relative_to(ROOT)) for p in KUSTOMIZE_DIRS}
    assert {
        "infra/base",
        "apps/base",
        "infra/policies/settings",
        "infra/observability",
        "infra/dashboards",
        "apps/astronomy-shop",
    } <= relative
    for profile in PROFILE_NAMES:
        assert {
            f"infra/overlays/{profile}",
            f"infra/overlays/{profile}/policies",
            f"apps/overlays/{profile}",
        } <= relative
    overlays = {p.name for root in ROOTS for p in (ROOT / root / "overlays").iterdir() if p.is_dir()}
    assert overlays == set(PROFILE_NAMES), "an overlay without a release profile, or a profile without one"


@pytest.mark.parametrize(
    ("profile", "directory"), PROFILE_DIRS, ids=[f"{p}-{d.relative_to(ROOT)}" for p, d in PROFILE_DIRS]
)
def test_directory_builds_and_every_object_validates(profile: str, directory: Path) -> None:
    objects = kustomize_build(directory)
    assert objects, f"{directory} builds to nothing"
    errors = [e for obj in objects for e in validate_manifest(obj, profile=profile)]
    assert errors == []


def test_policy_settings_are_local_config_and_never_applied() -> None:
    assert kustomize_build(SETTINGS_DIR) == []


@pytest.mark.parametrize("root", ROOTS)
def test_overlays_differ_only_where_the_profiles_do(root: str) -> None:
    """Each overlay is the shared base plus the profile's own parts, never a copy of the base."""
    built = {profile: list(built_root(root, profile)) for profile in PROFILE_NAMES}
    keys = {profile: {(d["kind"], d["metadata"]["name"]) for d in docs} for profile, docs in built.items()}
    shared = set.intersection(*keys.values())
    base = {(d["kind"], d["metadata"]["name"]) for d in kustomize_build(ROOT / root / "base")}
    assert base <= shared
    policy_kinds = {"ClusterPolicy", "ValidatingPolicy"}
    for profile in PROFILE_NAMES:
        assert {k for k in keys[profile] - base if k[0] not in policy_kinds} == set(), profile
    for path in (ROOT / root / "overlays").rglob("*.yaml"):
        text = path.read_text()
        assert "syncPolicy" not in text, f"{path} repeats the base Application instead of patching it"


@cache
def platform_namespace_labels() -> dict[str, dict[str, str]]:
    """The labels of every namespace the platform creates (CDK's guards) or syncs (infra/, apps/)."""
    # Labels do not depend on the API server's CIDRs: a documentation range stands in.
    return kc.namespace_labels([*guard_manifests(api_server_cidrs=("192.0.2.0/28",)), *built_overlays()])


def enforce_failures(profile: str, obj: dict[str, Any]) -> list[str]:
    return [
        f"{r.policy}/{r.rule}: {r.message}"
        for r in kc.evaluate(guardrails(profile), obj, namespaces=platform_namespace_labels())
        if not r.passed and r.action == "Enforce"
    ]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("root", ROOTS)
def test_every_synced_object_passes_every_enforced_guardrail(root: str, profile: str) -> None:
    for obj in built_root(root, profile):
        assert enforce_failures(profile, obj) == [], f"{obj['kind']}/{obj['metadata']['name']}"


# --- The astronomy shop's pods, approximated from chart defaults + our values (chart templates are not
# available offline, so this renders the fields the guardrails read: images, resources, placement). ---


def shop_deployments(profile: str) -> list[dict[str, Any]]:
    values = astronomy_shop_values(profile)
    default = values["default"]
    tag = default["image"].get("tag") or app_version("opentelemetry-demo", profile)
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


SHOP = [(profile, d) for profile in PROFILE_NAMES for d in shop_deployments(profile)]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_shop_render_covers_every_enabled_component(profile: str) -> None:
    deployments = shop_deployments(profile)
    assert len(deployments) >= 15
    expected = {f"astronomy-shop-{name.lower()}" for name in DEMO[profile].stateful | DEMO[profile].frontends}
    assert expected <= {d["metadata"]["name"] for d in deployments}


@pytest.mark.parametrize(("profile", "deployment"), SHOP, ids=[f"{p}-{d['metadata']['name']}" for p, d in SHOP])
def test_astronomy_shop_component_passes_every_enforced_guardrail(profile: str, deployment: dict[str, Any]) -> None:
    assert enforce_failures(profile, deployment) == []


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_guardrail_check_on_shop_components_can_fail(profile: str) -> None:
    broken = copy.deepcopy(shop_deployments(profile)[0])
    broken["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/open-telemetry/demo:latest"
    assert any("disallow-latest-tag" in f for f in enforce_failures(profile, broken))

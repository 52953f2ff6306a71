"""Wiring on the real render: our monitors select a rendered port, add-ons land on the system nodes (the shop's
placement: tests/test_astronomy_shop.py),
the Kyverno policies we enforce admit everything the platform deploys, every image is pinned from an allowed
registry."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from platform_checks import kyverno_cel as kc
from platform_checks.platform_render import PlatformRender
from platform_checks.wiring import (
    all_images,
    as_admitted,
    image_errors,
    monitor_errors,
    name_of,
    placement_errors,
    workloads,
)
from platform_config import yaml_load
from platform_config.addons import addon
from platform_config.placement import (
    DO_NOT_DISRUPT,
    STATEFUL_NODE_SELECTOR,
    STATEFUL_TOLERATION,
    SYSTEM_NODE_SELECTOR,
    SYSTEM_TOLERATION,
)
from tests.conftest import ROOT
from tests.observability_helpers import DEMO

SHOP = "astronomy-shop"
# Monitors whose targets the cluster itself provides, so no chart renders them (each with the reason).
CLUSTER_PROVIDED_TARGETS = {
    "kube-prometheus-stack-apiserver": "selects default/kubernetes, the API server's own Service",
    "kube-prometheus-stack-kubelet": "selects kube-system/kubelet, the Service prometheus-operator maintains",
}
# Kyverno never sees these namespaces: its webhooks exclude them (helm_values/kyverno.yaml config.webhooks).
KYVERNO_EXCLUDED_NAMESPACES = {"kube-system", "kyverno"}


def our_monitor_names() -> set[str]:
    values = yaml_load.safe_load((ROOT / "helm_values" / "kube-prometheus-stack.yaml").read_text())["prometheus"]
    return {m["name"] for key in ("additionalServiceMonitors", "additionalPodMonitors") for m in values.get(key, [])}


def all_objects(render: PlatformRender) -> list[dict[str, Any]]:
    return [obj for _origin, obj in render.objects()]


def monitors(render: PlatformRender) -> list[dict[str, Any]]:
    return [o for o in all_objects(render) if o["kind"] in ("ServiceMonitor", "PodMonitor")]


# --- ServiceMonitor / PodMonitor -----------------------------------------------------------------------------


def test_our_monitors_are_rendered_and_each_selects_a_target_exposing_its_port(platform_render: PlatformRender) -> None:
    ours = [m for m in monitors(platform_render) if m["metadata"]["name"] in our_monitor_names()]
    assert {m["metadata"]["name"] for m in ours} == our_monitor_names() == {"argocd", "kyverno", "karpenter"}
    objects = all_objects(platform_render)
    assert [e for m in ours for e in monitor_errors(m, objects)] == []


def test_every_other_rendered_monitor_selects_a_rendered_target(platform_render: PlatformRender) -> None:
    objects = all_objects(platform_render)
    checked = [m for m in monitors(platform_render) if m["metadata"]["name"] not in CLUSTER_PROVIDED_TARGETS]
    assert len(checked) > len(our_monitor_names())
    assert [e for m in checked for e in monitor_errors(m, objects)] == []


def test_a_monitor_naming_a_port_no_target_exposes_is_caught(platform_render: PlatformRender) -> None:
    monitor = copy.deepcopy(next(m for m in monitors(platform_render) if m["metadata"]["name"] == "argocd"))
    monitor["spec"]["endpoints"] = [{"port": "metrics"}]
    errors = monitor_errors(monitor, all_objects(platform_render))
    assert len(errors) == 1
    assert "exposes a port named 'metrics'" in errors[0] and "http-metrics" in errors[0]


def test_a_pod_monitor_with_a_wrong_port_name_is_caught(platform_render: PlatformRender) -> None:
    monitor = copy.deepcopy(next(m for m in monitors(platform_render) if m["metadata"]["name"] == "karpenter"))
    monitor["spec"]["podMetricsEndpoints"] = [{"port": "metrics"}]
    assert any("Deployment/kube-system/karpenter" in e for e in monitor_errors(monitor, all_objects(platform_render)))


def test_a_monitor_selecting_nothing_is_caught(platform_render: PlatformRender) -> None:
    monitor = copy.deepcopy(next(m for m in monitors(platform_render) if m["metadata"]["name"] == "kyverno"))
    monitor["spec"]["namespaceSelector"] = {"matchNames": ["argocd"]}
    assert monitor_errors(monitor, all_objects(platform_render)) == [
        "ServiceMonitor/monitoring/kyverno: selects no rendered Service in namespace argocd "
        "(selector {'matchLabels': {'app.kubernetes.io/part-of': 'kyverno'}})"
    ]


# --- Placement contract --------------------------------------------------------------------------------------


def shop_workloads(render: PlatformRender) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(pod label, workload, pod spec) of every rendered astronomy-shop workload (label opentelemetry.io/name)."""
    return [(labels["opentelemetry.io/name"], dict(o), s) for o, s, labels in workloads(render.in_release(SHOP))]


def shop_placement_errors(render: PlatformRender, label: str, obj: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    """Stateful components (DEMO[profile].stateful) carry the On-Demand toleration and selector, others neither."""
    demo = DEMO[render.profile]
    if label in {demo.pod_label(name) for name in demo.stateful}:
        return placement_errors(obj, spec, toleration=STATEFUL_TOLERATION, node_selector=STATEFUL_NODE_SELECTOR)
    return placement_errors(obj, spec, toleration=None, node_selector=None)


def test_shop_stateful_components_are_on_demand_and_the_rest_on_spot(platform_render: PlatformRender) -> None:
    rendered = shop_workloads(platform_render)
    demo = DEMO[platform_render.profile]
    assert {demo.pod_label(n) for n in demo.stateful | demo.frontends} <= {label for label, _o, _s in rendered}
    assert [e for label, o, s in rendered for e in shop_placement_errors(platform_render, label, o, s)] == []


def test_shop_stateful_components_are_not_disrupted_by_consolidation(platform_render: PlatformRender) -> None:
    demo = DEMO[platform_render.profile]
    stateful = {demo.pod_label(n) for n in demo.stateful}
    checked = set()
    for label, obj, _spec in shop_workloads(platform_render):
        if label in stateful:
            annotations = obj["spec"]["template"]["metadata"].get("annotations") or {}
            assert annotations.get(DO_NOT_DISRUPT) == "true", label
            checked.add(label)
    assert checked == stateful, "a stateful component's pod label matched no rendered workload"


def shop_workload(render: PlatformRender, component: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The one rendered workload of a demo component, by the profile's pod label (an error if none or several)."""
    label = DEMO[render.profile].pod_label(component)
    found = [w for w in shop_workloads(render) if w[0] == label]
    assert len(found) == 1, f"{render.profile}: expected one workload labelled {label}, found {len(found)}"
    return found[0]


def test_a_dropped_toleration_on_a_stateful_shop_component_is_caught(platform_render: PlatformRender) -> None:
    label, obj, spec = shop_workload(platform_render, "kafka")
    errors = shop_placement_errors(platform_render, label, obj, {**spec, "tolerations": []})
    assert errors == [f"{name_of(obj)}: has no toleration for {STATEFUL_TOLERATION} (tolerations: [])"]


def test_a_stateless_shop_component_with_a_toleration_is_caught(platform_render: PlatformRender) -> None:
    label, obj, spec = shop_workload(platform_render, "frontend")
    errors = shop_placement_errors(platform_render, label, obj, {**spec, "tolerations": [STATEFUL_TOLERATION]})
    assert any("accepted is no toleration" in e for e in errors)


def addon_workloads(render: PlatformRender) -> list[tuple[Any, dict[str, Any]]]:
    """Pods of the add-ons whose registry record places them on the system nodes, except DaemonSets (on every node
    by design) and Prometheus itself (stateful: the On-Demand pool through the contract,
    helm_values/kube-prometheus-stack.yaml)."""
    out = []
    for key, release in render.releases.items():
        if addon(release.release).placement != "system":
            continue
        for obj, spec, _labels in workloads(render.rendered[key]):
            if obj["kind"] == "DaemonSet":
                continue
            out.append((obj, spec))
    return out


def test_platform_add_ons_run_on_the_system_node_group(platform_render: PlatformRender) -> None:
    errors = []
    for obj, spec in addon_workloads(platform_render):
        if obj["kind"] == "Prometheus":
            errors += placement_errors(obj, spec, toleration=STATEFUL_TOLERATION, node_selector=STATEFUL_NODE_SELECTOR)
        else:
            errors += placement_errors(obj, spec, toleration=SYSTEM_TOLERATION, node_selector=SYSTEM_NODE_SELECTOR)
    assert len(addon_workloads(platform_render)) >= 10
    assert errors == []


def test_an_add_on_without_the_system_selector_is_caught(platform_render: PlatformRender) -> None:
    obj, spec = next((o, s) for o, s in addon_workloads(platform_render) if o["kind"] in ("CronJob", "Job"))
    spec = {**spec, "nodeSelector": {}}
    errors = placement_errors(obj, spec, toleration=SYSTEM_TOLERATION, node_selector=SYSTEM_NODE_SELECTOR)
    assert errors == [f"{name_of(obj)}: nodeSelector {{}} lacks eks-platform.io/node-role=system"]


# --- Kyverno admission ---------------------------------------------------------------------------------------


@pytest.fixture
def enforced_policies(platform_render: PlatformRender) -> list[dict[str, Any]]:
    """The enforcing guardrails among what ArgoCD syncs (kustomize build: policy settings substituted): Kyverno 1.12
    ClusterPolicies with validationFailureAction Enforce, Kyverno 1.19 ValidatingPolicies with validationActions Deny.
    """
    return [p for p in platform_render.gitops if is_enforced(p)]


def is_enforced(policy: dict[str, Any]) -> bool:
    spec = policy.get("spec") or {}
    if policy["kind"] == "ClusterPolicy":
        return bool(spec.get("validationFailureAction") == "Enforce")
    return policy["kind"] == "ValidatingPolicy" and "Deny" in (spec.get("validationActions") or [])


def enforce_failures(
    policies: list[dict[str, Any]], obj: dict[str, Any], namespaces: kc.Namespaces | None = None
) -> list[str]:
    results = kc.evaluate(policies, as_admitted(obj), namespaces=namespaces)
    return [f"{r.policy}/{r.rule}: {r.message}" for r in results if not r.passed]


def test_enforced_policies_admit_every_object_the_platform_deploys(
    platform_render: PlatformRender, enforced_policies: list[dict[str, Any]]
) -> None:
    assert len(enforced_policies) >= 7
    admitted = [
        (origin, obj)
        for origin, obj in platform_render.objects()
        if obj["metadata"].get("namespace") not in KYVERNO_EXCLUDED_NAMESPACES
    ]
    # Each object in its namespace as the render labels it (an unlabelled one is refused by the label guardrail).
    labels = kc.namespace_labels(obj for _, obj in platform_render.objects())
    failures = [
        f"{origin}: {name_of(obj)}: {f}"
        for origin, obj in admitted
        for f in enforce_failures(enforced_policies, obj, labels)
    ]
    assert len(admitted) > 200
    assert failures == []


def test_shop_guardrail_on_the_real_render_can_fail(
    platform_render: PlatformRender, enforced_policies: list[dict[str, Any]]
) -> None:
    _label, obj, _spec = shop_workload(platform_render, "frontend")
    assert obj["kind"] == "Deployment"
    broken = copy.deepcopy(obj)
    broken["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/open-telemetry/demo:latest"
    labels = kc.namespace_labels(obj for _, obj in platform_render.objects())
    assert any(f.startswith("disallow-latest-tag/") for f in enforce_failures(enforced_policies, broken, labels))
    # The same Deployment in a namespace without a Pod Security label is refused for that alone.
    moved = copy.deepcopy(obj)
    moved["metadata"]["namespace"] = "default"
    assert [f.split("/")[0] for f in enforce_failures(enforced_policies, moved, labels)] == [
        "require-pod-security-label"
    ]


def test_admission_drops_nulls_of_built_in_kinds_only() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": {"volumes": None}}}}
    assert as_admitted(deployment)["spec"]["template"]["spec"] == {}
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "spec": {"x": None}}
    assert as_admitted(app) == app


# --- Images --------------------------------------------------------------------------------------------------


def allowed_registries(policies: list[dict[str, Any]]) -> list[str]:
    """The allowedRegistries CEL variable of the registry guardrail, as kustomize wrote it from the settings."""
    found = [v["expression"] for p in policies for v in _variables(p) if v.get("name") == "allowedRegistries"]
    assert len(set(found)) == 1, f"expected one allowedRegistries variable among the policies, found {found}"
    return [p for p in found[0].strip().strip("'").split(",") if p]


def _variables(node: Any) -> list[dict[str, Any]]:
    """Every CEL variable declared anywhere in a policy (ClusterPolicy rules or ValidatingPolicy spec)."""
    if isinstance(node, dict):
        own = [v for v in node.get("variables") or [] if isinstance(v, dict)]
        return own + [v for key, value in node.items() if key != "variables" for v in _variables(value)]
    if isinstance(node, list):
        return [v for item in node for v in _variables(item)]
    return []


def test_every_image_is_pinned_and_from_an_allowed_registry(
    platform_render: PlatformRender, enforced_policies: list[dict[str, Any]]
) -> None:
    allowed = allowed_registries(enforced_policies)
    images = [(w, i) for obj in all_objects(platform_render) for w, i in all_images(obj)]
    assert len(images) >= 40
    assert [e for where, image in images for e in image_errors(where, image, allowed)] == []


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("ghcr.io/open-telemetry/demo:latest", "uses the tag latest"),
        ("quay.io/argoproj/argocd", "has no tag or digest"),
        ("registry.example.com/app:1.0", "is not from an allowed registry"),
        ("", "image is empty"),
    ],
)
def test_an_unpinned_or_foreign_image_is_caught(image: str, message: str) -> None:
    errors = image_errors("Deployment/x/y container c", image, ["quay.io/", "ghcr.io/", "docker.io/"])
    assert any(message in e for e in errors)


def test_pinned_images_pass_including_short_docker_hub_names_and_digests() -> None:
    allowed = ["docker.io/", "quay.io/"]
    assert image_errors("w", "busybox:1.36.1", allowed) == []
    assert image_errors("w", "quay.io/x/y@sha256:" + "a" * 64, allowed) == []
    assert image_errors("w", "localhost:5000/x:1", allowed) != []


def test_the_registry_list_is_the_one_in_policy_settings(enforced_policies: list[dict[str, Any]]) -> None:
    settings = yaml_load.safe_load((ROOT / "infra" / "policies" / "settings" / "settings.yaml").read_text())
    assert allowed_registries(enforced_policies) == settings["data"]["allowedRegistries"].split(",")


def test_every_ui_port_forward_names_a_rendered_service_and_port(platform_render: PlatformRender) -> None:
    from constructs_lib.access import uis

    services = {
        (obj["metadata"].get("namespace"), obj["metadata"]["name"]): {p["port"] for p in obj["spec"].get("ports", [])}
        for _, obj in platform_render.objects()
        if obj.get("kind") == "Service"
    }
    for ui in uis(platform_render.profile).values():
        assert (ui.namespace, ui.service) in services, f"{ui.name}: no Service {ui.namespace}/{ui.service}"
        assert ui.service_port in services[(ui.namespace, ui.service)], f"{ui.name}: no port {ui.service_port}"

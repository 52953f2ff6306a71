"""The astronomy shop Application reports to the platform collector and follows the placement contract."""

from __future__ import annotations

from typing import Any

import pytest

from platform_checks import load_yaml_documents
from platform_checks.kustomize import kustomize_build
from platform_config.placement import STATEFUL_NODE_SELECTOR, STATEFUL_TOLERATION
from tests.observability_helpers import ROOT, application, astronomy_shop_values, quantity

APP_DIR = ROOT / "apps" / "astronomy-shop"
RELEASE = "astronomy-shop"
# Components that keep state in memory or on disk; everything else is stateless and belongs on Spot.
STATEFUL = {"kafka", "valkey"}
HIGHLY_AVAILABLE = {"frontend", "frontendProxy"}
SUBCHARTS = ("opentelemetry-collector", "jaeger", "prometheus", "grafana", "opensearch")
COLLECTOR = "otel-collector.observability.svc"


def _app() -> dict[str, Any]:
    return application(APP_DIR / "application.yaml", "astronomy-shop")


def _values() -> dict[str, Any]:
    values: dict[str, Any] = _app()["spec"]["source"]["helm"]["valuesObject"]
    return values


def _merged() -> dict[str, Any]:
    return astronomy_shop_values()


def _enabled_components() -> dict[str, dict[str, Any]]:
    return {name: c for name, c in _merged()["components"].items() if c.get("enabled")}


def _containers(name: str, component: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, container spec) for the main container, the init containers and the sidecars."""
    found = [(name, component)]
    found += [(f"{name}/init {c['name']}", c) for c in component.get("initContainers", [])]
    found += [(f"{name}/sidecar {c['name']}", c) for c in component.get("sidecarContainers", [])]
    return found


def test_kustomize_builds_namespace_application_and_pdbs() -> None:
    from platform_checks.manifests import validate_documents

    built = kustomize_build(APP_DIR)
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in built)
    assert kinds == [
        ("Application", "astronomy-shop"),
        ("Namespace", "astronomy-shop"),
        ("NetworkPolicy", "allow-same-namespace"),
        ("NetworkPolicy", "default-deny-ingress"),
        ("PodDisruptionBudget", "astronomy-shop-frontend"),
        ("PodDisruptionBudget", "astronomy-shop-frontendproxy"),
    ]
    assert validate_documents(built) == []
    assert {d["metadata"]["name"] for d in kustomize_build(ROOT / "apps")} >= {"astronomy-shop"}


def test_application_pins_the_chart_and_syncs_automatically() -> None:
    app = _app()
    spec = app["spec"]
    assert app["metadata"]["namespace"] == "argocd"
    assert spec["project"] == "platform"
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "astronomy-shop"}
    source = spec["source"]
    assert source["repoURL"] == "https://open-telemetry.github.io/opentelemetry-helm-charts"
    assert (source["chart"], source["targetRevision"]) == ("opentelemetry-demo", "0.33.8")
    assert source["helm"]["releaseName"] == RELEASE
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert "retry" in spec["syncPolicy"]
    assert {"CreateNamespace=true", "ServerSideApply=true"} <= set(spec["syncPolicy"]["syncOptions"])


def test_values_keys_exist_and_validate_against_the_chart_schema() -> None:
    from platform_checks.values import check_values

    assert check_values("opentelemetry-demo", _values()) == []


def test_schema_check_rejects_a_key_the_chart_does_not_know() -> None:
    from platform_checks.values import check_values

    values = _values()
    bad = {**values, "components": {**values["components"], "frontend": {"topologySpreadConstraints": []}}}
    assert any("topologySpreadConstraints" in e for e in check_values("opentelemetry-demo", bad))


@pytest.mark.parametrize("subchart", SUBCHARTS)
def test_the_charts_own_backends_are_off(subchart: str) -> None:
    assert _values()[subchart] == {"enabled": False}


def test_telemetry_goes_to_the_platform_collector() -> None:
    merged = _merged()
    overrides = {e["name"]: e.get("value") for e in merged["default"]["envOverrides"]}
    assert overrides["OTEL_COLLECTOR_NAME"] == COLLECTOR
    for name, component in _enabled_components().items():
        for env in component.get("env", []) + component.get("envOverrides", []):
            assert env["name"] != "OTEL_COLLECTOR_NAME", f"{name} overrides the collector address"
            if env["name"] == "OTEL_EXPORTER_OTLP_ENDPOINT":
                assert env["value"].startswith("http://$(OTEL_COLLECTOR_NAME):43"), name


def test_every_chart_component_is_classified_stateful_or_stateless() -> None:
    from platform_checks._facts import load_fact

    components = set(load_fact("values/opentelemetry-demo.defaults.json")["components"])
    assert components >= STATEFUL
    assert set(_enabled_components()) == components, "a chart component is disabled or unknown"


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_stateful_components_run_on_demand_and_are_not_disrupted(name: str) -> None:
    component = _enabled_components()[name]
    rules = component["schedulingRules"]
    assert rules["nodeSelector"] == STATEFUL_NODE_SELECTOR
    assert rules["tolerations"] == [STATEFUL_TOLERATION]
    assert component["podAnnotations"]["karpenter.sh/do-not-disrupt"] == "true"


def test_stateless_components_carry_no_toleration_so_they_land_on_spot() -> None:
    merged = _merged()
    assert not merged["default"]["schedulingRules"].get("tolerations")
    assert not merged["default"]["schedulingRules"].get("nodeSelector")
    for name, component in _enabled_components().items():
        if name in STATEFUL:
            continue
        rules = component.get("schedulingRules", {})
        assert not rules.get("tolerations"), f"{name} tolerates a taint"
        assert not rules.get("nodeSelector"), f"{name} selects nodes"


@pytest.mark.parametrize("name", sorted(HIGHLY_AVAILABLE))
def test_frontends_run_two_replicas_in_different_zones(name: str) -> None:
    component = _enabled_components()[name]
    assert component["replicas"] >= 2
    # The chart's Component schema has no topologySpreadConstraints; required zonal anti-affinity gives
    # the same guarantee for two replicas.
    terms = component["schedulingRules"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert terms == [
        {
            "topologyKey": "topology.kubernetes.io/zone",
            "labelSelector": {"matchLabels": {"opentelemetry.io/name": f"{RELEASE}-{name.lower()}"}},
        }
    ]


@pytest.mark.parametrize("name", sorted(HIGHLY_AVAILABLE))
def test_frontends_have_a_pdb_selecting_the_chart_pod_label(name: str) -> None:
    pdbs = {d["metadata"]["name"]: d for d in load_yaml_documents(APP_DIR / "pdb.yaml")}
    pdb = pdbs[f"{RELEASE}-{name.lower()}"]
    assert pdb["metadata"]["namespace"] == "astronomy-shop"
    assert pdb["spec"]["selector"] == {"matchLabels": {"opentelemetry.io/name": f"{RELEASE}-{name.lower()}"}}
    assert 1 <= pdb["spec"]["minAvailable"] < _enabled_components()[name]["replicas"]


def test_every_enabled_container_has_cpu_and_memory_requests_and_limits() -> None:
    for name, component in _enabled_components().items():
        for where, container in _containers(name, component):
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    assert resource in resources.get(kind, {}), f"{where} has no {kind}.{resource}"
                    assert quantity(resources["limits"][resource]) >= quantity(resources["requests"][resource])


def test_helper_containers_use_pinned_images() -> None:
    for name, component in _enabled_components().items():
        for where, container in _containers(name, component)[1:]:
            image = container.get("image")
            if image:
                assert ":" in image and not image.endswith(":latest"), f"{where} uses {image}"

"""The astronomy shop Application, per release profile, reports to the platform collector and follows the
placement contract."""

from __future__ import annotations

from typing import Any

import pytest

from platform_checks.kustomize import kustomize_build
from platform_config import versions, yaml_load
from platform_config.placement import STATEFUL_NODE_SELECTOR, STATEFUL_TOLERATION
from tests.conftest import PROFILE_NAMES
from tests.observability_helpers import DEMO, ROOT, application, astronomy_shop_values, helm_values, quantity, synced

APP_DIR = ROOT / "apps" / "astronomy-shop"
RELEASE = "astronomy-shop"
SUBCHARTS = ("opentelemetry-collector", "jaeger", "prometheus", "grafana", "opensearch")
COLLECTOR = "otel-collector.observability.svc"
STATEFUL = [(p, name) for p in PROFILE_NAMES for name in sorted(DEMO[p].stateful)]
FRONTENDS = [(p, name) for p in PROFILE_NAMES for name in sorted(DEMO[p].frontends)]


def _values(profile: str) -> dict[str, Any]:
    return helm_values("apps", profile, RELEASE)


def _enabled_components(profile: str) -> dict[str, dict[str, Any]]:
    return {name: c for name, c in astronomy_shop_values(profile)["components"].items() if c.get("enabled")}


def _containers(name: str, component: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, container spec) for the main container, the init containers and the sidecars."""
    found = [(name, component)]
    found += [(f"{name}/init {c['name']}", c) for c in component.get("initContainers", [])]
    found += [(f"{name}/sidecar {c['name']}", c) for c in component.get("sidecarContainers", [])]
    return found


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_kustomize_builds_namespace_application_and_pdbs(profile: str) -> None:
    from platform_checks.manifests import validate_documents

    built = synced("apps", profile)
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in built if d["kind"] != "NetworkPolicy")
    # Every NetworkPolicy of network-policies.yaml is synced (tests/test_network_policies.py checks what they do).
    declared = {d["metadata"]["name"] for d in yaml_load.safe_load_all((APP_DIR / "network-policies.yaml").read_text())}
    assert {d["metadata"]["name"] for d in built if d["kind"] == "NetworkPolicy"} == declared
    assert kinds == [
        ("Application", "astronomy-shop"),
        ("Namespace", "astronomy-shop"),
        ("PodDisruptionBudget", "astronomy-shop-frontend"),
        ("PodDisruptionBudget", "astronomy-shop-frontendproxy"),
        ("Policy", "frontend-proxy-drain"),
        ("ServiceAccount", "astronomy-shop"),
    ]
    assert validate_documents(built, profile=profile) == []
    assert {d["metadata"]["name"] for d in kustomize_build(APP_DIR)} >= {"astronomy-shop"}


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_application_pins_the_profiles_chart_and_syncs_automatically(profile: str) -> None:
    app = application("apps", profile, RELEASE)
    spec = app["spec"]
    pin = versions.PROFILES[profile].charts["opentelemetry-demo"]
    assert app["metadata"]["namespace"] == "argocd"
    assert spec["project"] == "platform"
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "astronomy-shop"}
    source = spec["source"]
    assert source["repoURL"] == pin.repository == "https://open-telemetry.github.io/opentelemetry-helm-charts"
    assert (source["chart"], source["targetRevision"]) == ("opentelemetry-demo", pin.version)
    assert source["helm"]["releaseName"] == RELEASE
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert "retry" in spec["syncPolicy"]
    assert {"CreateNamespace=true", "ServerSideApply=true"} <= set(spec["syncPolicy"]["syncOptions"])


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_values_keys_exist_and_validate_against_the_chart_schema(profile: str) -> None:
    from platform_checks.values import check_values

    assert check_values("opentelemetry-demo", _values(profile), profile=profile) == []


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_schema_check_rejects_a_key_the_chart_does_not_know(profile: str) -> None:
    from platform_checks.values import check_values

    values = _values(profile)
    bad = {**values, "components": {**values["components"], "frontend": {"topologySpreadConstraints": []}}}
    assert any("topologySpreadConstraints" in e for e in check_values("opentelemetry-demo", bad, profile=profile))


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("subchart", SUBCHARTS)
def test_the_charts_own_backends_are_off(subchart: str, profile: str) -> None:
    assert _values(profile)[subchart] == {"enabled": False}


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_telemetry_goes_to_the_platform_collector(profile: str) -> None:
    merged = astronomy_shop_values(profile)
    overrides = {e["name"]: e.get("value") for e in merged["default"]["envOverrides"]}
    assert overrides["OTEL_COLLECTOR_NAME"] == COLLECTOR
    for name, component in _enabled_components(profile).items():
        for env in component.get("env", []) + component.get("envOverrides", []):
            assert env["name"] != "OTEL_COLLECTOR_NAME", f"{name} overrides the collector address"
            if env["name"] == "OTEL_EXPORTER_OTLP_ENDPOINT":
                assert env["value"].startswith("http://$(OTEL_COLLECTOR_NAME):43"), name


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_chart_component_is_classified_and_only_the_documented_ones_are_off(profile: str) -> None:
    from platform_checks.upstream_facts import load_fact

    components = set(load_fact("values/opentelemetry-demo.defaults.json", profile)["components"])
    assert components >= DEMO[profile].stateful | DEMO[profile].frontends
    assert set(_enabled_components(profile)) == components - DEMO[profile].disabled


def test_ai_components_are_off_and_carry_no_credentials() -> None:
    components = _values("current")["components"]
    for name in ("agent", "chatbot", "mcp"):
        assert components[name] == {"enabled": False}, name


@pytest.mark.parametrize(("profile", "name"), STATEFUL, ids=[f"{p}-{n}" for p, n in STATEFUL])
def test_stateful_components_run_on_demand_and_are_not_disrupted(profile: str, name: str) -> None:
    component = _enabled_components(profile)[name]
    rules = component["schedulingRules"]
    assert rules["nodeSelector"] == STATEFUL_NODE_SELECTOR
    assert rules["tolerations"] == [STATEFUL_TOLERATION]
    assert component["podAnnotations"]["karpenter.sh/do-not-disrupt"] == "true"


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_stateless_components_carry_no_toleration_so_they_land_on_spot(profile: str) -> None:
    merged = astronomy_shop_values(profile)
    assert not merged["default"]["schedulingRules"].get("tolerations")
    assert not merged["default"]["schedulingRules"].get("nodeSelector")
    for name, component in _enabled_components(profile).items():
        if name in DEMO[profile].stateful:
            continue
        rules = component.get("schedulingRules", {})
        assert not rules.get("tolerations"), f"{name} tolerates a taint"
        assert not rules.get("nodeSelector"), f"{name} selects nodes"


@pytest.mark.parametrize(("profile", "name"), FRONTENDS, ids=[f"{p}-{n}" for p, n in FRONTENDS])
def test_frontends_run_two_replicas_in_different_zones(profile: str, name: str) -> None:
    component = _enabled_components(profile)[name]
    assert component["replicas"] >= 2
    # The chart's Component schema has no topologySpreadConstraints; required zonal anti-affinity gives
    # the same guarantee for two replicas.
    terms = component["schedulingRules"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert terms == [
        {
            "topologyKey": "topology.kubernetes.io/zone",
            "labelSelector": {"matchLabels": {"opentelemetry.io/name": DEMO[profile].pod_label(name)}},
        }
    ]


@pytest.mark.parametrize(("profile", "name"), FRONTENDS, ids=[f"{p}-{n}" for p, n in FRONTENDS])
def test_frontends_have_a_pdb_selecting_the_chart_pod_label(profile: str, name: str) -> None:
    pdbs = {d["metadata"]["name"]: d for d in synced("apps", profile) if d["kind"] == "PodDisruptionBudget"}
    pdb = pdbs[f"{RELEASE}-{name.lower().replace('-', '')}"]
    assert pdb["metadata"]["namespace"] == "astronomy-shop"
    assert pdb["spec"]["selector"] == {"matchLabels": {"opentelemetry.io/name": DEMO[profile].pod_label(name)}}
    assert 1 <= pdb["spec"]["minAvailable"] < _enabled_components(profile)[name]["replicas"]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_enabled_container_has_cpu_and_memory_requests_and_limits(profile: str) -> None:
    for name, component in _enabled_components(profile).items():
        for where, container in _containers(name, component):
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    assert resource in resources.get(kind, {}), f"{where} has no {kind}.{resource}"
                    assert quantity(resources["limits"][resource]) >= quantity(resources["requests"][resource])


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_helper_containers_use_pinned_images(profile: str) -> None:
    checked = 0
    for name, component in _enabled_components(profile).items():
        for where, container in _containers(name, component)[1:]:
            image = container.get("image")
            if image:
                assert ":" in image and not image.endswith(":latest"), f"{where} uses {image}"
                checked += 1
    assert checked >= 5, f"only {checked} helper containers with an image: the walk missed the demo's helpers"


def test_no_literal_secret_reaches_the_demo_values() -> None:
    """flagd-ui's SECRET_KEY_BASE is derived from the pod's uid at start-up, never a value in git."""
    (sidecar,) = _values("current")["components"]["flagd"]["sidecarContainers"]
    env = {e["name"]: e for e in sidecar["env"]}
    assert env["SECRET_KEY_BASE"]["value"] == "$(POD_UID)$(POD_UID)"
    assert env["POD_UID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.uid"}}
    names = [e["name"] for e in sidecar["env"]]
    assert names.index("POD_UID") < names.index("SECRET_KEY_BASE"), "Kubernetes expands only earlier variables"

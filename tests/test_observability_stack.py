"""The OpenTelemetry collector and Jaeger Applications, per release profile: pinned charts, valid values,
wired to each other."""

from __future__ import annotations

from typing import Any

import pytest

from platform_checks import load_yaml_documents
from platform_checks.kustomize import kustomize_build
from platform_config import versions
from tests.conftest import PROFILE_NAMES
from tests.observability_helpers import ROOT, application, helm_values, quantity

OBS_DIR = ROOT / "infra" / "observability"
# Where traces go, by Jaeger chart major: Jaeger v1 (chart 3) has a collector Service "<release>-collector";
# Jaeger v2 (chart 4) has one Service "<release>" with OTLP on 4317. The collector names its OTLP gRPC
# exporter otlp_grpc since 0.144 (otlp is a deprecated alias). Image: Docker Hub until the collector moved.
TRACES = {
    "seed": ("otlp/jaeger", "jaeger-collector.observability.svc:4317", "otel/opentelemetry-collector-contrib"),
    "current": (
        "otlp_grpc/jaeger",
        "jaeger.observability.svc:4317",
        "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib",
    ),
}


def _values(profile: str, name: str) -> dict[str, Any]:
    return helm_values("infra", profile, name)


def test_kustomize_builds_namespace_applications_and_rules() -> None:
    from platform_checks.manifests import validate_documents

    built = kustomize_build(OBS_DIR)
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in built)
    assert kinds == [
        ("Application", "jaeger"),
        ("Application", "otel-collector"),
        ("Namespace", "observability"),
        ("NetworkPolicy", "allow-jaeger-otlp-from-collector"),
        ("NetworkPolicy", "allow-jaeger-query-from-shop-proxy"),
        ("NetworkPolicy", "allow-otlp-from-shop"),
        ("NetworkPolicy", "allow-prometheus-scrape"),
        ("NetworkPolicy", "default-deny-ingress"),
        ("PrometheusRule", "karpenter-platform"),
    ]
    for profile in PROFILE_NAMES:
        assert validate_documents(built, profile=profile) == []


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize(
    ("name", "repo", "chart"),
    [
        ("otel-collector", "https://open-telemetry.github.io/opentelemetry-helm-charts", "opentelemetry-collector"),
        ("jaeger", "https://jaegertracing.github.io/helm-charts", "jaeger"),
    ],
)
def test_applications_pin_the_profiles_chart_and_sync_automatically(
    name: str, repo: str, chart: str, profile: str
) -> None:
    app = application("infra", profile, name)
    spec = app["spec"]
    pin = versions.PROFILES[profile].charts[chart]
    assert app["metadata"]["namespace"] == "argocd"
    assert spec["project"] == "platform"
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "observability"}
    assert (spec["source"]["repoURL"], spec["source"]["chart"], spec["source"]["targetRevision"]) == (
        repo,
        chart,
        pin.version,
    )
    assert pin.repository == repo
    assert spec["source"]["helm"]["releaseName"] == name
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert {"CreateNamespace=true", "ServerSideApply=true"} <= set(spec["syncPolicy"]["syncOptions"])


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_collector_values_exist_in_the_chart_and_pass_its_schema(profile: str) -> None:
    from platform_checks.values import check_values

    assert check_values("opentelemetry-collector", _values(profile, "otel-collector"), profile=profile) == []


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_jaeger_values_exist_in_the_chart(profile: str) -> None:
    from platform_checks.values import check_values

    assert check_values("jaeger", _values(profile, "jaeger"), profile=profile) == []


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_collector_is_a_two_replica_contrib_deployment_named_for_the_platform(profile: str) -> None:
    values = _values(profile, "otel-collector")
    assert values["mode"] == "deployment"
    assert values["replicaCount"] == 2
    assert values["fullnameOverride"] == "otel-collector"
    assert values["image"]["repository"] == TRACES[profile][2]
    assert values["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
    spread = values["topologySpreadConstraints"][0]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "otel-collector"


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_collector_receives_otlp_and_exports_traces_to_jaeger_and_metrics_to_prometheus(profile: str) -> None:
    exporter, endpoint, _ = TRACES[profile]
    values = _values(profile, "otel-collector")
    config = values["config"]
    assert set(config["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    assert config["receivers"]["jaeger"] is None and config["receivers"]["zipkin"] is None
    assert config["exporters"][exporter]["endpoint"] == endpoint
    traces = [name for name in config["exporters"] if "jaeger" in name]
    assert traces == [exporter], "one trace exporter, named for the profile's collector"
    pipelines = config["service"]["pipelines"]
    assert pipelines["traces"]["receivers"] == ["otlp"]
    assert pipelines["traces"]["exporters"] == [exporter]
    assert pipelines["metrics"]["exporters"] == ["prometheus"]
    port = config["exporters"]["prometheus"]["endpoint"].rsplit(":", 1)[1]
    assert values["ports"]["prom-exporter"] == {
        "enabled": True,
        "containerPort": int(port),
        "servicePort": int(port),
        "protocol": "TCP",
    }
    assert values["ports"]["metrics"]["enabled"] is True
    scraped = {e["port"] for e in values["serviceMonitor"]["metricsEndpoints"]}
    assert values["serviceMonitor"]["enabled"] is True
    assert scraped == {"metrics", "prom-exporter"}


JAEGER_RESOURCES = {"seed": ("allInOne", "resources"), "current": ("jaeger", "resources")}
WORKLOADS = [
    (profile, name, path)
    for profile in PROFILE_NAMES
    for name, path in (("otel-collector", ("resources",)), ("jaeger", JAEGER_RESOURCES[profile]))
]


@pytest.mark.parametrize(("profile", "name", "path"), WORKLOADS, ids=[f"{p}-{n}" for p, n, _ in WORKLOADS])
def test_workloads_have_cpu_and_memory_requests_and_limits(profile: str, name: str, path: tuple[str, ...]) -> None:
    resources: Any = _values(profile, name)
    for key in path:
        resources = resources[key]
    for resource in ("cpu", "memory"):
        assert quantity(resources["limits"][resource]) >= quantity(resources["requests"][resource]) > 0


def test_seed_jaeger_v1_is_all_in_one_with_bounded_memory_storage_and_no_cassandra() -> None:
    values = _values("seed", "jaeger")
    assert values["provisionDataStore"]["cassandra"] is False
    assert values["storage"]["type"] == "memory"
    assert values["allInOne"]["enabled"] is True
    assert any(a.startswith("--memory.max-traces=") and int(a.split("=")[1]) > 0 for a in values["allInOne"]["args"])
    for component in ("agent", "collector", "query"):
        assert values[component] == {"enabled": False}, component


def test_current_jaeger_v2_keeps_a_bounded_memory_store_and_takes_otlp() -> None:
    values = _values("current", "jaeger")
    assert values["jaeger"]["replicas"] == 1
    config = values["userconfig"]
    backends = config["extensions"]["jaeger_storage"]["backends"]
    (store,) = backends
    assert set(backends[store]) == {"memory"} and backends[store]["memory"]["max_traces"] > 0
    assert config["extensions"]["jaeger_query"]["storage"]["traces"] == store
    assert config["exporters"]["jaeger_storage_exporter"]["trace_storage"] == store
    assert config["service"]["pipelines"]["traces"]["receivers"] == ["otlp"]
    protocols = config["receivers"]["otlp"]["protocols"]
    assert (protocols["grpc"]["endpoint"], protocols["http"]["endpoint"]) == ("0.0.0.0:4317", "0.0.0.0:4318")
    # The chart's probes call /status on 13133: the health check extension must serve it.
    assert "healthcheckv2" in config["service"]["extensions"]
    assert config["extensions"]["healthcheckv2"]["http"]["endpoint"].endswith(":13133")


@pytest.mark.parametrize("root", ["infra", "apps"])
def test_base_and_overlays_list_the_gitops_directories(root: str) -> None:
    base = load_yaml_documents(ROOT / root / "base" / "kustomization.yaml")[0]
    assert base["resources"] == (["../observability", "../dashboards"] if root == "infra" else ["../astronomy-shop"])
    for profile in PROFILE_NAMES:
        overlay = load_yaml_documents(ROOT / root / "overlays" / profile / "kustomization.yaml")[0]
        assert overlay["resources"] == (["../../base", "policies"] if root == "infra" else ["../../base"])

"""The OpenTelemetry collector and Jaeger Applications: pinned charts, valid values, wired to each other."""

from __future__ import annotations

from typing import Any

import pytest

from platform_checks import load_yaml_documents
from platform_checks.kustomize import kustomize_build
from tests.observability_helpers import ROOT, application, quantity

OBS_DIR = ROOT / "infra" / "observability"


def _values(name: str) -> dict[str, Any]:
    values: dict[str, Any] = application(OBS_DIR / f"{name}.yaml", name)["spec"]["source"]["helm"]["valuesObject"]
    return values


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
    assert validate_documents(built) == []


@pytest.mark.parametrize(
    ("name", "repo", "chart", "version"),
    [
        (
            "otel-collector",
            "https://open-telemetry.github.io/opentelemetry-helm-charts",
            "opentelemetry-collector",
            "0.110.3",
        ),
        ("jaeger", "https://jaegertracing.github.io/helm-charts", "jaeger", "3.3.3"),
    ],
)
def test_applications_pin_their_chart_and_sync_automatically(name: str, repo: str, chart: str, version: str) -> None:
    app = application(OBS_DIR / f"{name}.yaml", name)
    spec = app["spec"]
    assert app["metadata"]["namespace"] == "argocd"
    assert spec["project"] == "platform"
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "observability"}
    assert (spec["source"]["repoURL"], spec["source"]["chart"], spec["source"]["targetRevision"]) == (
        repo,
        chart,
        version,
    )
    assert spec["source"]["helm"]["releaseName"] == name
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert {"CreateNamespace=true", "ServerSideApply=true"} <= set(spec["syncPolicy"]["syncOptions"])


def test_collector_values_exist_in_the_chart_and_pass_its_schema() -> None:
    from platform_checks.values import check_values

    assert check_values("opentelemetry-collector", _values("otel-collector")) == []


def test_jaeger_values_exist_in_the_chart() -> None:
    from platform_checks.values import check_values

    assert check_values("jaeger", _values("jaeger")) == []


def test_collector_is_a_two_replica_contrib_deployment_named_for_the_platform() -> None:
    values = _values("otel-collector")
    assert values["mode"] == "deployment"
    assert values["replicaCount"] == 2
    assert values["fullnameOverride"] == "otel-collector"
    assert values["image"]["repository"] == "otel/opentelemetry-collector-contrib"
    assert values["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
    spread = values["topologySpreadConstraints"][0]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "otel-collector"


def test_collector_receives_otlp_and_exports_traces_to_jaeger_and_metrics_to_prometheus() -> None:
    values = _values("otel-collector")
    config = values["config"]
    assert set(config["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    assert config["receivers"]["jaeger"] is None and config["receivers"]["zipkin"] is None
    assert config["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger-collector.observability.svc:4317"
    pipelines = config["service"]["pipelines"]
    assert pipelines["traces"]["receivers"] == ["otlp"]
    assert pipelines["traces"]["exporters"] == ["otlp/jaeger"]
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


@pytest.mark.parametrize(("name", "path"), [("otel-collector", ("resources",)), ("jaeger", ("allInOne", "resources"))])
def test_workloads_have_cpu_and_memory_requests_and_limits(name: str, path: tuple[str, ...]) -> None:
    resources: Any = _values(name)
    for key in path:
        resources = resources[key]
    for resource in ("cpu", "memory"):
        assert quantity(resources["limits"][resource]) >= quantity(resources["requests"][resource]) > 0


def test_jaeger_is_all_in_one_with_bounded_memory_storage_and_no_cassandra() -> None:
    values = _values("jaeger")
    assert values["provisionDataStore"]["cassandra"] is False
    assert values["storage"]["type"] == "memory"
    assert values["allInOne"]["enabled"] is True
    assert any(a.startswith("--memory.max-traces=") and int(a.split("=")[1]) > 0 for a in values["allInOne"]["args"])
    for component in ("agent", "collector", "query"):
        assert values[component] == {"enabled": False}, component


def test_root_kustomizations_list_the_gitops_directories() -> None:
    infra = load_yaml_documents(ROOT / "infra" / "kustomization.yaml")[0]
    apps = load_yaml_documents(ROOT / "apps" / "kustomization.yaml")[0]
    assert infra["resources"] == ["policies", "observability", "dashboards"]
    assert apps["resources"] == ["astronomy-shop"]

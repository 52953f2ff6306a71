"""NetworkPolicies: default-deny ingress in every platform namespace, and every flow the platform needs admitted."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.namespace_guards import CDK_NAMESPACES, NODE_EXPORTER_NAMESPACE, PROMETHEUS_POD, guard_manifests
from platform_checks.netpol import Flow, admits, blocked, policies_in, scrape_flows
from platform_checks.platform_render import PlatformRender
from tests.gitops_overlays import built_overlays

PROMETHEUS = {"src_namespace": "monitoring", "src_labels": PROMETHEUS_POD}
SHOP_PROXY = {
    "src_namespace": "astronomy-shop",
    "src_labels": {"app.kubernetes.io/component": "frontend-proxy", "app.kubernetes.io/name": "frontend-proxy"},
}
SHOP_POD = {"src_namespace": "astronomy-shop", "src_labels": {"app.kubernetes.io/component": "cartservice"}}
COLLECTOR = {"app.kubernetes.io/name": "opentelemetry-collector", "app.kubernetes.io/instance": "otel-collector"}
JAEGER = {"app.kubernetes.io/name": "jaeger", "app.kubernetes.io/component": "all-in-one"}
GRAFANA = {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "kube-prometheus-stack"}

# The platform's flows with the pod labels and ports of the pinned charts (helm template of each release).
PLATFORM_FLOWS = [
    Flow("shop sends OTLP gRPC", "observability", COLLECTOR, 4317, "otlp", **SHOP_POD),
    Flow("shop sends OTLP HTTP", "observability", COLLECTOR, 4318, "otlp-http", **SHOP_POD),
    Flow("collector exports traces", "observability", JAEGER, 4317, None, "observability", COLLECTOR),
    Flow("shop proxy serves Jaeger UI", "observability", JAEGER, 16686, None, **SHOP_PROXY),
    Flow("shop proxy serves Grafana", "monitoring", GRAFANA, 3000, "grafana", **SHOP_PROXY),
    Flow("scrape collector telemetry", "observability", COLLECTOR, 8888, "metrics", **PROMETHEUS),
    Flow("scrape collector exporter", "observability", COLLECTOR, 8889, "prom-exporter", **PROMETHEUS),
    Flow(
        "API server calls Kyverno's webhook",
        "kyverno",
        {"app.kubernetes.io/component": "admission-controller", "app.kubernetes.io/part-of": "kyverno"},
        9443,
        "https",
    ),
    Flow(
        "API server calls Kyverno's cleanup webhook",
        "kyverno",
        {"app.kubernetes.io/component": "cleanup-controller", "app.kubernetes.io/part-of": "kyverno"},
        9443,
        "https",
    ),
    Flow(
        "scrape Kyverno",
        "kyverno",
        {"app.kubernetes.io/component": "reports-controller", "app.kubernetes.io/part-of": "kyverno"},
        8000,
        "metrics-port",
        **PROMETHEUS,
    ),
    # The background controller names its 8000 port "metrics": an allow by port name would miss it.
    Flow(
        "scrape Kyverno's background controller",
        "kyverno",
        {"app.kubernetes.io/component": "background-controller", "app.kubernetes.io/part-of": "kyverno"},
        8000,
        "metrics",
        **PROMETHEUS,
    ),
    Flow(
        "API server calls the prometheus-operator webhook",
        "monitoring",
        {"app": "kube-prometheus-stack-operator"},
        10250,
        "https",
    ),
    Flow("scrape Grafana", "monitoring", GRAFANA, 3000, "grafana", **PROMETHEUS),
    Flow("Grafana queries Prometheus", "monitoring", PROMETHEUS_POD, 9090, "http-web", "monitoring", GRAFANA),
    Flow("shop services call each other", "astronomy-shop", {"app.kubernetes.io/component": "cart"}, 8080, **SHOP_POD),
]


def all_policies() -> list[dict[str, Any]]:
    git = list(built_overlays())
    return policies_in([*guard_manifests(), *git])


def test_every_flow_the_platform_needs_is_admitted() -> None:
    assert blocked(all_policies(), PLATFORM_FLOWS) == []


@pytest.mark.parametrize(
    "flow",
    [
        Flow("shop reaches Prometheus", "monitoring", PROMETHEUS_POD, 9090, "http-web", **SHOP_POD),
        Flow("shop reaches Alertmanager", "monitoring", {"app.kubernetes.io/name": "alertmanager"}, 9093, **SHOP_POD),
        Flow("shop reaches Kyverno's metrics", "kyverno", {"app.kubernetes.io/part-of": "kyverno"}, 8000, **SHOP_POD),
        Flow("shop reaches Jaeger's collector", "observability", JAEGER, 4317, **SHOP_POD),
        Flow("collector reaches the shop", "astronomy-shop", {"app": "x"}, 8080, None, "observability", COLLECTOR),
        Flow("outside reaches Grafana", "monitoring", GRAFANA, 3000, "grafana"),
    ],
    ids=lambda f: f.what,
)
def test_what_the_shop_must_not_reach_is_denied(flow: Flow) -> None:
    assert not admits(all_policies(), flow)


def test_every_platform_namespace_denies_ingress_by_default() -> None:
    policies = all_policies()
    defaults = {
        p["metadata"]["namespace"]
        for p in policies
        if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress") and "Ingress" in p["spec"]["policyTypes"]
    }
    # argocd's default deny comes with its chart release (tests/test_argocd_hardening.py checks the render);
    # node-exporter runs on the host network, where NetworkPolicies do not apply.
    expected = (set(CDK_NAMESPACES) | {"observability", "astronomy-shop"}) - {"argocd", NODE_EXPORTER_NAMESPACE}
    assert defaults == expected


SERVICE_FIXTURE = [
    {
        "kind": "ServiceMonitor",
        "metadata": {"name": "collector", "namespace": "observability"},
        "spec": {"selector": {"matchLabels": {"app": "c"}}, "endpoints": [{"port": "metrics"}, {"port": "debug"}]},
    },
    {
        "kind": "Service",
        "metadata": {"name": "collector", "namespace": "observability", "labels": {"app": "c"}},
        "spec": {
            "selector": COLLECTOR,
            "ports": [{"name": "metrics", "port": 8888, "targetPort": "metrics"}, {"name": "debug", "port": 55679}],
        },
    },
    {
        "kind": "Deployment",
        "metadata": {"name": "collector", "namespace": "observability"},
        "spec": {
            "template": {
                "metadata": {"labels": COLLECTOR},
                "spec": {"containers": [{"name": "c", "ports": [{"name": "metrics", "containerPort": 8888}]}]},
            }
        },
    },
]


def test_scrape_flows_resolve_service_monitors_to_pod_ports() -> None:
    flows = scrape_flows(SERVICE_FIXTURE, prometheus_namespace="monitoring", prometheus_labels=PROMETHEUS_POD)
    assert [(f.dst_namespace, f.port, f.port_name, dict(f.dst_labels)) for f in flows] == [
        ("observability", 8888, "metrics", COLLECTOR),
        ("observability", 55679, None, COLLECTOR),
    ]


def test_a_scraped_service_port_no_policy_allows_is_reported() -> None:
    flows = scrape_flows(SERVICE_FIXTURE, prometheus_namespace="monitoring", prometheus_labels=PROMETHEUS_POD)
    assert blocked(all_policies(), flows) == [
        "scrape collector collector:debug: monitoring -> observability:55679",
    ]


def test_the_rendered_shop_proxy_of_each_profile_reaches_grafana_and_jaeger(platform_render: PlatformRender) -> None:
    # The proxy's pod labels differ by demo release (frontendproxy in 1.x, frontend-proxy in 3.0): take them
    # from the profile's own render, not from a hand-typed fixture.
    (proxy,) = [
        obj
        for _, obj in platform_render.objects()
        if obj.get("kind") == "Deployment"
        and obj["metadata"].get("namespace") == "astronomy-shop"
        and obj["metadata"]["name"].replace("-", "").endswith("frontendproxy")
    ]
    source = {"src_namespace": "astronomy-shop", "src_labels": proxy["spec"]["template"]["metadata"]["labels"]}
    flows = [
        Flow("shop proxy serves Jaeger UI", "observability", JAEGER, 16686, None, **source),
        Flow("shop proxy serves Grafana", "monitoring", GRAFANA, 3000, "grafana", **source),
    ]
    policies = policies_in([*guard_manifests(), *built_overlays(platform_render.profile)])
    assert blocked(policies, flows) == []


def test_a_monitor_of_any_namespace_scrapes_the_pods_wherever_they_are() -> None:
    monitor = {
        "kind": "ServiceMonitor",
        "metadata": {"name": "anywhere", "namespace": "monitoring"},
        "spec": {
            "namespaceSelector": {"any": True},
            "selector": {"matchLabels": {"app": "c"}},
            "endpoints": [{"port": "metrics"}],
        },
    }
    flows = scrape_flows([monitor, *SERVICE_FIXTURE[1:]], prometheus_namespace="monitoring", prometheus_labels={})
    assert [(f.dst_namespace, f.port, f.port_name) for f in flows] == [("observability", 8888, "metrics")]


def test_a_cronjobs_pods_are_scrape_targets_like_any_workloads() -> None:
    pods = {
        "metadata": {"labels": {"app": "job"}},
        "spec": {"containers": [{"name": "j", "ports": [{"name": "metrics", "containerPort": 9100}]}]},
    }
    cronjob = {
        "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "observability"},
        "spec": {"jobTemplate": {"spec": {"template": pods}}},
    }
    monitor = {
        "kind": "PodMonitor",
        "metadata": {"name": "report", "namespace": "observability"},
        "spec": {"selector": {"matchLabels": {"app": "job"}}, "podMetricsEndpoints": [{"port": "metrics"}]},
    }
    flows = scrape_flows([monitor, cronjob], prometheus_namespace="monitoring", prometheus_labels={})
    assert [(f.dst_namespace, f.port, f.port_name) for f in flows] == [("observability", 9100, "metrics")]

"""NetworkPolicies: default-deny ingress in every platform namespace, default-deny egress in the shop's, every flow
the platform needs admitted (the shop's derived from its rendered env), and the webhooks open only to the control
plane's subnets."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import Any

import pytest

from constructs_lib.namespace_guards import CDK_NAMESPACES, NODE_EXPORTER_NAMESPACE, PROMETHEUS_POD, guard_manifests
from constructs_lib.network import CONTROL_PLANE_SUBNET_NAME, PlatformVpc
from platform_checks.endpoints import Endpoint, declared_endpoints, endpoint_flows
from platform_checks.netpol import (
    Flow,
    admits,
    admits_egress,
    blocked,
    connects,
    pod_templates,
    policies_in,
    scrape_flows,
)
from platform_checks.platform_render import PlatformRender
from platform_checks.wiring import pod_template
from tests.gitops_overlays import built_overlays
from tests.stack_fixtures import config, stack

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
    Flow("scrape Grafana", "monitoring", GRAFANA, 3000, "grafana", **PROMETHEUS),
    Flow("Grafana queries Prometheus", "monitoring", PROMETHEUS_POD, 9090, "http-web", "monitoring", GRAFANA),
    Flow("shop services call each other", "astronomy-shop", {"app.kubernetes.io/component": "cart"}, 8080, **SHOP_POD),
]

# The webhooks the API server calls: (what, namespace, pod labels, port, port name) of the pinned charts.
WEBHOOKS = [
    (
        "Kyverno's webhook",
        "kyverno",
        {"app.kubernetes.io/component": "admission-controller", "app.kubernetes.io/part-of": "kyverno"},
        9443,
        "https",
    ),
    (
        "Kyverno's cleanup webhook",
        "kyverno",
        {"app.kubernetes.io/component": "cleanup-controller", "app.kubernetes.io/part-of": "kyverno"},
        9443,
        "https",
    ),
    ("the prometheus-operator webhook", "monitoring", {"app": "kube-prometheus-stack-operator"}, 10250, "https"),
    (
        "the load balancer controller's webhook",
        "aws-load-balancer-controller",
        {"app.kubernetes.io/name": "aws-load-balancer-controller"},
        9443,
        "webhook-server",
    ),
]


@cache
def vpc_subnets() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(control-plane CIDRs, private CIDRs) of the fixed configuration's VPC, as the network stack hands them on."""
    cfg = config()
    network = PlatformVpc(stack(cfg), "Network", config=cfg)
    return network.control_plane_cidrs, tuple(s.ipv4_cidr_block for s in network.vpc.private_subnets)


def host_in(cidr: str) -> str:
    """The last usable address of a subnet (AWS reserves the first four and the last)."""
    return str(ipaddress.ip_network(cidr)[-2])


def webhook_flows(src_ip: str, src: dict[str, Any] | None = None) -> list[Flow]:
    return [Flow(f"calls {what}", ns, labels, port, name, src_ip=src_ip, **(src or {})) for what, ns, labels, port,
            name in WEBHOOKS]  # fmt: skip


def all_policies() -> list[dict[str, Any]]:
    git = list(built_overlays())
    return policies_in([*guard_manifests(api_server_cidrs=vpc_subnets()[0]), *git])


def test_every_flow_the_platform_needs_is_admitted() -> None:
    assert blocked(all_policies(), PLATFORM_FLOWS) == []


def test_the_api_server_reaches_every_webhook_from_each_control_plane_subnet() -> None:
    flows = [f for cidr in vpc_subnets()[0] for f in webhook_flows(host_in(cidr))]
    assert blocked(all_policies(), flows) == []


def test_webhook_ports_refuse_nodes_and_pods_of_the_private_subnets() -> None:
    policies = all_policies()
    for cidr in vpc_subnets()[1]:
        # A node (host network) and a shop pod: both have addresses in the private subnets.
        flows = [*webhook_flows(host_in(cidr)), *webhook_flows(host_in(cidr), SHOP_POD)]
        assert [f.what for f in flows if connects(policies, f)] == []


def test_the_webhook_policies_admit_exactly_the_control_plane_cidrs() -> None:
    cidrs = set(vpc_subnets()[0])
    webhook_policies = [p for p in all_policies() if p["metadata"]["name"].endswith("from-api-server")]
    assert len(webhook_policies) >= len({ns for _, ns, *_ in WEBHOOKS})
    for policy in webhook_policies:
        for rule in policy["spec"]["ingress"]:
            assert {peer["ipBlock"]["cidr"] for peer in rule["from"]} == cidrs, policy["metadata"]["name"]
            assert all(set(peer) == {"ipBlock"} for peer in rule["from"]), policy["metadata"]["name"]


def test_no_cdk_or_git_ingress_rule_admits_every_source() -> None:
    # A rule with no `from` admits every pod and address: the webhook rules had none before the control plane had
    # subnets of its own.
    open_rules = [
        p["metadata"]["name"] for p in all_policies() for rule in p["spec"].get("ingress") or [] if not rule.get("from")
    ]
    assert open_rules == []


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
        "scrape collector collector:debug: monitoring -> observability:55679 (ingress refused)",
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
    policies = policies_in(
        [*guard_manifests(api_server_cidrs=vpc_subnets()[0]), *built_overlays(platform_render.profile)]
    )
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


def test_the_shop_denies_egress_by_default() -> None:
    defaults = {
        p["metadata"]["namespace"]
        for p in all_policies()
        if p["spec"]["podSelector"] == {} and not p["spec"].get("egress") and "Egress" in p["spec"]["policyTypes"]
    }
    assert "astronomy-shop" in defaults


SHOP = "astronomy-shop"


def shop_pods(render: PlatformRender) -> list[dict[str, str]]:
    """The pod labels of every workload the profile's render runs in the shop's namespace."""
    return [dict(t["metadata"]["labels"]) for ns, t in pod_templates(obj for _, obj in render.objects()) if ns == SHOP]


def dns_flows(render: PlatformRender, labels: dict[str, str]) -> list[Flow]:
    """Lookups from a pod to CoreDNS: its pods are the ones kube-prometheus-stack's coredns Service in kube-system
    selects (CoreDNS itself is an EKS add-on, not in the render), on the DNS port over UDP and TCP."""
    (selector,) = [
        obj["spec"]["selector"]
        for _, obj in render.objects()
        if obj.get("kind") == "Service"
        and obj["metadata"].get("namespace") == "kube-system"
        and obj["metadata"].get("labels", {}).get("jobLabel") == "coredns"
    ]
    return [
        Flow(f"DNS over {proto}", "kube-system", selector, 53, None, SHOP, labels, proto) for proto in ("UDP", "TCP")
    ]


def render_policies(render: PlatformRender) -> list[Mapping[str, Any]]:
    """Every NetworkPolicy the profile deploys: CDK manifests, Git content and the charts' own."""
    return policies_in([obj for _, obj in render.objects()])


def test_every_connection_the_rendered_shop_declares_is_admitted_at_both_ends(platform_render: PlatformRender) -> None:
    objects = [obj for _, obj in platform_render.objects()]
    resolution = endpoint_flows(declared_endpoints(objects, SHOP), objects)
    flows = [
        *resolution.flows,
        *(f for labels in shop_pods(platform_render) for f in dns_flows(platform_render, labels)),
    ]
    assert {f.dst_namespace for f in resolution.flows} - {SHOP}, "the shop declares cross-namespace endpoints"
    assert blocked(render_policies(platform_render), flows) == []


def test_every_endpoint_the_shop_declares_has_a_service_unless_its_component_is_off(
    platform_render: PlatformRender,
) -> None:
    # A short name no Service answers belongs to a component the profile turns off (current: chatbot, firepit);
    # a name in another namespace must resolve, or the egress rules were checked against nothing.
    objects = [obj for _, obj in platform_render.objects()]
    resolution = endpoint_flows(declared_endpoints(objects, SHOP), objects)
    workloads = {obj["metadata"]["name"] for obj in objects if pod_template(obj) is not None}
    wrong = [(ep.workload, ep.host, why) for ep, why in resolution.unresolved if "." in ep.host or ep.host in workloads]
    assert wrong == []


def undeclared_destinations(render: PlatformRender) -> list[Flow]:
    """Destinations no shop component declares, each from a placeholder shop pod; labels from the render."""

    def pods(namespace: str, name_suffix: str) -> dict[str, str]:
        (labels,) = [
            dict(t["metadata"]["labels"])
            for obj in (o for _, o in render.objects())
            if obj["metadata"].get("namespace") == namespace
            and obj["metadata"]["name"].endswith(name_suffix)
            and (t := pod_template(obj)) is not None
        ]
        return labels

    return [
        Flow("the internet over HTTPS", None, {}, 443, dst_ip="93.184.215.14"),
        Flow("the instance metadata service", None, {}, 80, dst_ip="169.254.169.254"),
        Flow("argocd-server", "argocd", pods("argocd", "argocd-server"), 8080),
        Flow("Kyverno's webhook port", "kyverno", pods("kyverno", "admission-controller"), 9443),
        Flow("the operator's webhook port", "monitoring", pods("monitoring", "operator"), 10250),
        Flow("Prometheus", "monitoring", PROMETHEUS_POD, 9090),
        Flow("the collector's metrics port", "observability", COLLECTOR, 8888),
        Flow("CoreDNS's metrics port", "kube-system", {"k8s-app": "kube-dns"}, 9153),
    ]


def test_the_shop_cannot_send_to_what_it_does_not_declare(platform_render: PlatformRender) -> None:
    policies = render_policies(platform_render)
    assert shop_pods(platform_render) and undeclared_destinations(platform_render)
    reached = [
        (labels.get("app.kubernetes.io/component"), dst.what)
        for labels in shop_pods(platform_render)
        for dst in undeclared_destinations(platform_render)
        if admits_egress(policies, replace(dst, src_namespace=SHOP, src_labels=labels))
    ]
    assert reached == []


def test_only_frontend_proxy_may_send_to_grafana_and_jaeger(platform_render: PlatformRender) -> None:
    policies = render_policies(platform_render)
    proxy = {"frontendproxy", "frontend-proxy"}
    senders = {
        labels["app.kubernetes.io/component"]
        for labels in shop_pods(platform_render)
        for dst in (Flow("Grafana", "monitoring", GRAFANA, 3000), Flow("Jaeger UI", "observability", JAEGER, 16686))
        if admits_egress(policies, replace(dst, src_namespace=SHOP, src_labels=labels))
    }
    assert senders and senders <= proxy


def test_an_egress_default_deny_refuses_and_an_ip_block_admits_by_address() -> None:
    deny = {"metadata": {"name": "d", "namespace": "a"}, "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}
    block = {
        "metadata": {"name": "b", "namespace": "a"},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}],
        },
    }
    flow = Flow("out", None, {}, 443, src_namespace="a", dst_ip="10.2.0.1")
    assert admits_egress([], flow)
    assert not admits_egress([deny], flow)
    assert admits_egress([deny, block], flow)
    assert not admits_egress([deny, block], replace(flow, dst_ip="10.1.0.1"))
    assert not admits_egress([deny, block], replace(flow, dst_ip=None, dst_namespace="a"))


ENV_FIXTURE = {
    "kind": "Deployment",
    "metadata": {"name": "app", "namespace": SHOP},
    "spec": {
        "template": {
            "metadata": {"labels": {"app": "app"}},
            "spec": {
                "initContainers": [
                    {"name": "wait", "command": ["sh", "-c", "until nc -z -v -w30 db 5432; do :; done"]}
                ],
                "containers": [
                    {
                        "name": "app",
                        "env": [
                            {"name": "COLLECTOR", "value": "otel.observability.svc"},
                            {"name": "OTLP", "value": "http://$(COLLECTOR):4318/v1/traces"},
                            {"name": "FLAGD_HOST", "value": "flagd"},
                            {"name": "FLAGD_PORT", "value": "8013"},
                            {"name": "FLAGD_UI_HOST", "value": "flagd-ui"},
                            {"name": "FLAGD_UI_PORT", "value": "4000"},
                            {"name": "DB", "value": "Host=db;Username=u"},
                            {"name": "LISTEN", "value": "http://*:8080"},
                            {"name": "SELF", "value": "localhost:9000"},
                        ],
                    }
                ],
            },
        }
    },
}


def test_declared_endpoints_read_urls_host_port_pairs_probes_and_connection_strings() -> None:
    found = {(ep.source, ep.host, ep.port) for ep in declared_endpoints([ENV_FIXTURE], SHOP)}
    assert found == {
        ("command", "db", 5432),
        ("OTLP", "otel.observability.svc", 4318),
        ("FLAGD_HOST+FLAGD_PORT", "flagd", 8013),
        ("FLAGD_UI_HOST+FLAGD_UI_PORT", "flagd-ui", 4000),
        ("DB", "db", 5432),
    }


def test_an_endpoint_resolves_through_its_service_to_the_pods_container_port() -> None:
    service = {
        "kind": "Service",
        "metadata": {"name": "otel", "namespace": "observability"},
        "spec": {"selector": COLLECTOR, "ports": [{"port": 4318, "targetPort": "otlp-http"}]},
    }
    collector = {
        "kind": "Deployment",
        "metadata": {"name": "otel", "namespace": "observability"},
        "spec": {
            "template": {
                "metadata": {"labels": COLLECTOR},
                "spec": {"containers": [{"name": "c", "ports": [{"name": "otlp-http", "containerPort": 14318}]}]},
            }
        },
    }
    resolution = endpoint_flows(declared_endpoints([ENV_FIXTURE], SHOP), [ENV_FIXTURE, service, collector])
    assert [(f.dst_namespace, f.port, f.port_name) for f in resolution.flows] == [("observability", 14318, "otlp-http")]
    assert sorted(ep.host for ep, _ in resolution.unresolved) == ["db", "db", "flagd", "flagd-ui"]


def subnet_cidrs(render: PlatformRender, group: str) -> list[str]:
    """The CIDRs of one subnet group (control-plane, private) in the profile's synthesized network stack."""
    return [
        res["Properties"]["CidrBlock"]
        for res in render.templates["network"]["Resources"].values()
        if res["Type"] == "AWS::EC2::Subnet"
        and {t["Key"]: t["Value"] for t in res["Properties"]["Tags"]}.get("aws-cdk:subnet-name") == group
    ]


def rendered_webhooks(render: PlatformRender) -> list[Endpoint]:
    """Every Service the render's webhook configurations and CRD conversion webhooks call (port 443 unless set)."""
    out = []
    for _, obj in render.objects():
        configs = (
            [w["clientConfig"] for w in obj.get("webhooks") or []]
            if obj.get("kind", "").endswith("WebhookConfiguration")
            else []
        )
        if obj.get("kind") == "CustomResourceDefinition":
            configs += [((obj["spec"].get("conversion") or {}).get("webhook") or {}).get("clientConfig") or {}]
        for client in configs:
            if (svc := client.get("service")) is not None:
                host = f"{svc['name']}.{svc['namespace']}.svc"
                out.append(
                    Endpoint(obj["metadata"]["name"], svc["namespace"], {}, "webhook", host, svc.get("port", 443))
                )
    return out


def test_the_api_server_reaches_every_rendered_webhook_and_private_addresses_reach_none_behind_a_deny(
    platform_render: PlatformRender,
) -> None:
    objects = [obj for _, obj in platform_render.objects()]
    resolution = endpoint_flows(rendered_webhooks(platform_render), objects)
    assert resolution.flows and resolution.unresolved == []
    policies = render_policies(platform_render)
    from_api = [
        replace(f, src_namespace=None, src_labels={}, src_ip=host_in(cidr))
        for cidr in subnet_cidrs(platform_render, CONTROL_PLANE_SUBNET_NAME)
        for f in resolution.flows
    ]
    assert from_api and blocked(policies, from_api) == []
    # Where a namespace closes ingress by default, a node or pod address in the private subnets is refused.
    closed = {
        p["metadata"]["namespace"]
        for p in policies
        if p["spec"].get("podSelector") == {}
        and not p["spec"].get("ingress")
        and "Ingress" in p["spec"].get("policyTypes", [])
    }
    from_private = [
        replace(f, src_namespace=None, src_labels={}, src_ip=host_in(cidr))
        for cidr in subnet_cidrs(platform_render, "private")
        for f in resolution.flows
        if f.dst_namespace in closed
    ]
    assert from_private, "some rendered webhook sits behind a default deny"
    assert [f.what for f in from_private if admits(policies, f)] == []

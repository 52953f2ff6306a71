"""NamespaceGuards: the namespaces CDK installs charts into, with Pod Security labels and default-deny ingress;
webhook ports admit only the control plane's subnets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from platform_config.addons import cdk_namespaces, default_deny_namespaces

NAMESPACE_NAME = "kubernetes.io/metadata.name"
PROMETHEUS_NAMESPACE = "monitoring"
# The Prometheus pods the operator creates carry this label (ServiceMonitor scrapes come from them).
PROMETHEUS_POD = {"app.kubernetes.io/name": "prometheus"}
# node-exporter needs hostNetwork, hostPID and hostPath mounts of /proc, /sys and /: it alone runs here
# (the registry's kube-prometheus-stack record names it).
NODE_EXPORTER_NAMESPACE = "node-exporter"
# The AWS Load Balancer Controller's namespace (its pods carry app.kubernetes.io/name of the same value).
LB_CONTROLLER_NAMESPACE = "aws-load-balancer-controller"
# Pod Security level per namespace CDK creates, from the registry (GitOps namespaces carry theirs in infra/ and apps/).
CDK_NAMESPACES = cdk_namespaces()


def pss_labels(level: str) -> dict[str, str]:
    """Enforce `level`; warn and audit at restricted. Versions `latest`: the standard of the cluster's release."""
    version = "latest"
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": version,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": version,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": version,
    }


def namespace(name: str, level: str) -> dict[str, Any]:
    """A Namespace with its Pod Security labels."""
    labels = {"app.kubernetes.io/part-of": "eks-platform", **pss_labels(level)}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def network_policy(
    ns: str, name: str, pods: dict[str, Any], ingress: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An Ingress NetworkPolicy; no rules means deny (the default deny of the namespace)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"podSelector": pods, "policyTypes": ["Ingress"], "ingress": ingress or []},
    }


def from_namespace(ns: str, pods: dict[str, Any] | None = None) -> dict[str, Any]:
    """A peer: pods (all, or those `pods` selects: a label selector) of namespace `ns`."""
    peer: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: ns}}}
    if pods is not None:
        peer["podSelector"] = pods
    return peer


# The shop's frontend-proxy pods: demo 1.x (seed) labels the component `frontendproxy`, demo 3.0 (current)
# `frontend-proxy`; infra/observability/network-policies.yaml selects it the same way.
SHOP_PROXY_PODS: dict[str, Any] = {
    "matchExpressions": [
        {"key": "app.kubernetes.io/component", "operator": "In", "values": ["frontendproxy", "frontend-proxy"]}
    ]
}


def ports(*items: int | str) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": item} for item in items]


def from_api_server(cidrs: Sequence[str], *webhook_ports: int | str) -> dict[str, Any]:
    """An ingress rule for the API server: it calls webhooks from its interfaces in the control plane's own
    subnets (constructs_lib/network.py), so their CIDRs name it and no pod or node."""
    if not cidrs:
        raise ValueError("the API server's CIDRs are empty: a webhook rule without a source would admit everyone")
    return {"from": [{"ipBlock": {"cidr": cidr}} for cidr in cidrs], "ports": ports(*webhook_ports)}


def prometheus_scrape(ns: str, pods: dict[str, Any], *metrics_ports: int | str) -> dict[str, Any]:
    """Prometheus (in monitoring) may scrape these ports."""
    prometheus = from_namespace(PROMETHEUS_NAMESPACE, {"matchLabels": PROMETHEUS_POD})
    rule = {"from": [prometheus], "ports": ports(*metrics_ports)}
    return network_policy(ns, "allow-prometheus-scrape", pods, [rule])


def addon_network_policies(*, api_server_cidrs: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The flows an add-on namespace admits beyond its default deny, by namespace; `api_server_cidrs` are the
    control plane's subnets."""
    kyverno_webhooks = {
        "matchExpressions": [
            {
                "key": "app.kubernetes.io/component",
                "operator": "In",
                "values": ["admission-controller", "cleanup-controller"],
            }
        ]
    }
    lb_controller = {"matchLabels": {"app.kubernetes.io/name": LB_CONTROLLER_NAMESPACE}}
    return {
        "kyverno": [
            # The API server calls the webhooks from its ENIs in the control plane's subnets (not a pod).
            network_policy(
                "kyverno",
                "allow-webhooks-from-api-server",
                kyverno_webhooks,
                [from_api_server(api_server_cidrs, "https")],
            ),
            # By number: the controllers name their 8000 port differently (metrics-port, metrics), the render showed.
            prometheus_scrape("kyverno", {"matchLabels": {"app.kubernetes.io/part-of": "kyverno"}}, 8000),
        ],
        "monitoring": [
            # Prometheus scrapes Alertmanager, Grafana, kube-state-metrics and the operator; Grafana queries
            # Prometheus; Prometheus alerts Alertmanager: all inside the namespace.
            network_policy("monitoring", "allow-same-namespace", {}, [{"from": [{"podSelector": {}}]}]),
            network_policy(
                "monitoring",
                "allow-operator-webhook-from-api-server",
                {"matchLabels": {"app": "kube-prometheus-stack-operator"}},
                [from_api_server(api_server_cidrs, "https")],
            ),
            # The shop's frontend-proxy serves Grafana under /grafana.
            network_policy(
                "monitoring",
                "allow-grafana-from-shop-proxy",
                {"matchLabels": {"app.kubernetes.io/name": "grafana"}},
                [
                    {
                        "from": [from_namespace("astronomy-shop", SHOP_PROXY_PODS)],
                        "ports": ports("grafana"),
                    }
                ],
            ),
        ],
        LB_CONTROLLER_NAMESPACE: [
            # Its webhooks (the shop's pods' readiness gates, Ingress and TargetGroupBinding validation) are called
            # by the API server from its ENIs in the control plane's subnets.
            network_policy(
                LB_CONTROLLER_NAMESPACE,
                "lb-controller-webhooks-from-api-server",
                lb_controller,
                [from_api_server(api_server_cidrs, "webhook-server")],
            ),
            # Named apart from kyverno's allow-prometheus-scrape: the picture keys manifests by kind and name.
            {
                **prometheus_scrape(LB_CONTROLLER_NAMESPACE, lb_controller, "metrics-server"),
                "metadata": {"name": "lb-controller-prometheus-scrape", "namespace": LB_CONTROLLER_NAMESPACE},
            },
        ],
    }


def cdk_network_policies(*, api_server_cidrs: Sequence[str]) -> list[dict[str, Any]]:
    """Per namespace: its default deny (every CDK add-on namespace whose chart brings none; argocd's come from
    its chart's global.networkPolicy), then the flows the namespace admits."""
    flows = addon_network_policies(api_server_cidrs=api_server_cidrs)
    out = []
    for ns in default_deny_namespaces():
        out += [network_policy(ns, f"{ns}-default-deny-ingress", {}), *flows.get(ns, [])]
    return out


def namespace_manifests() -> list[dict[str, Any]]:
    """The Namespaces CDK creates, with their Pod Security labels."""
    return [namespace(name, level) for name, level in CDK_NAMESPACES.items()]


def guard_manifests(*, api_server_cidrs: Sequence[str]) -> list[dict[str, Any]]:
    """Namespaces first (kubectl applies in order), then their NetworkPolicies."""
    return [*namespace_manifests(), *cdk_network_policies(api_server_cidrs=api_server_cidrs)]


class NamespaceGuards(Construct):
    """Exposes `manifests` (Namespaces, then NetworkPolicies) and `resource`; charts install after it."""

    def __init__(self, scope: Construct, id_: str, *, cluster: eks.ICluster, api_server_cidrs: Sequence[str]) -> None:
        super().__init__(scope, id_)
        self.manifests = guard_manifests(api_server_cidrs=api_server_cidrs)
        self.resource = eks.KubernetesManifest(self, "Manifests", cluster=cluster, manifest=self.manifests)

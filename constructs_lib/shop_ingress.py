"""ShopIngress: the shop's entry point. The platform owns the `alb` IngressClass and its IngressClassParams (in the
controller's release) and applies the shop's Ingress and the NetworkPolicy admitting the ALB from the settings in
cdk.json; Argo CD syncs the shop itself and never manages these objects (its AppProjects admit none of them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from constructs_lib.access import uis
from constructs_lib.namespace_guards import SHOP_PROXY_PODS, network_policy, ports
from platform_config import yaml_load
from platform_config.config import PlatformConfig
from platform_config.tags import CLUSTER_TAG

ROOT = Path(__file__).resolve().parent.parent
SHOP_NAMESPACE_FILE = ROOT / "apps" / "astronomy-shop" / "namespace.yaml"
INGRESS_CLASS = "alb"
INGRESS_NAME = "astronomy-shop"
ALB = "alb.ingress.kubernetes.io/"
# The controller's pod readiness gates: a new frontend-proxy pod gets traffic only once its target is healthy.
READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
# TLS 1.3 with TLS 1.2 fallback: the policy AWS recommends for new ALB listeners.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# Spot-safe traffic, in seconds (docs/runbook.md section 2 writes the arithmetic; the render gate checks it against
# the frontend-proxy pods Kyverno's apps/astronomy-shop/frontend-proxy-drain.yaml makes):
# how long the ALB lets in-flight requests finish on a deregistering target,
DEREGISTRATION_DELAY_SECONDS = 30
# EC2's Spot interruption warning,
SPOT_NOTICE_SECONDS = 120
# the budget for the warning to reach Karpenter (EventBridge, SQS, a 20 s long poll) and the pod to be evicted,
INTERRUPTION_PICKUP_SECONDS = 20
# the budget for the controller to see the pod terminating and start deregistering its target,
DEREGISTER_REACTION_SECONDS = 10
# and envoy's own shutdown after SIGTERM.
SHUTDOWN_SECONDS = 10
HTTP_PORT, HTTPS_PORT = 80, 443


def shop_namespace() -> dict[str, Any]:
    """The shop's Namespace as Git declares it (apps/astronomy-shop/namespace.yaml): CDK applies the same object so
    the namespace exists, with its readiness-gate label, before the Ingress and before Argo CD creates pods."""
    namespace: dict[str, Any] = yaml_load.safe_load(SHOP_NAMESPACE_FILE.read_text())
    return namespace


def allowed_cidrs(config: PlatformConfig) -> tuple[str, ...]:
    """Who may reach the listeners: the configured CIDRs, else (internal only) the VPC's range."""
    return config.ingress_allowed_cidrs or (config.vpc_cidr,)


def class_params(config: PlatformConfig) -> dict[str, Any]:
    """The chart values of the platform's IngressClassParams: only the shop's namespace may use the class, and the
    scheme and inbound CIDRs are the configured ones whatever an Ingress annotates (class parameters win)."""
    spec: dict[str, Any] = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": shop_namespace()["metadata"]["name"]}},
        "ipAddressType": "ipv4",
    }
    if config.shop_ingress != "off":
        spec["scheme"] = config.shop_ingress
        spec["inboundCIDRs"] = list(allowed_cidrs(config))
    if config.ingress_certificate_arn:
        spec["sslPolicy"] = TLS_POLICY
    return {"ingressClassParams": {"create": True, "name": INGRESS_CLASS, "spec": spec}}


def ingress_annotations(config: PlatformConfig) -> dict[str, str]:
    """The annotations that decide the ALB: scheme, listeners, certificate and TLS policy, inbound CIDRs, WAF,
    targets (pod IPs) and their deregistration delay."""
    https = bool(config.ingress_certificate_arn)
    listeners = [{"HTTP": HTTP_PORT}, *([{"HTTPS": HTTPS_PORT}] if https else [])]
    out = {
        f"{ALB}scheme": config.shop_ingress,
        f"{ALB}target-type": "ip",
        f"{ALB}listen-ports": json.dumps(listeners, separators=(",", ":")),
        f"{ALB}inbound-cidrs": ",".join(allowed_cidrs(config)),
        f"{ALB}healthcheck-path": "/",
        f"{ALB}target-group-attributes": f"deregistration_delay.timeout_seconds={DEREGISTRATION_DELAY_SECONDS}",
        f"{ALB}load-balancer-attributes": "routing.http.drop_invalid_header_fields.enabled=true",
        f"{ALB}tags": f"{CLUSTER_TAG}={config.cluster_name}",
    }
    if https:
        out[f"{ALB}certificate-arn"] = config.ingress_certificate_arn
        out[f"{ALB}ssl-policy"] = TLS_POLICY
        out[f"{ALB}ssl-redirect"] = str(HTTPS_PORT)
    if config.ingress_waf_acl_arn:
        out[f"{ALB}wafv2-acl-arn"] = config.ingress_waf_acl_arn
    return out


def shop_ingress(config: PlatformConfig) -> dict[str, Any]:
    """The Ingress: every path to the shop's frontend-proxy Service (the profile's name for it)."""
    ui = uis(config.profile.gitops_profile)["ShopFrontend"]
    backend = {"service": {"name": ui.service, "port": {"number": ui.service_port}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": INGRESS_NAME, "namespace": ui.namespace, "annotations": ingress_annotations(config)},
        "spec": {
            "ingressClassName": INGRESS_CLASS,
            "rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}],
        },
    }


def alb_network_policy(config: PlatformConfig) -> dict[str, Any]:
    """The ALB reaches frontend-proxy's pod IPs from its nodes in the VPC: admit the VPC's range on that port."""
    ui = uis(config.profile.gitops_profile)["ShopFrontend"]
    rule = {"from": [{"ipBlock": {"cidr": config.vpc_cidr}}], "ports": ports(ui.service_port)}
    return network_policy(ui.namespace, "allow-alb-to-frontend-proxy", SHOP_PROXY_PODS, [rule])


def entry_url(config: PlatformConfig) -> str:
    """What users open, or how to find it: the controller names the ALB's DNS name only once it exists."""
    scheme = "https" if config.ingress_certificate_arn else "http"
    namespace = uis(config.profile.gitops_profile)["ShopFrontend"].namespace
    return (
        f"{scheme}://<ALB DNS name>: kubectl -n {namespace} get ingress {INGRESS_NAME} "
        "-o jsonpath='{.status.loadBalancer.ingress[0].hostname}'"
    )


class ShopIngress(Construct):
    """Exposes `namespace` (always applied) and, unless shop_ingress is off, `ingress` (Ingress + NetworkPolicy);
    both wait for `after` (the controller's release: its webhooks must answer first)."""

    def __init__(
        self, scope: Construct, id_: str, *, cluster: eks.ICluster, config: PlatformConfig, after: Construct
    ) -> None:
        super().__init__(scope, id_)
        # A separate resource: turning the load balancer off must never delete the shop's namespace.
        # No prune label: Argo CD applies the same Namespace from Git and would remove a label it does not declare.
        self.namespace = eks.KubernetesManifest(
            self, "Namespace", cluster=cluster, manifest=[shop_namespace()], prune=False
        )
        self.namespace.node.add_dependency(after)
        self.ingress: eks.KubernetesManifest | None = None
        if config.shop_ingress == "off":
            return
        self.ingress = eks.KubernetesManifest(
            self, "Ingress", cluster=cluster, manifest=[alb_network_policy(config), shop_ingress(config)], prune=False
        )
        self.ingress.node.add_dependency(self.namespace)

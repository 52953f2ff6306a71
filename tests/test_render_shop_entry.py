"""The render gate for the shop's entry point: the controller and the Ingress render and validate, the Ingress's
backend is a rendered Service port, the shop namespace asks for readiness gates, frontend-proxy pauses before it
stops, and the drain fits inside the Spot notice (docs/runbook.md section 2)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from constructs_lib.lb_controller import RELEASE
from constructs_lib.shop_ingress import (
    ALB,
    DEREGISTER_REACTION_SECONDS,
    DEREGISTRATION_DELAY_SECONDS,
    INGRESS_CLASS,
    INTERRUPTION_PICKUP_SECONDS,
    READINESS_GATE_LABEL,
    SHUTDOWN_SECONDS,
    SPOT_NOTICE_SECONDS,
)
from platform_checks.manifests import validate_manifest
from platform_checks.platform_render import PlatformRender
from platform_checks.wiring import selector_matches
from platform_config import yaml_load
from platform_config.addons import addon
from tests.conftest import ROOT

DEFAULT_GRACE_SECONDS = 30  # Kubernetes' terminationGracePeriodSeconds when a pod sets none


def shop_ingress(render: PlatformRender) -> dict[str, Any]:
    (ingress,) = [o for _, o in render.objects() if o["kind"] == "Ingress"]
    return ingress


def frontend_proxy(render: PlatformRender) -> dict[str, Any]:
    """The shop's frontend-proxy Deployment as Argo CD renders it."""
    found = [
        o
        for o in render.in_release("astronomy-shop")
        if o["kind"] == "Deployment"
        and o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component")
        in ("frontendproxy", "frontend-proxy")
    ]
    assert len(found) == 1
    return found[0]


def drain_policy(render: PlatformRender) -> dict[str, Any]:
    (policy,) = [o for o in render.gitops if o["kind"] == "Policy" and o["metadata"]["name"] == "frontend-proxy-drain"]
    return policy


def admitted_pod(render: PlatformRender) -> dict[str, Any]:
    """frontend-proxy's pod template after the drain policy's mutation at creation, as Kyverno applies it: the
    rule's selector must match the pod's labels; `(name): "*"` patches every container."""
    pod = copy.deepcopy(frontend_proxy(render)["spec"]["template"])
    (rule,) = drain_policy(render)["spec"]["rules"]
    (match,) = rule["match"]["any"]
    assert match["resources"]["kinds"] == ["Pod"]
    if not selector_matches(match["resources"]["selector"], pod["metadata"]["labels"]):
        return pod
    patch = rule["mutate"]["patchStrategicMerge"]["spec"]
    (container_patch,) = patch["containers"]
    assert container_patch["(name)"] == "*"
    for container in pod["spec"]["containers"]:
        container["lifecycle"] = container_patch["lifecycle"]
    pod["spec"]["terminationGracePeriodSeconds"] = patch["terminationGracePeriodSeconds"]
    return pod


def test_controller_renders_its_deployment_webhooks_class_and_monitor(platform_render: PlatformRender) -> None:
    objects = platform_render.in_release(RELEASE)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ServiceMonitor"} <= kinds
    (ingress_class,) = [o for o in objects if o["kind"] == "IngressClass"]
    assert ingress_class["metadata"]["name"] == INGRESS_CLASS
    assert ingress_class["spec"]["parameters"]["kind"] == "IngressClassParams"
    (params,) = [o for o in objects if o["kind"] == "IngressClassParams"]
    assert params["metadata"]["name"] == ingress_class["spec"]["parameters"]["name"]
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--aws-region=us-east-1" in args and any(a.startswith("--aws-vpc-id=cfn-") for a in args)
    assert deployment["metadata"]["namespace"] == addon(RELEASE).namespace


def test_controller_crds_are_in_the_render_and_its_class_params_validate(platform_render: PlatformRender) -> None:
    kinds = {crd.kind for crd in platform_render.crds.values()}
    assert {"IngressClassParams", "TargetGroupBinding"} <= kinds
    (params,) = [o for o in platform_render.in_release(RELEASE) if o["kind"] == "IngressClassParams"]
    assert validate_manifest(params, profile=platform_render.profile, crds=platform_render.crd_validators) == []
    broken = copy.deepcopy(params)
    broken["spec"]["scheme"] = "public"
    assert validate_manifest(broken, profile=platform_render.profile, crds=platform_render.crd_validators)


def test_webhook_certificate_is_made_by_the_render_never_carried_by_the_templates(
    platform_render: PlatformRender,
) -> None:
    secrets = [o for o in platform_render.in_release(RELEASE) if o["kind"] == "Secret"]
    assert secrets and all("tls.key" in s.get("data", {}) for s in secrets)
    text = json.dumps(platform_render.templates)
    assert "BEGIN" not in text and "tls.key" not in text and "webhookTLS" not in text


def test_ingress_validates_and_its_backend_is_a_rendered_service_port(platform_render: PlatformRender) -> None:
    ingress = shop_ingress(platform_render)
    assert validate_manifest(ingress, profile=platform_render.profile) == []
    namespace = ingress["metadata"]["namespace"]
    services = {
        o["metadata"]["name"]: o for o in platform_render.in_release("astronomy-shop") if o["kind"] == "Service"
    }
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            service = services.get(backend["name"])
            assert service is not None, f"{backend['name']} is not a Service the shop renders: {sorted(services)}"
            assert service["metadata"]["namespace"] == namespace
            assert backend["port"]["number"] in [p["port"] for p in service["spec"]["ports"]]
            # target type ip: the ALB sends to the pods behind it, which frontend-proxy's pods are.
            assert selector_matches(
                {"matchLabels": service["spec"]["selector"]},
                frontend_proxy(platform_render)["spec"]["template"]["metadata"]["labels"],
            )


def test_shop_namespace_asks_for_readiness_gates_wherever_it_is_applied(platform_render: PlatformRender) -> None:
    namespaces = [
        o
        for _, o in platform_render.objects()
        if o["kind"] == "Namespace" and o["metadata"]["name"] == "astronomy-shop"
    ]
    assert len(namespaces) == 2  # Git's, and the CDK app's copy of it
    assert all(n["metadata"]["labels"][READINESS_GATE_LABEL] == "enabled" for n in namespaces)
    (webhook,) = [o for o in platform_render.in_release(RELEASE) if o["kind"] == "MutatingWebhookConfiguration"]
    pod_hook = next(w for w in webhook["webhooks"] if w["name"] == "mpod.elbv2.k8s.aws")
    assert {"key": READINESS_GATE_LABEL, "operator": "In", "values": ["enabled"]} in pod_hook["namespaceSelector"][
        "matchExpressions"
    ]


def test_frontend_proxy_pauses_before_it_stops(platform_render: PlatformRender) -> None:
    pod = admitted_pod(platform_render)
    for container in pod["spec"]["containers"]:
        assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep", container["name"]
    assert pod["spec"]["terminationGracePeriodSeconds"] > int(
        pod["spec"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1]
    )
    assert validate_manifest(drain_policy(platform_render), profile=platform_render.profile) == []


def test_drain_arithmetic_fits_inside_the_spot_notice(platform_render: PlatformRender) -> None:
    pod = admitted_pod(platform_render)
    pause = int(pod["spec"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1])
    grace = int(pod["spec"].get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS))
    attributes = shop_ingress(platform_render)["metadata"]["annotations"][f"{ALB}target-group-attributes"]
    delay = int(dict(a.split("=") for a in attributes.split(","))["deregistration_delay.timeout_seconds"])
    # The pod serves until the ALB has deregistered it and drained in-flight requests,
    assert pause >= DEREGISTER_REACTION_SECONDS + delay
    # envoy then has its shutdown time before the kubelet kills it,
    assert grace >= pause + SHUTDOWN_SECONDS
    # and all of it ends before EC2 takes the node back.
    assert INTERRUPTION_PICKUP_SECONDS + grace <= SPOT_NOTICE_SECONDS


def test_drain_policy_selects_the_rendered_frontend_proxy(platform_render: PlatformRender) -> None:
    pod = frontend_proxy(platform_render)["spec"]["template"]
    (rule,) = drain_policy(platform_render)["spec"]["rules"]
    assert selector_matches(rule["match"]["any"][0]["resources"]["selector"], pod["metadata"]["labels"])


def test_frontend_proxy_spreads_over_zones_under_a_disruption_budget(platform_render: PlatformRender) -> None:
    deployment = frontend_proxy(platform_render)
    assert deployment["spec"]["replicas"] >= 2
    affinity = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    terms = affinity["requiredDuringSchedulingIgnoredDuringExecution"]
    assert [t["topologyKey"] for t in terms] == ["topology.kubernetes.io/zone"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    budgets = [
        o
        for _, o in platform_render.objects()
        if o["kind"] == "PodDisruptionBudget" and selector_matches(o["spec"]["selector"], labels)
    ]
    assert len(budgets) == 1 and budgets[0]["spec"]["minAvailable"] >= 1


@pytest.mark.parametrize("label", [{}, {"app.kubernetes.io/component": "frontend"}])
def test_drain_check_fails_when_the_policy_misses_the_pod(platform_render: PlatformRender, label: dict) -> None:
    render = copy.copy(platform_render)
    policy = copy.deepcopy(drain_policy(platform_render))
    policy["spec"]["rules"][0]["match"]["any"][0]["resources"]["selector"] = {
        "matchLabels": label or {"app.kubernetes.io/component": "nothing"}
    }
    render.gitops = [o for o in platform_render.gitops if o is not drain_policy(platform_render)] + [policy]
    assert "lifecycle" not in admitted_pod(render)["spec"]["containers"][0]


def test_runbook_arithmetic_states_the_values_the_code_and_the_policy_hold() -> None:
    runbook = (ROOT / "docs" / "runbook.md").read_text()
    policy = yaml_load.safe_load((ROOT / "apps" / "astronomy-shop" / "frontend-proxy-drain.yaml").read_text())
    patch = policy["spec"]["rules"][0]["mutate"]["patchStrategicMerge"]["spec"]
    pause = int(patch["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1])
    grace = int(patch["terminationGracePeriodSeconds"])
    for stated in (
        f"notice {SPOT_NOTICE_SECONDS}",
        f"pickup {INTERRUPTION_PICKUP_SECONDS}",
        f"reaction {DEREGISTER_REACTION_SECONDS}",
        f"deregistration delay {DEREGISTRATION_DELAY_SECONDS}",
        f"grace {grace}",
        f"The {pause} s pause ends ({pause} >= reaction {DEREGISTER_REACTION_SECONDS} + delay "
        f"{DEREGISTRATION_DELAY_SECONDS})",
        f"{grace} >= pause {pause} + shutdown {SHUTDOWN_SECONDS}",
        f"preStop` pause of {pause} s and `terminationGracePeriodSeconds: {grace}`",
    ):
        assert stated in runbook, stated

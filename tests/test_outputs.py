"""After deploy the stacks' Outputs say how to reach the cluster: name, region, kubeconfig, queue, UIs."""

from __future__ import annotations

from typing import Any

from constructs_lib.addon_versions import attribute
from constructs_lib.shop_ingress import entry_url
from platform_config import versions
from platform_stacks.platform_app import build_app
from tests.conftest import Synthesized
from tests.fixed_context import fixed_context


def outputs(s: Synthesized, stack: str) -> dict[str, Any]:
    """The stack's own Outputs (CDK's cross-stack ExportsOutput* are wiring, not for users)."""
    found = s.templates[stack].get("Outputs", {}).items()
    return {k: v["Value"] for k, v in found if not k.startswith("ExportsOutput")}


def test_cluster_stack_outputs_name_region_the_kubeconfig_command_and_the_managed_add_on_versions(
    synthesized: Synthesized,
) -> None:
    found = outputs(synthesized, "cluster")
    addon_versions = found.pop("ManagedAddonVersions")
    assert found == {
        "ClusterName": "eks-platform",
        "Region": "us-east-1",
        "UpdateKubeconfigCommand": "aws eks update-kubeconfig --name eks-platform --region us-east-1",
    }
    (lookup_id,) = synthesized.resources("cluster", "Custom::EksAddonVersions")
    pairs = addon_versions["Fn::Join"][1]
    assert [p["Fn::Join"][1][0] for p in pairs] == list(versions.EKS_ADDONS)
    for pair in pairs:
        name, version = pair["Fn::Join"][1]
        assert version == (versions.EKS_ADDONS[name] or {"Fn::GetAtt": [lookup_id, attribute(name)]})


def test_karpenter_stack_outputs_the_interruption_queue_name(synthesized: Synthesized) -> None:
    (queue_id,) = synthesized.resources("karpenter", "AWS::SQS::Queue")
    assert outputs(synthesized, "karpenter") == {"InterruptionQueueName": {"Fn::GetAtt": [queue_id, "QueueName"]}}


def test_addons_stack_outputs_argocd_and_grafana_port_forwards_and_the_shop_url(synthesized: Synthesized) -> None:
    assert outputs(synthesized, "addons") == {
        "ArgoCdPortForward": "kubectl -n argocd port-forward svc/argocd-server 8080:443",
        "GrafanaPortForward": "kubectl -n monitoring port-forward svc/kube-prometheus-stack-grafana 3000:80",
        "ShopUrl": entry_url(synthesized.config),
    }
    assert outputs(synthesized, "addons")["ShopUrl"].startswith("http://<ALB DNS name>: kubectl -n astronomy-shop get")
    argocd = synthesized.templates["addons"]["Outputs"]["ArgoCdPortForward"]
    assert argocd["Description"].startswith("Argo CD at https://localhost:8080")


def test_outputs_follow_the_configured_cluster_and_region() -> None:
    zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    platform = build_app(fixed_context(cluster_name="blue", region="eu-west-1", availability_zones=zones), nag=False)
    template = platform.app.synth().get_stack_by_name("blue-Cluster").template
    assert template["Outputs"]["UpdateKubeconfigCommand"]["Value"] == (
        "aws eks update-kubeconfig --name blue --region eu-west-1"
    )


def test_no_admin_principals_warns_that_nobody_can_use_kubectl() -> None:
    def warnings(**overrides: Any) -> list[str]:
        platform = build_app(fixed_context(**overrides), env={}, nag=False)
        return [str(m.data) for m in platform.cluster.node.metadata if m.type == "aws:cdk:warning"]

    assert any("nobody will be able to use kubectl" in w for w in warnings())
    arn = "arn:aws:iam::123456789012:role/admins"
    assert not any("nobody will be able" in w for w in warnings(admin_principal_arns=[arn]))

"""AddonsStack: ArgoCD, Kyverno and kube-prometheus-stack by Helm, then the GitOps root that syncs the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from constructs_lib.access import uis
from constructs_lib.alert_routing import AlertRouting
from constructs_lib.eks_cluster import as_icluster
from constructs_lib.gitops import GitOpsBootstrap
from constructs_lib.helm_addon import install_addons
from constructs_lib.image_admission import ImageAdmission
from constructs_lib.lb_controller import LoadBalancerControllerIdentity, controller_values
from constructs_lib.namespace_guards import NamespaceGuards
from constructs_lib.shop_ingress import ShopIngress, class_params, entry_url
from constructs_lib.storage import Gp3StorageClass
from platform_config.config import PlatformConfig


class AddonsStack(Stack):
    """Exposes `releases` (HelmAddons by release; `argocd`, `kyverno`, `monitoring` among them), `guards`,
    `alerting`, `storage`, `image_admission` and `gitops`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: PlatformConfig,
        cluster: eks.Cluster,
        api_server_cidrs: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        icluster = as_icluster(cluster)
        self.storage = Gp3StorageClass(self, "Storage", cluster=icluster)
        # Namespaces with Pod Security labels and default-deny ingress exist before any chart installs; webhook
        # ports admit only the control plane's subnets (the API server's interfaces).
        self.guards = NamespaceGuards(self, "NamespaceGuards", cluster=icluster, api_server_cidrs=api_server_cidrs)
        self.alerting = AlertRouting(
            self, "Alerting", cluster=icluster, cluster_name=config.cluster_name, topic_arn=config.alert_sns_topic_arn
        )
        self.lb_controller = LoadBalancerControllerIdentity(
            self,
            "LoadBalancerControllerIdentity",
            cluster=icluster,
            cluster_name=config.cluster_name,
            profile=config.profile,
            compliance_packs=config.compliance_packs,
        )
        # The registry's addons-stack records, each after what it names; independent ones install in parallel.
        self.releases = install_addons(
            self,
            installer="addons-stack",
            cluster=icluster,
            profile=config.profile,
            computed_values={
                "kube-prometheus-stack": self.alerting.values,
                "aws-load-balancer-controller": {
                    **controller_values(config=config, vpc_id=cluster.vpc.vpc_id),
                    **class_params(config),
                },
            },
            parts={
                "namespace-guards": self.guards,
                "storage-class": self.storage,
                "alertmanager-identity": self.alerting.pod_identity,
                "lb-controller-identity": self.lb_controller.association,
            },
        )
        self.monitoring = self.releases["kube-prometheus-stack"]
        self.kyverno = self.releases["kyverno"]
        self.argocd = self.releases["argocd"]
        # Image verification and the digest policy need Kyverno's CRDs and webhooks; the GitOps content comes after.
        self.image_admission = ImageAdmission(self, "ImageAdmission", cluster=icluster, config=config)
        self.image_admission.node.add_dependency(self.kyverno)
        # The shop's entry point: its namespace (with the readiness-gate label) exists before Argo CD creates pods.
        self.shop_ingress = ShopIngress(
            self, "ShopIngress", cluster=icluster, config=config, after=self.releases["aws-load-balancer-controller"]
        )
        # The root app syncs PrometheusRules, the guardrail policies and Applications: every CRD must exist first.
        self.gitops = GitOpsBootstrap(self, "GitOps", config=config, cluster=icluster)
        self.gitops.node.add_dependency(*(r for r in self.releases.values() if r.addon.crds))
        self.gitops.node.add_dependency(self.shop_ingress.namespace)
        self.gitops.node.add_dependency(self.image_admission)
        if config.shop_ingress != "off":
            CfnOutput(
                self,
                "ShopUrl",
                value=entry_url(config),
                description=f"The shop through its {config.shop_ingress} ALB (the controller names it once created)",
            )
        for key in ("ArgoCd", "Grafana"):
            ui = uis(config.profile.gitops_profile)[key]
            CfnOutput(
                self,
                f"{key}PortForward",
                value=ui.port_forward,
                description=f"{ui.name} at {ui.url}, user admin; README Day-one access shows its generated password",
            )

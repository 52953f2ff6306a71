"""AddonsStack: ArgoCD, Kyverno and kube-prometheus-stack by Helm, then the GitOps root that syncs the rest."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from constructs_lib.access import uis
from constructs_lib.alert_routing import AlertRouting
from constructs_lib.eks_cluster import as_icluster
from constructs_lib.gitops import ARGOCD_NAMESPACE, GitOpsBootstrap
from constructs_lib.helm_addon import HelmAddon
from constructs_lib.namespace_guards import NamespaceGuards
from constructs_lib.storage import Gp3StorageClass
from platform_config.config import PlatformConfig


class AddonsStack(Stack):
    """Exposes `argocd`, `kyverno`, `monitoring` (HelmAddons), `guards`, `alerting`, `storage` and `gitops`."""

    def __init__(
        self, scope: Construct, id_: str, *, config: PlatformConfig, cluster: eks.Cluster, **kwargs: Any
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        icluster = as_icluster(cluster)
        self.storage = Gp3StorageClass(self, "Storage", cluster=icluster)
        # Namespaces with Pod Security labels and default-deny ingress exist before any chart installs.
        self.guards = NamespaceGuards(self, "NamespaceGuards", cluster=icluster)
        self.alerting = AlertRouting(
            self, "Alerting", cluster=icluster, cluster_name=config.cluster_name, topic_arn=config.alert_sns_topic_arn
        )
        # The three charts are independent, so CloudFormation installs them in parallel.
        self.monitoring = HelmAddon(
            self,
            "Monitoring",
            cluster=icluster,
            profile=config.profile,
            chart="kube-prometheus-stack",
            release="kube-prometheus-stack",
            namespace="monitoring",
            computed_values=self.alerting.values,
            # Prometheus waits for a Karpenter On-Demand node and its gp3 volume: the longest install.
            timeout=Duration.minutes(12),
        )
        self.monitoring.node.add_dependency(self.storage)
        if self.alerting.pod_identity is not None:
            # Pod Identity credentials are injected when a pod starts: the association must come first.
            self.monitoring.node.add_dependency(self.alerting.pod_identity)
        self.kyverno = HelmAddon(
            self, "Kyverno", cluster=icluster, profile=config.profile, chart="kyverno", namespace="kyverno"
        )
        self.argocd = HelmAddon(
            self,
            "ArgoCd",
            cluster=icluster,
            profile=config.profile,
            chart="argo-cd",
            release="argocd",
            namespace=ARGOCD_NAMESPACE,
        )
        for addon in (self.monitoring, self.kyverno, self.argocd):
            addon.node.add_dependency(self.guards)
        # The root app syncs PrometheusRules, the guardrail policies and Applications: every CRD must exist first.
        self.gitops = GitOpsBootstrap(self, "GitOps", config=config, cluster=icluster)
        self.gitops.node.add_dependency(self.argocd, self.kyverno, self.monitoring)
        for key in ("ArgoCd", "Grafana"):
            ui = uis(config.release)[key]
            CfnOutput(
                self,
                f"{key}PortForward",
                value=ui.port_forward,
                description=f"{ui.name} at {ui.url}, user admin; README Day-one access shows its generated password",
            )

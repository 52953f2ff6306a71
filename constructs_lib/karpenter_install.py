"""KarpenterInstall: karpenter-crd then karpenter charts in kube-system, then the NodeClass and NodePools."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.helm_addon import HelmAddon
from constructs_lib.karpenter_iam import SERVICE_ACCOUNT
from constructs_lib.karpenter_manifests import ec2_node_class, on_demand_node_pool, spot_node_pool
from platform_config.config import PlatformConfig

# kube-system: Karpenter's documented namespace, which the Pod Identity association names (1.0's conversion
# webhooks also assumed it).
NAMESPACE = SERVICE_ACCOUNT[0]


class KarpenterInstall(Construct):
    """Exposes `crds`, `controller` (HelmAddon) and `node_class_and_pools` (the manifest)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: PlatformConfig,
        cluster: eks.ICluster,
        queue: sqs.IQueue,
        node_role: iam.IRole,
        cluster_security_group_id: str,
        after: list[Construct],
    ) -> None:
        super().__init__(scope, id_)
        self.crds = HelmAddon(
            self, "Crds", cluster=cluster, profile=config.profile, chart="karpenter-crd", namespace=NAMESPACE
        )
        computed: dict[str, Any] = {
            "settings": {
                "clusterName": config.cluster_name,
                # The queue NAME (not its ARN or URL) is what Karpenter 1.0 reads.
                "interruptionQueue": queue.queue_name,
            },
            "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT[1]},
        }
        self.controller = HelmAddon(
            self,
            "Controller",
            cluster=cluster,
            profile=config.profile,
            chart="karpenter",
            namespace=NAMESPACE,
            computed_values=computed,
            # CRDs come from karpenter-crd, which Helm upgrades (Helm never upgrades a chart's crds/ folder).
            skip_crds=True,
        )
        self.controller.node.add_dependency(self.crds)
        for construct in after:
            self.controller.node.add_dependency(construct)
        self.manifests = [
            ec2_node_class(
                config,
                node_role_name=node_role.role_name,
                cluster_security_group_id=cluster_security_group_id,
            ),
            spot_node_pool(config),
            on_demand_node_pool(config),
        ]
        self.node_class_and_pools = eks.KubernetesManifest(
            self, "NodeClassAndPools", cluster=cluster, manifest=self.manifests, overwrite=True
        )
        # NodePools need the CRDs; the controller's webhooks validate them.
        self.node_class_and_pools.node.add_dependency(self.crds, self.controller)

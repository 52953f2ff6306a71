"""KarpenterInstall: karpenter-crd then karpenter charts in kube-system, then the NodeClass and NodePools."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.helm_addon import install_addons
from constructs_lib.karpenter_iam import SERVICE_ACCOUNT
from constructs_lib.karpenter_manifests import ec2_node_class, on_demand_node_pool, spot_node_pool
from platform_config.config import PlatformConfig


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
        after: Mapping[str, Construct],
    ) -> None:
        super().__init__(scope, id_)
        computed: dict[str, Any] = {
            "settings": {
                "clusterName": config.cluster_name,
                # The queue NAME (not its ARN or URL) is what Karpenter 1.0 reads.
                "interruptionQueue": queue.queue_name,
            },
            "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT[1]},
        }
        # The registry's karpenter-stack records: karpenter-crd, then the controller (skip_crds: its CRDs come from
        # karpenter-crd, which Helm upgrades; Helm never upgrades a chart's crds/ folder).
        self.releases = install_addons(
            self,
            installer="karpenter-stack",
            cluster=cluster,
            profile=config.profile,
            computed_values={"karpenter": computed},
            parts=after,
        )
        self.crds, self.controller = self.releases["karpenter-crd"], self.releases["karpenter"]
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

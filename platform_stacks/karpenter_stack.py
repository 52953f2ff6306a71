"""KarpenterStack: Karpenter's AWS side (IAM, interruption queue, rules) and its in-cluster install."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from constructs_lib.eks_cluster import as_icluster
from constructs_lib.interruption_queue import InterruptionQueue
from constructs_lib.karpenter_iam import KarpenterIam
from constructs_lib.karpenter_install import KarpenterInstall
from constructs_lib.spot_drill import SpotInterruptionDrill
from platform_config.config import PlatformConfig


class KarpenterStack(Stack):
    """Exposes `queue_name`, `node_role` and `controller_role` for the Helm install."""

    def __init__(
        self, scope: Construct, id_: str, *, config: PlatformConfig, cluster: eks.Cluster, **kwargs: Any
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.interruption = InterruptionQueue(self, "Interruption", cluster_name=config.cluster_name)
        self.iam = KarpenterIam(
            self,
            "Iam",
            cluster=as_icluster(cluster),
            cluster_name=config.cluster_name,
            queue=self.interruption.queue,
            karpenter_version=config.profile.karpenter_version,
        )
        self.install = KarpenterInstall(
            self,
            "Install",
            config=config,
            cluster=as_icluster(cluster),
            queue=self.interruption.queue,
            node_role=self.iam.node_role,
            cluster_security_group_id=cluster.cluster_security_group_id,
            after={
                "karpenter-pod-identity": self.iam.pod_identity,
                "karpenter-node-access": self.iam.node_access_entry,
            },
        )
        self.queue_name = self.interruption.queue.queue_name
        CfnOutput(
            self,
            "InterruptionQueueName",
            value=self.queue_name,
            description="SQS queue of Spot interruption and rebalance events Karpenter drains nodes on",
        )
        self.node_role = self.iam.node_role
        self.controller_role = self.iam.controller_role
        if config.spot_drill:
            drill = SpotInterruptionDrill(
                self,
                "SpotDrill",
                cluster_name=config.cluster_name,
                queue=self.interruption.queue,
                selection_mode=config.spot_drill_selection,
            )
            CfnOutput(
                self,
                "SpotDrillTemplateId",
                value=drill.template.attr_id,
                description="AWS FIS experiment template of the Spot interruption drill (make drill)",
            )

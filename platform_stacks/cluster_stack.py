"""ClusterStack: EKS control plane, system node group and managed add-ons."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from constructs_lib.access import update_kubeconfig_command
from constructs_lib.eks_addons import ManagedAddons
from constructs_lib.eks_cluster import PlatformCluster
from constructs_lib.system_nodes import SystemNodeGroup
from platform_config.config import PlatformConfig


class ClusterStack(Stack):
    """Wires PlatformCluster, SystemNodeGroup and ManagedAddons; exposes `cluster`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: PlatformConfig,
        vpc: ec2.IVpc,
        control_plane_subnets: ec2.SubnetSelection,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        # Read back by tools/report/synth_summary.py: which release profile this template was built from.
        self.template_options.metadata = {"EksPlatform": {"Release": config.release}}
        self.control_plane = PlatformCluster(
            self, "ControlPlane", config=config, vpc=vpc, control_plane_subnets=control_plane_subnets
        )
        self.cluster = self.control_plane.cluster
        self.addons = ManagedAddons(
            self,
            "Addons",
            cluster=self.cluster,
            cluster_name=config.cluster_name,
            kubernetes_version=config.kubernetes.version,
            logs_key=self.control_plane.logs_key,
            retention_days=config.log_retention_days,
            compliance_packs=config.compliance_packs,
        )
        self.system_nodes = SystemNodeGroup(self, "SystemNodes", config=config, cluster=self.cluster)
        # Node roles carry no CNI policy: aws-node's Pod Identity association exists before any node joins.
        self.system_nodes.nodegroup.node.add_dependency(self.addons.vpc_cni_association)
        self.addons.wait_for(self.system_nodes.nodegroup)
        # What a user needs after deploy (scripts/setup-cluster.sh prints them): literals from config, no tokens.
        CfnOutput(self, "ClusterName", value=config.cluster_name, description="EKS cluster name")
        CfnOutput(self, "Region", value=config.region, description="AWS region of the cluster")
        CfnOutput(
            self,
            "UpdateKubeconfigCommand",
            value=update_kubeconfig_command(config.cluster_name, config.region),
            description="Writes your kubeconfig; needs an access entry (admin_principal_arns)",
        )
        # Printed by cdk deploy and kept on the stack: the add-on versions EKS resolved for this Kubernetes version.
        CfnOutput(
            self,
            "ManagedAddonVersions",
            value=self.addons.versions_text(),
            description=f"EKS managed add-on versions for Kubernetes {config.kubernetes.version} (unpinned ones: "
            "EKS's default, resolved at deploy time by eks:DescribeAddonVersions)",
        )

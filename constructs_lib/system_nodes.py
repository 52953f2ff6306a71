"""SystemNodeGroup: On-Demand AL2023 nodes for add-ons only, IMDSv2 with hop limit 1, encrypted gp3 root."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from constructs_lib.eks_cluster import as_icluster
from constructs_lib.identities import node_role
from constructs_lib.nag import acknowledge, managed_policy_finding
from platform_checks.compatibility import node_release_version
from platform_config.config import PlatformConfig

# AWS-maintained worker policies EKS documents for managed node groups, without AmazonEKS_CNI_Policy:
# the VPC CNI (aws-node) has its own role through Pod Identity (constructs_lib/eks_addons.py).
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly")
SYSTEM_LABEL = {"eks-platform.io/node-role": "system"}
# Only pods that tolerate CriticalAddonsOnly (CoreDNS, Karpenter, the add-ons we install) land here;
# everything else goes to Karpenter capacity.
SYSTEM_TAINT = eks.TaintSpec(key="CriticalAddonsOnly", value="true", effect=eks.TaintEffect.NO_SCHEDULE)


class SystemNodeGroup(Construct):
    """Managed node group across the private subnets; exposes `nodegroup`, `node_role` and `launch_template`."""

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig, cluster: eks.Cluster) -> None:
        super().__init__(scope, id_)
        self.launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            require_imdsv2=True,
            # Hop limit 1: pods cannot reach the node's instance role through IMDS; they use Pod Identity.
            http_put_response_hop_limit=1,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        config.system_node_disk_gib, volume_type=ec2.EbsDeviceVolumeType.GP3, encrypted=True
                    ),
                )
            ],
        )
        self.node_role = node_role(
            self, "NodeRole", description=f"System node group of {config.cluster_name}", policies=NODE_POLICIES
        )
        self.nodegroup = eks.Nodegroup(
            self,
            "Nodegroup",
            cluster=as_icluster(cluster),
            ami_type=eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
            # The nodes move with the control plane (issue 21): the AMI release of the profile's alias where the
            # amazon-eks-ami changelog names one for its minor (else EKS's latest for that minor at deploy).
            release_version=node_release_version(config.ami_alias, config.kubernetes.version),
            capacity_type=eks.CapacityType.ON_DEMAND,
            instance_types=[ec2.InstanceType(t) for t in config.system_node_instance_types],
            min_size=config.system_node_min,
            desired_size=config.system_node_desired,
            max_size=config.system_node_max,
            node_role=self.node_role,
            labels=SYSTEM_LABEL,
            taints=[SYSTEM_TAINT],
            subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            launch_template_spec=eks.LaunchTemplateSpec(
                id=self.launch_template.launch_template_id or "",
                version=self.launch_template.latest_version_number,
            ),
        )
        # aws_eks_v2's Nodegroup takes no version: without one, a control-plane update leaves the nodes behind.
        cfn = self.nodegroup.node.default_child
        assert isinstance(cfn, eks.CfnNodegroup)
        cfn.version = config.kubernetes.version
        for policy in NODE_POLICIES:
            acknowledge(
                self.node_role,
                managed_policy_finding(policy),
                f"Nodes need the AWS managed {policy} to join the cluster and pull images; EKS documents it for "
                "node roles (the CNI policy is on aws-node's own Pod Identity role instead).",
            )

"""ManagedAddons: the EKS add-ons every node needs, with the EBS CSI driver's IAM through Pod Identity."""

from __future__ import annotations

from aws_cdk import aws_eks as eks_l1
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.eks_cluster import as_icluster
from constructs_lib.nag import acknowledge, managed_policy_finding
from platform_config import versions

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def pod_identity_role(scope: Construct, id_: str, *, description: str) -> iam.Role:
    """A role only EKS Pod Identity can assume (it needs AssumeRole and TagSession)."""
    role = iam.Role(scope, id_, assumed_by=iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL), description=description)
    role.assume_role_policy.add_statements(  # type: ignore[union-attr]
        iam.PolicyStatement(actions=["sts:TagSession"], principals=[iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL)])
    )
    return role


class ManagedAddons(Construct):
    """vpc-cni, coredns, kube-proxy, eks-pod-identity-agent, aws-ebs-csi-driver; exposes `addons`, `ebs_csi_role`."""

    def __init__(self, scope: Construct, id_: str, *, cluster: eks.Cluster, nodes: Construct) -> None:
        super().__init__(scope, id_)
        self.addons: dict[str, eks.Addon] = {}
        for name, version in versions.EKS_ADDONS.items():
            self.addons[name] = eks.Addon(
                self,
                _pascal(name),
                cluster=as_icluster(cluster),
                addon_name=name,
                addon_version=version,
                preserve_on_delete=False,
            )
        self.ebs_csi_role = pod_identity_role(
            self, "EbsCsiRole", description="EBS CSI controller, assumed through EKS Pod Identity"
        )
        self.ebs_csi_role.add_managed_policy(
            iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonEBSCSIDriverPolicy")
        )
        acknowledge(
            self.ebs_csi_role,
            managed_policy_finding("service-role/AmazonEBSCSIDriverPolicy"),
            "The EBS CSI driver's AWS managed policy is tag-scoped to volumes the driver creates and is "
            "updated by AWS with the driver.",
        )
        self.ebs_csi_association = eks_l1.CfnPodIdentityAssociation(
            self,
            "EbsCsiPodIdentity",
            cluster_name=cluster.cluster_name,
            namespace="kube-system",
            service_account="ebs-csi-controller-sa",
            role_arn=self.ebs_csi_role.role_arn,
        )
        # Add-ons whose pods need nodes wait for them, else EKS reports them DEGRADED and CFN fails.
        for name in ("coredns", "aws-ebs-csi-driver"):
            self.addons[name].node.add_dependency(nodes)
        self.addons["aws-ebs-csi-driver"].node.add_dependency(self.addons["eks-pod-identity-agent"])
        self.addons["aws-ebs-csi-driver"].node.add_dependency(self.ebs_csi_association)


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))

"""ManagedAddons: the EKS add-ons every node needs, with the EBS CSI driver's IAM through Pod Identity; each at the
version pinned in versions.EKS_ADDONS, else the one EKS marks default for the profile's Kubernetes version,
resolved at deploy time (AddonVersionLookup), so a control-plane step moves the add-ons in the same deploy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Fn
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.addon_versions import AddonVersionLookup, attribute
from constructs_lib.eks_cluster import as_icluster
from constructs_lib.identities import CNI_POLICY, PodIdentity, pod_identity
from constructs_lib.nag import acknowledge, managed_policy_finding
from platform_config import versions

# Network policy enforcement by the VPC CNI's node agent (off by default): NetworkPolicies take effect.
ADDON_CONFIGURATION: dict[str, dict[str, Any]] = {"vpc-cni": {"enableNetworkPolicy": "true"}}
EBS_CSI_SERVICE_ACCOUNT = ("kube-system", "ebs-csi-controller-sa")
# aws-node gets the CNI's AWS permissions through Pod Identity, so the node roles do without them.
VPC_CNI_SERVICE_ACCOUNT = ("kube-system", "aws-node")


class ManagedAddons(Construct):
    """vpc-cni, coredns, kube-proxy, eks-pod-identity-agent, aws-ebs-csi-driver; exposes `addons`, `ebs_csi_role`,
    `vpc_cni_role` and `vpc_cni_association` (nodes must be created after it: their role has no CNI policy)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: eks.Cluster,
        cluster_name: str,
        kubernetes_version: str,
        logs_key: kms.IKey,
        retention_days: int,
        compliance_packs: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        unpinned = [name for name, version in versions.EKS_ADDONS.items() if version is None]
        self.lookup = AddonVersionLookup(
            self,
            "VersionLookup",
            kubernetes_version=kubernetes_version,
            addons=unpinned,
            logs_key=logs_key,
            retention_days=retention_days,
            compliance_packs=compliance_packs,
        )
        # After the control plane: on a version bump the cluster is updated first, then looked up against.
        self.lookup.node.add_dependency(cluster)
        self.versions = {name: version or self.lookup.version(name) for name, version in versions.EKS_ADDONS.items()}
        self.addons: dict[str, eks.Addon] = {}
        for name, version in self.versions.items():
            self.addons[name] = eks.Addon(
                self,
                attribute(name),  # the same PascalCase id as the lookup attribute
                cluster=as_icluster(cluster),
                addon_name=name,
                addon_version=version,
                configuration_values=ADDON_CONFIGURATION.get(name),
                preserve_on_delete=False,
            )
        vpc_cni = self._addon_identity(
            "VpcCni",
            "VPC CNI (aws-node)",
            cluster=cluster,
            cluster_name=cluster_name,
            service_account=VPC_CNI_SERVICE_ACCOUNT,
            managed_policy=CNI_POLICY,
            reason="EKS documents the AWS managed AmazonEKS_CNI_Policy for the VPC CNI's own role; AWS updates it "
            "with the CNI. Only aws-node in kube-system of this cluster can assume this role.",
        )
        self.vpc_cni_role, self.vpc_cni_association = vpc_cni.role, vpc_cni.association
        self.addons["vpc-cni"].node.add_dependency(self.vpc_cni_association)
        ebs_csi = self._addon_identity(
            "EbsCsi",
            "EBS CSI controller",
            cluster=cluster,
            cluster_name=cluster_name,
            service_account=EBS_CSI_SERVICE_ACCOUNT,
            managed_policy="service-role/AmazonEBSCSIDriverPolicy",
            reason="The EBS CSI driver's AWS managed policy is tag-scoped to volumes the driver creates and is "
            "updated by AWS with the driver.",
        )
        self.ebs_csi_role, self.ebs_csi_association = ebs_csi.role, ebs_csi.association
        self.addons["aws-ebs-csi-driver"].node.add_dependency(self.addons["eks-pod-identity-agent"])
        self.addons["aws-ebs-csi-driver"].node.add_dependency(self.ebs_csi_association)

    def versions_text(self) -> str:
        """`name version, ...` of every managed add-on (a token: resolved versions are GetAtts of the lookup)."""
        return Fn.join(", ", [Fn.join(" ", [name, version]) for name, version in self.versions.items()])

    def _addon_identity(
        self,
        id_: str,
        who: str,
        *,
        cluster: eks.Cluster,
        cluster_name: str,
        service_account: tuple[str, str],
        managed_policy: str,
        reason: str,
    ) -> PodIdentity:
        """An add-on's own Pod Identity role with one AWS managed policy, acknowledged with its reason."""
        identity = pod_identity(
            self,
            id_,
            description=f"{who}, assumed through EKS Pod Identity",
            cluster_name=cluster_name,
            association_cluster_name=cluster.cluster_name,
            service_account=service_account,
        )
        identity.role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name(managed_policy))
        acknowledge(identity.role, managed_policy_finding(managed_policy), reason)
        return identity

    def wait_for(self, nodes: Construct) -> None:
        """Add-ons whose pods need nodes wait for them, else EKS reports them DEGRADED and CFN fails."""
        for name in ("coredns", "aws-ebs-csi-driver"):
            self.addons[name].node.add_dependency(nodes)

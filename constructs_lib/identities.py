"""IAM identities of the cluster: Pod Identity roles bound to one service account, and node roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_eks as eks_l1
from aws_cdk import aws_iam as iam
from constructs import Construct

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def pod_identity_trust_conditions(
    scope: Construct, *, cluster_name: str, namespace: str, service_account: str
) -> dict[str, Any]:
    """Session tags EKS Pod Identity sets: only this account's cluster, namespace and service account match."""
    cluster_arn = Stack.of(scope).format_arn(service="eks", resource="cluster", resource_name=cluster_name)
    return {
        "StringEquals": {
            "aws:SourceAccount": Stack.of(scope).account,
            "aws:RequestTag/eks-cluster-arn": cluster_arn,
            "aws:RequestTag/kubernetes-namespace": namespace,
            "aws:RequestTag/kubernetes-service-account": service_account,
        }
    }


@dataclass
class PodIdentity:
    """A role only one service account of one cluster can assume, and the association that hands it out."""

    role: iam.Role
    association: eks_l1.CfnPodIdentityAssociation


def pod_identity(
    scope: Construct,
    id_: str,
    *,
    description: str,
    cluster_name: str,
    association_cluster_name: str,
    service_account: tuple[str, str],
    role_id: str | None = None,
    association_id: str | None = None,
) -> PodIdentity:
    """`<id_>Role` (AssumeRole and TagSession by EKS Pod Identity, conditioned) and `<id_>PodIdentity`
    (or `role_id`/`association_id`: an association's logical id must not change, EKS refuses a second one)."""
    namespace, name = service_account
    conditions = pod_identity_trust_conditions(
        scope, cluster_name=cluster_name, namespace=namespace, service_account=name
    )
    principal = iam.SessionTagsPrincipal(
        iam.PrincipalWithConditions(iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL), conditions)
    )
    role = iam.Role(scope, role_id or f"{id_}Role", assumed_by=principal, description=description)
    association = eks_l1.CfnPodIdentityAssociation(
        scope,
        association_id or f"{id_}PodIdentity",
        cluster_name=association_cluster_name,
        namespace=namespace,
        service_account=name,
        role_arn=role.role_arn,
    )
    return PodIdentity(role=role, association=association)


# The VPC CNI's managed policy: only aws-node's own Pod Identity role gets it (constructs_lib/eks_addons.py).
CNI_POLICY = "AmazonEKS_CNI_Policy"


def node_role(scope: Construct, id_: str, *, description: str, policies: tuple[str, ...]) -> iam.Role:
    """An EC2 instance role for nodes with the given AWS managed policies, never CNI_POLICY: with it every pod
    on the node could manage the VPC's network interfaces through the instance role."""
    if CNI_POLICY in policies:
        raise ValueError(f"node role {id_}: {CNI_POLICY} belongs to aws-node's own role, not to a node role")
    return iam.Role(
        scope,
        id_,
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        description=description,
        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(name) for name in policies],
    )

"""What cdk-nag's EKS rules miss on aws_eks_v2: endpoint, logs, secrets KMS, auth mode, node IMDSv2 and gp3."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from constructs_lib.eks_addons import ManagedAddons
from constructs_lib.eks_cluster import PlatformCluster
from constructs_lib.network import PlatformVpc
from constructs_lib.system_nodes import SystemNodeGroup
from tests.stack_fixtures import config, stack, template

ADMIN = "arn:aws:iam::123456789012:role/platform-admins"


def build(**overrides: Any) -> Template:
    cfg = config(**overrides)
    s = stack(cfg)
    vpc = PlatformVpc(s, "Net", config=cfg).vpc
    cp = PlatformCluster(s, "ControlPlane", config=cfg, vpc=vpc)
    nodes = SystemNodeGroup(s, "System", config=cfg, cluster=cp.cluster)
    ManagedAddons(s, "Addons", cluster=cp.cluster, nodes=nodes.nodegroup)
    return template(s)


@pytest.fixture(scope="module")
def default() -> Template:
    return build(admin_principal_arns=[ADMIN])


def cluster_props(t: Template) -> dict[str, Any]:
    (cluster,) = t.find_resources("AWS::EKS::Cluster").values()
    return cluster["Properties"]


def test_endpoint_is_private_by_default(default: Template) -> None:
    vpc_config = cluster_props(default)["ResourcesVpcConfig"]
    assert vpc_config["EndpointPrivateAccess"] is True
    assert vpc_config["EndpointPublicAccess"] is False


def test_public_endpoint_is_limited_to_configured_cidrs() -> None:
    t = build(endpoint_access="public_and_private", public_access_cidrs=["203.0.113.0/24"])
    vpc_config = cluster_props(t)["ResourcesVpcConfig"]
    assert vpc_config["EndpointPublicAccess"] is True
    assert vpc_config["PublicAccessCidrs"] == ["203.0.113.0/24"]


def test_all_five_control_plane_log_types_are_on(default: Template) -> None:
    types = {entry["Type"] for entry in cluster_props(default)["Logging"]["ClusterLogging"]["EnabledTypes"]}
    assert types == {"api", "audit", "authenticator", "controllerManager", "scheduler"}


def test_secrets_are_encrypted_with_a_rotating_customer_key(default: Template) -> None:
    encryption = cluster_props(default)["EncryptionConfig"]
    assert encryption[0]["Resources"] == ["secrets"]
    assert "Fn::GetAtt" in encryption[0]["Provider"]["KeyArn"]
    default.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_api_authentication_without_standing_creator_admin(default: Template) -> None:
    access = cluster_props(default)["AccessConfig"]
    assert access == {"AuthenticationMode": "API", "BootstrapClusterCreatorAdminPermissions": False}


@pytest.mark.parametrize(("release", "version"), [("seed", "1.29"), ("current", "1.36")])
def test_cluster_runs_the_profiles_kubernetes_without_auto_mode(release: str, version: str) -> None:
    props = cluster_props(build(release=release))
    assert props["Version"] == version
    assert props["ComputeConfig"] == {"Enabled": False}


def test_admin_principals_get_cluster_admin_access_entries(default: Template) -> None:
    entries = [e["Properties"] for e in default.find_resources("AWS::EKS::AccessEntry").values()]
    (admin,) = [e for e in entries if e["PrincipalArn"] == ADMIN]
    (policy,) = admin["AccessPolicies"]
    assert policy["AccessScope"] == {"Type": "cluster"}
    assert policy["PolicyArn"]["Fn::Join"][1][-1].endswith(":cluster-access-policy/AmazonEKSClusterAdminPolicy")


def test_system_nodes_require_imdsv2_with_hop_limit_one_and_encrypted_gp3(default: Template) -> None:
    (lt,) = default.find_resources("AWS::EC2::LaunchTemplate").values()
    data = lt["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    (device,) = data["BlockDeviceMappings"]
    assert device["Ebs"]["VolumeType"] == "gp3"
    assert device["Ebs"]["Encrypted"] is True


def test_system_node_group_is_on_demand_al2023_across_azs_and_tainted(default: Template) -> None:
    (ng,) = default.find_resources("AWS::EKS::Nodegroup").values()
    props = ng["Properties"]
    assert props["CapacityType"] == "ON_DEMAND"
    assert props["AmiType"] == "AL2023_x86_64_STANDARD"
    assert props["ScalingConfig"] == {"MinSize": 2, "DesiredSize": 2, "MaxSize": 4}
    assert len(props["Subnets"]) == 3
    assert props["Labels"] == {"eks-platform.io/node-role": "system"}
    assert props["Taints"] == [{"Key": "CriticalAddonsOnly", "Value": "true", "Effect": "NO_SCHEDULE"}]


def test_managed_addons_installed_and_ebs_csi_uses_pod_identity(default: Template) -> None:
    names = {a["Properties"]["AddonName"] for a in default.find_resources("AWS::EKS::Addon").values()}
    assert names == {"vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"}
    default.has_resource_properties(
        "AWS::EKS::PodIdentityAssociation",
        {"Namespace": "kube-system", "ServiceAccount": "ebs-csi-controller-sa"},
    )
    default.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Action": "sts:AssumeRole", "Principal": {"Service": "pods.eks.amazonaws.com"}}
                        ),
                        Match.object_like(
                            {"Action": "sts:TagSession", "Principal": {"Service": "pods.eks.amazonaws.com"}}
                        ),
                    ]
                )
            }
        },
    )


def test_addons_that_need_nodes_wait_for_the_node_group(default: Template) -> None:
    addons = default.find_resources("AWS::EKS::Addon")
    (ng_id,) = default.find_resources("AWS::EKS::Nodegroup")
    by_name = {a["Properties"]["AddonName"]: a for a in addons.values()}
    assert ng_id in by_name["coredns"].get("DependsOn", [])
    assert ng_id in by_name["aws-ebs-csi-driver"].get("DependsOn", [])

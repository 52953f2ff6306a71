"""What cdk-nag's EKS rules miss on aws_eks_v2: endpoint, logs, secrets KMS, auth mode, node IMDSv2 and gp3."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from constructs_lib.eks_addons import ManagedAddons
from constructs_lib.eks_cluster import PlatformCluster
from constructs_lib.karpenter_iam import reference_iam
from constructs_lib.network import CONTROL_PLANE_SUBNET_NAME, PlatformVpc
from constructs_lib.system_nodes import SystemNodeGroup
from platform_checks.compatibility import node_release_version
from platform_checks.helm_template import cdk_manifests
from platform_config.versions import PROFILES
from tests.conftest import Synthesized
from tests.stack_fixtures import config, stack, template

ADMIN = "arn:aws:iam::123456789012:role/platform-admins"


def build(**overrides: Any) -> Template:
    cfg = config(**overrides)
    s = stack(cfg)
    net = PlatformVpc(s, "Net", config=cfg)
    cp = PlatformCluster(s, "ControlPlane", config=cfg, vpc=net.vpc, control_plane_subnets=net.control_plane_subnets)
    addons = ManagedAddons(
        s,
        "Addons",
        cluster=cp.cluster,
        cluster_name=cfg.cluster_name,
        kubernetes_version=cfg.kubernetes.version,
        logs_key=cp.logs_key,
        retention_days=cfg.log_retention_days,
    )
    nodes = SystemNodeGroup(s, "System", config=cfg, cluster=cp.cluster)
    nodes.nodegroup.node.add_dependency(addons.vpc_cni_association)
    addons.wait_for(nodes.nodegroup)
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


@pytest.mark.parametrize("release", sorted(PROFILES))
def test_system_node_group_follows_the_profiles_kubernetes_and_ami_release(release: str) -> None:
    (ng,) = build(release=release).find_resources("AWS::EKS::Nodegroup").values()
    profile = PROFILES[release]
    assert ng["Properties"]["Version"] == profile.kubernetes.version
    expected = node_release_version(profile.ami_alias, profile.kubernetes.version)
    assert ng["Properties"].get("ReleaseVersion") == expected
    if expected:
        assert expected.startswith(profile.kubernetes.version + ".")
        assert expected.endswith(profile.ami_alias.split("@v", 1)[1])


def test_admin_principals_get_cluster_admin_access_entries(default: Template) -> None:
    entries = [e["Properties"] for e in default.find_resources("AWS::EKS::AccessEntry").values()]
    (admin,) = [e for e in entries if e["PrincipalArn"] == ADMIN]
    (policy,) = admin["AccessPolicies"]
    assert policy["AccessScope"] == {"Type": "cluster"}
    assert policy["PolicyArn"]["Fn::Join"][1][-1].endswith(":cluster-access-policy/AmazonEKSClusterAdminPolicy")


def test_viewer_principals_get_view_only_access_entries() -> None:
    viewer = "arn:aws:iam::123456789012:role/platform-viewers"
    entries = [
        e["Properties"] for e in build(viewer_principal_arns=[viewer]).find_resources("AWS::EKS::AccessEntry").values()
    ]
    (entry,) = [e for e in entries if e["PrincipalArn"] == viewer]
    (policy,) = entry["AccessPolicies"]
    assert policy["AccessScope"] == {"Type": "cluster"}
    assert policy["PolicyArn"]["Fn::Join"][1][-1].endswith(":cluster-access-policy/AmazonEKSViewPolicy")


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
    trust = pod_identity_trust(default, "ebs-csi-controller-sa")
    assert set(trust["Action"]) == {"sts:AssumeRole", "sts:TagSession"}


def pod_identity_trust(t: Template, service_account: str) -> dict[str, Any]:
    """The one trust statement of the role a Pod Identity association names."""
    (assoc,) = [
        a["Properties"]
        for a in t.find_resources("AWS::EKS::PodIdentityAssociation").values()
        if a["Properties"]["ServiceAccount"] == service_account
    ]
    role = t.to_json()["Resources"][assoc["RoleArn"]["Fn::GetAtt"][0]]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    return dict(statement)


@pytest.mark.parametrize("service_account", ["aws-node", "ebs-csi-controller-sa"])
def test_pod_identity_trust_is_bound_to_account_cluster_namespace_and_service_account(
    default: Template, service_account: str
) -> None:
    statement = pod_identity_trust(default, service_account)
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    equals = statement["Condition"]["StringEquals"]
    assert equals["aws:RequestTag/kubernetes-namespace"] == "kube-system"
    assert equals["aws:RequestTag/kubernetes-service-account"] == service_account
    assert equals["aws:SourceAccount"] == "111111111111"
    assert ":cluster/eks-platform" in str(equals["aws:RequestTag/eks-cluster-arn"])


def binding(statement: dict[str, Any]) -> tuple[str, str] | None:
    """(namespace, service account) a Pod Identity trust statement is bound to, or None if any pod could use it."""
    equals = statement.get("Condition", {}).get("StringEquals", {})
    keys = ("aws:RequestTag/kubernetes-namespace", "aws:RequestTag/kubernetes-service-account")
    if not all(k in equals for k in (*keys, "aws:SourceAccount", "aws:RequestTag/eks-cluster-arn")):
        return None
    return equals[keys[0]], equals[keys[1]]


def test_trust_binding_check_refuses_a_role_any_association_could_assume(default: Template) -> None:
    assert binding(pod_identity_trust(default, "aws-node")) == ("kube-system", "aws-node")
    unbound = {"Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
    assert binding(unbound) is None


def test_aws_node_has_its_own_pod_identity_role_with_the_cni_policy(default: Template) -> None:
    statement = pod_identity_trust(default, "aws-node")
    assert statement["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == "aws-node"
    (assoc_id,) = [
        k
        for k, a in default.find_resources("AWS::EKS::PodIdentityAssociation").items()
        if a["Properties"]["ServiceAccount"] == "aws-node"
    ]
    resources = default.to_json()["Resources"]
    role = resources[resources[assoc_id]["Properties"]["RoleArn"]["Fn::GetAtt"][0]]
    assert [a["Fn::Join"][1][-1] for a in role["Properties"]["ManagedPolicyArns"]] == [
        ":iam::aws:policy/AmazonEKS_CNI_Policy"
    ]
    # Nodes join only after the association exists (their role has no CNI policy).
    (ng,) = default.find_resources("AWS::EKS::Nodegroup").values()
    assert assoc_id in ng["DependsOn"]


def test_vpc_cni_enforces_network_policies(default: Template) -> None:
    (cni,) = [
        a for a in default.find_resources("AWS::EKS::Addon").values() if a["Properties"]["AddonName"] == "vpc-cni"
    ]
    assert json.loads(cni["Properties"]["ConfigurationValues"]) == {"enableNetworkPolicy": "true"}
    others = [
        a for a in default.find_resources("AWS::EKS::Addon").values() if a["Properties"]["AddonName"] != "vpc-cni"
    ]
    assert all("ConfigurationValues" not in a["Properties"] for a in others)


def test_system_node_role_has_no_cni_policy_and_the_karpenter_references_ecr_policy(default: Template) -> None:
    (ng,) = default.find_resources("AWS::EKS::Nodegroup").values()
    role = default.to_json()["Resources"][ng["Properties"]["NodeRole"]["Fn::GetAtt"][0]]
    names = {a["Fn::Join"][1][-1].rsplit("/", 1)[-1] for a in role["Properties"]["ManagedPolicyArns"]}
    reference = reference_iam(config().profile.karpenter_version).node_managed_policies
    assert names == {"AmazonEKSWorkerNodePolicy", *(p for p in reference if p.startswith("AmazonEC2ContainerRegistry"))}
    assert not any("CNI" in n for n in names)


def test_addons_that_need_nodes_wait_for_the_node_group(default: Template) -> None:
    addons = default.find_resources("AWS::EKS::Addon")
    (ng_id,) = default.find_resources("AWS::EKS::Nodegroup")
    by_name = {a["Properties"]["AddonName"]: a for a in addons.values()}
    assert ng_id in by_name["coredns"].get("DependsOn", [])
    assert ng_id in by_name["aws-ebs-csi-driver"].get("DependsOn", [])


def subnet_groups(t: Template) -> dict[str, set[str]]:
    """Subnet logical ids by CDK subnet group name (public, private, control-plane)."""
    out: dict[str, set[str]] = {}
    for lid, subnet in t.find_resources("AWS::EC2::Subnet").items():
        tags = {tag["Key"]: tag["Value"] for tag in subnet["Properties"]["Tags"]}
        out.setdefault(tags["aws-cdk:subnet-name"], set()).add(lid)
    return out


def test_the_cluster_is_in_exactly_the_control_plane_subnets_and_nodes_in_none_of_them(default: Template) -> None:
    groups = subnet_groups(default)
    cluster_subnets = {ref["Ref"] for ref in cluster_props(default)["ResourcesVpcConfig"]["SubnetIds"]}
    assert cluster_subnets == groups[CONTROL_PLANE_SUBNET_NAME]
    (nodegroup,) = default.find_resources("AWS::EKS::Nodegroup").values()
    node_subnets = {ref["Ref"] for ref in nodegroup["Properties"]["Subnets"]}
    assert node_subnets == groups["private"]
    # The kubectl handler reaches the private endpoint from the nodes' subnets, like any client in the VPC.
    handlers = default.find_resources("AWS::Lambda::Function", {"Properties": {"VpcConfig": Match.any_value()}})
    assert handlers
    for handler in handlers.values():
        handler_subnets = {ref["Ref"] for ref in handler["Properties"]["VpcConfig"]["SubnetIds"]}
        assert handler_subnets <= groups["private"]


def export_targets(network: dict[str, Any]) -> dict[str, str]:
    """Export name -> the logical id it exports (Ref outputs of the network stack)."""
    return {
        out["Export"]["Name"]: out["Value"]["Ref"]
        for out in network.get("Outputs", {}).values()
        if "Export" in out and isinstance(out["Value"], dict) and "Ref" in out["Value"]
    }


def test_the_synthesized_cluster_imports_only_the_control_plane_subnets(synthesized: Synthesized) -> None:
    network = synthesized.templates["network"]
    groups = subnet_groups(Template.from_json(network))
    exports = export_targets(network)
    cluster = synthesized.only("cluster", "AWS::EKS::Cluster")["Properties"]
    cluster_subnets = {exports[ref["Fn::ImportValue"]] for ref in cluster["ResourcesVpcConfig"]["SubnetIds"]}
    assert cluster_subnets == groups[CONTROL_PLANE_SUBNET_NAME]
    nodegroup = synthesized.only("cluster", "AWS::EKS::Nodegroup")["Properties"]
    assert {exports[ref["Fn::ImportValue"]] for ref in nodegroup["Subnets"]} == groups["private"]


def test_the_synthesized_webhook_policies_admit_exactly_the_control_plane_cidrs(synthesized: Synthesized) -> None:
    network = synthesized.templates["network"]
    control_plane = {
        subnet["Properties"]["CidrBlock"]
        for lid, subnet in network["Resources"].items()
        if lid in subnet_groups(Template.from_json(network))[CONTROL_PLANE_SUBNET_NAME]
    }
    policies = [
        m
        for m in cdk_manifests(synthesized.templates)
        if m.get("kind") == "NetworkPolicy" and m["metadata"]["name"].endswith("from-api-server")
    ]
    assert policies
    for policy in policies:
        for rule in policy["spec"]["ingress"]:
            assert [set(peer) for peer in rule["from"]] == [{"ipBlock"}] * len(rule["from"])
            assert {peer["ipBlock"]["cidr"] for peer in rule["from"]} == control_plane, policy["metadata"]["name"]

"""Karpenter's AWS side: interruption queue, the five EventBridge patterns, node role and Pod Identity controller."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.interruption_queue import INTERRUPTION_EVENTS
from tests.conftest import Synthesized


def queue(s: Synthesized) -> dict[str, Any]:
    return s.only("karpenter", "AWS::SQS::Queue")["Properties"]


def test_interruption_queue_is_named_after_the_cluster(synthesized: Synthesized) -> None:
    assert queue(synthesized)["QueueName"] == "eks-platform"


def test_interruption_queue_keeps_messages_300_s(synthesized: Synthesized) -> None:
    assert queue(synthesized)["MessageRetentionPeriod"] == 300


def test_interruption_queue_uses_sqs_managed_encryption(synthesized: Synthesized) -> None:
    assert queue(synthesized)["SqsManagedSseEnabled"] is True


def test_interruption_queue_denies_non_tls_access(synthesized: Synthesized) -> None:
    policy = synthesized.only("karpenter", "AWS::SQS::QueuePolicy")["Properties"]["PolicyDocument"]
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_eventbridge_may_send_and_only_from_our_rules(synthesized: Synthesized) -> None:
    policy = synthesized.only("karpenter", "AWS::SQS::QueuePolicy")["Properties"]["PolicyDocument"]
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert len(allows) == len(INTERRUPTION_EVENTS)
    for statement in allows:
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        # CDK's SqsQueue target grants SendMessage plus the two read calls EventBridge makes first.
        assert set(statement["Action"]) == {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
        assert "aws:SourceArn" in statement["Condition"]["ArnEquals"]


EXPECTED_PATTERNS = {
    ("aws.health", "AWS Health Event"),
    ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("aws.ec2", "EC2 Instance State-change Notification"),
    ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
}


def test_eventbridge_rules_match_exactly_the_five_interruption_kinds(synthesized: Synthesized) -> None:
    rules = synthesized.resources("karpenter", "AWS::Events::Rule").values()
    patterns = set()
    for rule in rules:
        pattern = rule["Properties"]["EventPattern"]
        assert set(pattern) == {"source", "detail-type"}
        (source,) = pattern["source"]
        (detail,) = pattern["detail-type"]
        patterns.add((source, detail))
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == {
            "Fn::GetAtt": [next(iter(synthesized.resources("karpenter", "AWS::SQS::Queue"))), "Arn"]
        }
    assert patterns == EXPECTED_PATTERNS


def test_node_role_has_reference_managed_policies_and_ec2_linux_access_entry(
    synthesized: Synthesized,
) -> None:
    roles = synthesized.resources("karpenter", "AWS::IAM::Role")
    (node_role_id,) = [
        k
        for k, r in roles.items()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    ]
    arns = roles[node_role_id]["Properties"]["ManagedPolicyArns"]
    names = {a["Fn::Join"][1][-1].rsplit("/", 1)[-1] for a in arns}
    # Karpenter 1.14's reference narrows ECR access to pulls (AmazonEC2ContainerRegistryPullOnly).
    ecr = {"seed": "AmazonEC2ContainerRegistryReadOnly", "current": "AmazonEC2ContainerRegistryPullOnly"}
    # No AmazonEKS_CNI_Policy: aws-node has its own Pod Identity role (issue 13).
    assert names == {
        "AmazonEKSWorkerNodePolicy",
        ecr[synthesized.config.release],
        "AmazonSSMManagedInstanceCore",
    }
    entry = synthesized.only("karpenter", "AWS::EKS::AccessEntry")["Properties"]
    assert entry["Type"] == "EC2_LINUX"
    assert entry["PrincipalArn"] == {"Fn::GetAtt": [node_role_id, "Arn"]}
    assert "AccessPolicies" not in entry or entry["AccessPolicies"] == []


def test_controller_role_is_assumed_only_through_pod_identity(synthesized: Synthesized) -> None:
    association = synthesized.only("karpenter", "AWS::EKS::PodIdentityAssociation")["Properties"]
    assert (association["Namespace"], association["ServiceAccount"]) == ("kube-system", "karpenter")
    role_id = association["RoleArn"]["Fn::GetAtt"][0]
    trust = synthesized.templates["karpenter"]["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]
    actions = set()
    for statement in trust["Statement"]:
        assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        actions.update([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        equals = statement["Condition"]["StringEquals"]
        assert equals["aws:RequestTag/kubernetes-namespace"] == "kube-system"
        assert equals["aws:RequestTag/kubernetes-service-account"] == "karpenter"
    assert actions == {"sts:AssumeRole", "sts:TagSession"}


@pytest.fixture(scope="module")
def controller_statements(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    policies = synthesized.resources("karpenter", "AWS::IAM::ManagedPolicy").values()
    return {s["Sid"]: s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]}


def test_controller_policy_is_scoped_to_this_queue_and_node_role(
    synthesized: Synthesized, controller_statements: dict[str, dict[str, Any]]
) -> None:
    (queue_id,) = synthesized.resources("karpenter", "AWS::SQS::Queue")
    assert controller_statements["AllowInterruptionQueueActions"]["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    pass_role = controller_statements["AllowPassingInstanceRole"]
    assert pass_role["Resource"]["Fn::GetAtt"][1] == "Arn"
    passed_to = pass_role["Condition"]["StringEquals"]["iam:PassedToService"]
    # EC2 only: the commercial principal, plus the China partition's in Karpenter 1.14's reference.
    assert passed_to in ("ec2.amazonaws.com", ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"])


def test_controller_policy_mutations_are_conditioned_on_this_cluster_tag(
    controller_statements: dict[str, dict[str, Any]],
) -> None:
    for sid in (
        "AllowScopedEC2LaunchTemplateAccessActions",
        "AllowScopedDeletion",
        "AllowScopedResourceTagging",
    ):
        equals = controller_statements[sid]["Condition"]["StringEquals"]
        assert equals["aws:ResourceTag/kubernetes.io/cluster/eks-platform"] == "owned", sid
    for sid in ("AllowScopedEC2InstanceActionsWithTags", "AllowScopedResourceCreationTagging"):
        equals = controller_statements[sid]["Condition"]["StringEquals"]
        assert equals["aws:RequestTag/kubernetes.io/cluster/eks-platform"] == "owned", sid
        assert equals["aws:RequestTag/eks:eks-cluster-name"] == "eks-platform", sid


def test_a_node_role_refuses_the_cni_policy() -> None:
    # aws-node has its own Pod Identity role; on an instance role every pod on the node could use it.
    import aws_cdk as cdk

    from constructs_lib.identities import CNI_POLICY, node_role

    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match="node role Nodes: AmazonEKS_CNI_Policy belongs to aws-node's own role"):
        node_role(stack, "Nodes", description="d", policies=(CNI_POLICY, "AmazonEKSWorkerNodePolicy"))
    node_role(stack, "Ok", description="d", policies=("AmazonEKSWorkerNodePolicy",))
    # Refused before anything is built: the template holds only the accepted role.
    (logical_id,) = cdk.assertions.Template.from_stack(stack).find_resources("AWS::IAM::Role")
    assert logical_id.startswith("Ok")

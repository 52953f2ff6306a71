"""LoadBalancerControllerIdentity: the AWS Load Balancer Controller's Pod Identity role, granting the reference
iam_policy.json of the pinned controller version with only the NARROWINGS below applied."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.identities import pod_identity
from constructs_lib.nag import acknowledge, acknowledge_in_packs
from platform_checks.upstream_facts import app_version
from platform_config.addons import addon
from platform_config.config import PlatformConfig
from platform_config.versions import ReleaseProfile

ROOT = Path(__file__).resolve().parent.parent
RELEASE = "aws-load-balancer-controller"
# The chart's ServiceAccount (serviceAccount.name in helm_values/aws-load-balancer-controller.yaml).
SERVICE_ACCOUNT = "aws-load-balancer-controller"
# The tag the controller puts on every load balancer, target group and security group it creates, valued with
# its clusterName.
CLUSTER_TAG = "elbv2.k8s.aws/cluster"


@dataclass(frozen=True)
class Narrowing:
    """One listed difference from the reference policy: for every condition `Null: {key: "false"}` (the tag must
    be present), also require `StringEquals: {key: <cluster name>}`."""

    name: str
    condition_keys: tuple[str, ...]
    why: str


# The only ways our policy differs from the reference (tests/test_lb_controller_policy_reference.py).
NARROWINGS: tuple[Narrowing, ...] = (
    Narrowing(
        name="cluster-tag-value",
        condition_keys=(f"aws:RequestTag/{CLUSTER_TAG}", f"aws:ResourceTag/{CLUSTER_TAG}"),
        why="the reference only checks that the cluster tag exists, so a controller of any cluster in the account "
        "could change another cluster's load balancers; we require our cluster's name as its value",
    ),
)


def reference_policy(profile: ReleaseProfile) -> dict[str, Any]:
    """upstream_facts/<profile>/aws-load-balancer-controller/iam_policy-<controller version>.json."""
    source = profile.files_profile(addon(RELEASE).chart)  # an upgrade step reads the profile pinning its chart
    version = app_version(addon(RELEASE).chart, source)
    path = ROOT / "upstream_facts" / source / RELEASE / f"iam_policy-{version}.json"
    if not path.is_file():
        raise ValueError(
            f"{path.relative_to(ROOT)} missing: the {source} profile pins controller {version}; derive its "
            "reference policy (python -m tools.generate.derive_upstream)"
        )
    facts: dict[str, Any] = json.loads(path.read_text())
    return facts


def narrowed(statement: dict[str, Any], cluster_name: str) -> dict[str, Any]:
    """A reference statement fact ({effect, actions, resources, conditions}) with NARROWINGS applied."""
    out = copy.deepcopy(statement)
    conditions = out["conditions"]
    for narrowing in NARROWINGS:
        for key in narrowing.condition_keys:
            if conditions.get("Null", {}).get(key) == "false":
                conditions.setdefault("StringEquals", {})[key] = cluster_name
    return out


def controller_statements(profile: ReleaseProfile, cluster_name: str) -> list[dict[str, Any]]:
    """The statements we grant: the reference's, in its order, each narrowed."""
    return [narrowed(s, cluster_name) for s in reference_policy(profile)["statements"]]


def policy_statement(index: int, fact: dict[str, Any]) -> iam.PolicyStatement:
    # A Sid per statement keeps CDK's statement minimization from merging them (the parity test compares them).
    return iam.PolicyStatement.from_json(
        {
            "Sid": f"Reference{index:02d}",
            "Effect": fact["effect"],
            "Action": fact["actions"],
            "Resource": fact["resources"],
            **({"Condition": fact["conditions"]} if fact["conditions"] else {}),
        }
    )


# Why each wildcard resource of the reference stays (cdk-nag IAM5 names the resource).
WILDCARD_REASONS = {
    "*": "Describe/Get calls, WAF, Shield, ACM and Cognito lookups have no resource-level permissions or act on "
    "resources an Ingress names at run time; every mutating call is conditioned on our cluster's tag",
    "arn:aws:ec2:*:*:security-group/*": "the controller creates the ALB's security groups at run time; changes "
    "require the elbv2.k8s.aws/cluster tag equal to this cluster",
    "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*": "target groups are created per Ingress backend at run "
    "time, tagged with this cluster",
    "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*": "load balancers are created at run time, tagged with "
    "this cluster",
    "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*": "load balancers are created at run time, tagged with "
    "this cluster",
    "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*": "listeners of the load balancers it creates",
    "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*": "listeners of the load balancers it creates",
    "arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*": "listener rules of the load balancers it creates",
    "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*": "listener rules of the load balancers it creates",
}


class LoadBalancerControllerIdentity(Construct):
    """Exposes `role`, `policy` and `association` (the Pod Identity association the release waits for)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: eks.ICluster,
        cluster_name: str,
        profile: ReleaseProfile,
        compliance_packs: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        namespace = addon(RELEASE).namespace
        identity = pod_identity(
            self,
            "Controller",
            description=f"AWS Load Balancer Controller of {cluster_name}: ALBs for this cluster's Ingresses",
            cluster_name=cluster_name,
            association_cluster_name=cluster.cluster_name,
            service_account=(namespace, SERVICE_ACCOUNT),
            role_id="Role",
            association_id="PodIdentity",
        )
        self.role, self.association = identity.role, identity.association
        facts = controller_statements(profile, cluster_name)
        # Inline: the reference policy with our conditions is larger than a managed policy's 6,144 characters.
        self.policy = iam.Policy(
            self,
            "Policy",
            roles=[self.role],
            statements=[policy_statement(i, f) for i, f in enumerate(facts)],
        )
        acknowledge_in_packs(
            self.policy,
            "IAMNoInlinePolicy",
            "The controller's reference policy with this cluster's conditions exceeds a managed policy's 6,144 "
            "characters; inline on its own Pod Identity role only (tests/test_lb_controller_policy_reference.py).",
            enabled=compliance_packs,
        )
        for resource in sorted({r for f in facts for r in f["resources"]}):
            if "*" in resource:
                acknowledge(
                    self.policy,
                    f"AwsSolutions-IAM5[Resource::{resource}]",
                    f"AWS Load Balancer Controller reference policy: {WILDCARD_REASONS[resource]}.",
                )


def controller_values(*, config: PlatformConfig, vpc_id: str) -> dict[str, Any]:
    """What the chart cannot find itself: the nodes' IMDS hop limit of 1 keeps the controller from reading the
    region and VPC from instance metadata, so the stack hands them over."""
    return {"clusterName": config.cluster_name, "region": config.region, "vpcId": vpc_id}

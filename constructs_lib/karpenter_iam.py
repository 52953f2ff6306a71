"""KarpenterIam: node role (+ EC2_LINUX access entry) and the Pod Identity controller role, per Karpenter version."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.identities import CNI_POLICY, node_role, pod_identity
from constructs_lib.nag import acknowledge, managed_policy_finding
from platform_checks.upstream_facts import load_fact, stale_pin
from platform_config.addons import addon
from platform_config.versions import PROFILES


@dataclass(frozen=True)
class ReferenceIam:
    """What Karpenter's reference CloudFormation (getting-started cloudformation.yaml) changes between versions."""

    # Controller managed policies as the reference splits them: construct id -> statement Sids, in order.
    policies: dict[str, tuple[str, ...]]
    # AllowRegionalReadActions: the Describe* calls the controller makes.
    regional_read_actions: tuple[str, ...]
    # AllowScopedEC2InstanceAccessActions: resource kinds RunInstances/CreateFleet may use besides images,
    # snapshots, security groups and subnets.
    launch_resource_kinds: tuple[str, ...]
    # AllowPassingInstanceRole: the EC2 service principals the node role may be passed to.
    passed_to_service: tuple[str, ...]
    # The node role's AWS managed policies.
    node_managed_policies: tuple[str, ...]


# The resources every launch statement names; the reference adds more kinds (capacity reservations, ...) by version.
_LAUNCH_BASE_KINDS = ("image", "snapshot", "security-group", "subnet")


def _as_tuple(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _resource_kind(arn: str) -> str:
    """`arn:${AWS::Partition}:ec2:${AWS::Region}:*:capacity-reservation/*` -> `capacity-reservation`."""
    return arn.rsplit(":", 1)[-1].split("/", 1)[0]


def wildcard_reasons(statements: list[iam.PolicyStatement]) -> dict[str, str]:
    """cdk-nag IAM5 wildcard resources of a policy (in cdk-nag's <AWS::...> spelling) with why each stays."""
    reasons: dict[str, str] = {}
    unscoped: list[str] = []
    for statement in statements:
        for resource in statement.resources:
            if resource == "*":
                for action in statement.actions:
                    why = [why for prefix, why in UNSCOPED_ACTIONS.items() if action.startswith(prefix)]
                    if not why:
                        raise ValueError(f"{statement.sid}: {action} on Resource '*' has no reason in UNSCOPED_ACTIONS")
                    unscoped += why
            elif "*" in resource:
                reasons[resource] = WILDCARD_REASONS[resource]
    if unscoped:
        reasons["*"] = ", ".join(dict.fromkeys(unscoped)) + " support no resource-level permissions"
    return reasons


def reference_iam(karpenter_version: str) -> ReferenceIam:
    """The reference IAM shape of a pinned Karpenter version, read from the facts derived from that version's
    cloudformation.yaml (upstream_facts/<profile>/karpenter/reference-cfn.json): a patch bump whose reference is
    unchanged needs no edit here, and one that adds a statement fails naming it (controller_statements)."""
    pinning = [name for name, p in sorted(PROFILES.items()) if p.karpenter_version == karpenter_version]
    if not pinning:
        pinned = sorted({p.karpenter_version for p in PROFILES.values()})
        raise ValueError(f"Karpenter {karpenter_version} is pinned by no release profile; accepted: {pinned}")
    stale = stale_pin("karpenter", pinning[0])
    if stale is not None:
        raise ValueError(stale)
    ref = load_fact("karpenter/reference-cfn.json", pinning[0])
    policies = {
        # KarpenterControllerPolicy (1.0) -> ControllerPolicy: the construct ids the stacks have always used.
        name.removeprefix("Karpenter"): tuple(ref["controller_policies"][name]["sids"])
        for name in ref["controller_policy_order"]
    }
    statements = {sid: s for p in ref["controller_policies"].values() for sid, s in p["statements"].items()}
    launch = statements["AllowScopedEC2InstanceAccessActions"]["resources"]
    return ReferenceIam(
        policies=policies,
        # Case-insensitive order, as the reference lists them (DescribeInstances before DescribeInstanceStatus).
        regional_read_actions=tuple(sorted(statements["AllowRegionalReadActions"]["actions"], key=str.lower)),
        launch_resource_kinds=tuple(k for k in map(_resource_kind, launch) if k not in _LAUNCH_BASE_KINDS),
        passed_to_service=_as_tuple(
            statements["AllowPassingInstanceRole"]["conditions"]["StringEquals"]["iam:PassedToService"]
        ),
        node_managed_policies=tuple(arn.rsplit("/", 1)[-1] for arn in ref["node_role"]["managed_policy_arns"]),
    )


# Why each wildcard resource in the controller policy stays: Karpenter creates these resources at run
# time, so their ids are unknown; every mutating statement is scoped by cluster tags instead.
WILDCARD_REASONS = {
    "arn:<AWS::Partition>:ec2:<AWS::Region>::image/*": "RunInstances reads whichever AMI the pinned alias resolves to",
    "arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*": "RunInstances reads the AMI's root snapshot",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:*:security-group/*": "nodes join the cluster security group "
    "selected at run time",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:*:subnet/*": "nodes launch in discovery-tagged subnets chosen at run time",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:*:launch-template/*": "launch templates are created per NodeClaim, "
    "conditioned on the cluster ownership tag",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:*:fleet/*": "CreateFleet creates a fleet per launch, tag-conditioned",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:*:instance/*": "instance ids are unknown until launch; create, tag and "
    "terminate are conditioned on the cluster tag",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:*:network-interface/*": "ENIs are created with each instance, "
    "tag-conditioned",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:*:spot-instances-request/*": "Spot requests are created with each "
    "launch, tag-conditioned",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:*:volume/*": "root volumes are created with each instance, tag-conditioned",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:*:capacity-reservation/*": "RunInstances may launch into whichever "
    "capacity reservation a NodeClass selects at run time",
    "arn:<AWS::Partition>:ec2:<AWS::Region>:*:placement-group/*": "RunInstances may launch into whichever placement "
    "group a NodeClass selects at run time",
    "arn:<AWS::Partition>:ssm:<AWS::Region>::parameter/aws/service/*": "reads only AWS-published public AMI "
    "parameters to resolve the AMI alias",
    "arn:<AWS::Partition>:iam::<AWS::AccountId>:instance-profile/*": "instance profiles are created per "
    "EC2NodeClass with generated names, conditioned on cluster and region tags",
}
# Actions granted on Resource "*" because the API has no resource-level permissions, and how each is limited.
UNSCOPED_ACTIONS = {
    "ec2:Describe": "EC2 Describe* calls (limited to this region by condition)",
    "pricing:GetProducts": "pricing:GetProducts (public price list)",
    "iam:ListInstanceProfiles": "iam:ListInstanceProfiles (names only; to find profiles it created)",
    "arc-zonal-shift:GetManagedResource": "arc-zonal-shift:GetManagedResource (limited to this cluster by condition)",
}
SERVICE_ACCOUNT = (addon("karpenter").namespace, "karpenter")
NAG_PSEUDO_PARAMETERS = ("<AWS::Partition>", "<AWS::Region>", "<AWS::AccountId>")


def controller_statements(
    *,
    shape: ReferenceIam,
    cluster_name: str,
    queue_arn: str,
    node_role_arn: str,
    pseudo: tuple[str, str, str] = (Aws.PARTITION, Aws.REGION, Aws.ACCOUNT_ID),
) -> dict[str, list[iam.PolicyStatement]]:
    """The reference controller policies of one Karpenter version, statement for statement, scoped to this cluster.

    Returns {policy construct id: statements}, split as the reference splits them. `pseudo` is (partition,
    region, account): CloudFormation pseudo parameters, or cdk-nag's <AWS::...> spelling to name findings.
    """
    partition, region, account = pseudo
    ec2 = f"arn:{partition}:ec2:{region}"
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster_name}": "owned"}
    request_owned = {
        f"aws:RequestTag/kubernetes.io/cluster/{cluster_name}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": cluster_name,
    }
    tagged_resources = [
        f"{ec2}:*:{kind}/*"
        for kind in (
            "fleet",
            "instance",
            "volume",
            "network-interface",
            "launch-template",
            "spot-instances-request",
        )
    ]
    profile = f"arn:{partition}:iam::{account}:instance-profile/*"
    region_tag = {"aws:ResourceTag/topology.kubernetes.io/region": region}
    cluster_arn = f"arn:{partition}:eks:{region}:{account}:cluster/{cluster_name}"
    passed_to: str | list[str] = list(shape.passed_to_service)
    if len(shape.passed_to_service) == 1:
        passed_to = shape.passed_to_service[0]  # the reference's spelling: a string, not a one-item list

    def allow(
        sid: str, actions: list[str], resources: list[str], conditions: dict | None = None
    ) -> iam.PolicyStatement:
        return iam.PolicyStatement(sid=sid, actions=actions, resources=resources, conditions=conditions)

    statements = [
        allow(
            "AllowScopedEC2InstanceAccessActions",
            ["ec2:RunInstances", "ec2:CreateFleet"],
            [f"{ec2}::image/*", f"{ec2}::snapshot/*", f"{ec2}:*:security-group/*", f"{ec2}:*:subnet/*"]
            + [f"{ec2}:*:{kind}/*" for kind in shape.launch_resource_kinds],
        ),
        allow(
            "AllowScopedEC2LaunchTemplateAccessActions",
            ["ec2:RunInstances", "ec2:CreateFleet"],
            [f"{ec2}:*:launch-template/*"],
            {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
        ),
        allow(
            "AllowScopedEC2InstanceActionsWithTags",
            ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            tagged_resources,
            {"StringEquals": request_owned, "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}},
        ),
        allow(
            "AllowScopedResourceCreationTagging",
            ["ec2:CreateTags"],
            tagged_resources,
            {
                "StringEquals": {
                    **request_owned,
                    "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                },
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
            },
        ),
        allow(
            "AllowScopedResourceTagging",
            ["ec2:CreateTags"],
            [f"{ec2}:*:instance/*"],
            {
                "StringEquals": owned,
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster_name},
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                },
            },
        ),
        allow(
            "AllowScopedDeletion",
            ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
            {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
        ),
        allow(
            "AllowRegionalReadActions",
            list(shape.regional_read_actions),
            ["*"],
            {"StringEquals": {"aws:RequestedRegion": region}},
        ),
        allow(
            "AllowSSMReadActions",
            ["ssm:GetParameter"],
            [f"arn:{partition}:ssm:{region}::parameter/aws/service/*"],
        ),
        allow("AllowPricingReadActions", ["pricing:GetProducts"], ["*"]),
        allow(
            "AllowInterruptionQueueActions",
            ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            [queue_arn],
        ),
        allow(
            "AllowPassingInstanceRole",
            ["iam:PassRole"],
            [node_role_arn],
            {"StringEquals": {"iam:PassedToService": passed_to}},
        ),
        allow(
            "AllowScopedInstanceProfileCreationActions",
            ["iam:CreateInstanceProfile"],
            [profile],
            {
                "StringEquals": {**request_owned, "aws:RequestTag/topology.kubernetes.io/region": region},
                "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        allow(
            "AllowScopedInstanceProfileTagActions",
            ["iam:TagInstanceProfile"],
            [profile],
            {
                "StringEquals": {
                    **owned,
                    **region_tag,
                    **request_owned,
                    "aws:RequestTag/topology.kubernetes.io/region": region,
                },
                "StringLike": {
                    "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                },
            },
        ),
        allow(
            "AllowScopedInstanceProfileActions",
            [
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:DeleteInstanceProfile",
            ],
            [profile],
            {
                "StringEquals": {**owned, **region_tag},
                "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        allow("AllowInstanceProfileReadActions", ["iam:GetInstanceProfile"], [profile]),
        allow("AllowAPIServerEndpointDiscovery", ["eks:DescribeCluster"], [cluster_arn]),
        allow("AllowUnscopedInstanceProfileListAction", ["iam:ListInstanceProfiles"], ["*"]),
        allow(
            "AllowZonalShiftStatusReadOnly",
            ["arc-zonal-shift:GetManagedResource"],
            ["*"],
            {"StringEquals": {"arc-zonal-shift:ResourceIdentifier": cluster_arn}},
        ),
    ]
    by_sid = {statement.sid: statement for statement in statements}
    unwritten = [sid for sids in shape.policies.values() for sid in sids if sid not in by_sid]
    if unwritten:
        raise ValueError(
            f"Karpenter's reference policy has statements {unwritten} that constructs_lib/karpenter_iam.py "
            "controller_statements does not write; add them there (compare upstream_facts/<profile>/karpenter)"
        )
    return {policy: [by_sid[sid] for sid in sids] for policy, sids in shape.policies.items()}


class KarpenterIam(Construct):
    """Exposes `node_role`, `node_access_entry`, `controller_role`, `controller_policies` (by id), `pod_identity`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: eks.ICluster,
        cluster_name: str,
        queue: sqs.IQueue,
        karpenter_version: str,
    ) -> None:
        super().__init__(scope, id_)
        shape = reference_iam(karpenter_version)
        # The reference's node policies minus AmazonEKS_CNI_Policy: aws-node has its own Pod Identity role.
        node_policies = tuple(p for p in shape.node_managed_policies if p != CNI_POLICY)
        self.node_role = node_role(
            self, "NodeRole", description=f"Nodes Karpenter launches for {cluster_name}", policies=node_policies
        )
        for policy in node_policies:
            acknowledge(
                self.node_role,
                managed_policy_finding(policy),
                f"Karpenter's reference node role attaches the AWS managed {policy}; nodes need it to join, pull "
                "images and register with SSM (the CNI policy is on aws-node's own Pod Identity role instead).",
            )
        # EC2_LINUX entries let kubelets of this role join; no access policy may be attached to them.
        self.node_access_entry = eks.AccessEntry(
            self,
            "NodeAccessEntry",
            cluster=cluster,
            principal=self.node_role.role_arn,
            access_entry_type=eks.AccessEntryType.EC2_LINUX,
            access_policies=[],
        )
        controller = pod_identity(
            self,
            "Controller",
            description=f"Karpenter controller of {cluster_name} (EKS Pod Identity)",
            cluster_name=cluster_name,
            association_cluster_name=cluster.cluster_name,
            service_account=SERVICE_ACCOUNT,
            association_id="PodIdentity",
        )
        self.controller_role, self.pod_identity = controller.role, controller.association
        policies = controller_statements(
            shape=shape, cluster_name=cluster_name, queue_arn=queue.queue_arn, node_role_arn=self.node_role.role_arn
        )
        # The same statements spelled as cdk-nag names its findings, to acknowledge exactly the wildcards present.
        as_nag = controller_statements(
            shape=shape,
            cluster_name=cluster_name,
            queue_arn="<queue>",
            node_role_arn="<node-role>",
            pseudo=NAG_PSEUDO_PARAMETERS,
        )
        minor = ".".join(karpenter_version.split(".")[:2])
        self.controller_policies: dict[str, iam.ManagedPolicy] = {}
        for policy_id, statements in policies.items():
            part = f" ({policy_id})" if len(policies) > 1 else ""
            managed = iam.ManagedPolicy(
                self,
                policy_id,
                description=f"Karpenter {minor} controller permissions{part}, scoped to one cluster, queue and "
                "node role",
                statements=statements,
                roles=[self.controller_role],
            )
            for resource, why in wildcard_reasons(as_nag[policy_id]).items():
                acknowledge(managed, f"AwsSolutions-IAM5[Resource::{resource}]", f"Karpenter: {why}.")
            self.controller_policies[policy_id] = managed

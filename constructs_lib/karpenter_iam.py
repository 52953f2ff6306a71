"""KarpenterIam: node role (+ EC2_LINUX access entry) and the Pod Identity controller role of Karpenter 1.0."""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.identities import node_role, pod_identity
from constructs_lib.nag import acknowledge, managed_policy_finding

# Karpenter's reference node role minus AmazonEKS_CNI_Policy: aws-node has its own Pod Identity role.
NODE_MANAGED_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
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
    "*": "EC2 Describe* calls and pricing:GetProducts support no resource scoping; Describe* is limited to this "
    "region by condition",
    "arn:<AWS::Partition>:ssm:<AWS::Region>::parameter/aws/service/*": "reads only AWS-published public AMI "
    "parameters to resolve the AMI alias",
    "arn:<AWS::Partition>:iam::<AWS::AccountId>:instance-profile/*": "instance profiles are created per "
    "EC2NodeClass with generated names, conditioned on cluster and region tags",
}
SERVICE_ACCOUNT = ("kube-system", "karpenter")


def controller_statements(*, cluster_name: str, queue_arn: str, node_role_arn: str) -> list[iam.PolicyStatement]:
    """Karpenter 1.0.14's reference controller policy, statement for statement, scoped to this cluster."""
    partition, region, account = Aws.PARTITION, Aws.REGION, Aws.ACCOUNT_ID
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

    def allow(
        sid: str, actions: list[str], resources: list[str], conditions: dict | None = None
    ) -> iam.PolicyStatement:
        return iam.PolicyStatement(sid=sid, actions=actions, resources=resources, conditions=conditions)

    return [
        allow(
            "AllowScopedEC2InstanceAccessActions",
            ["ec2:RunInstances", "ec2:CreateFleet"],
            [f"{ec2}::image/*", f"{ec2}::snapshot/*", f"{ec2}:*:security-group/*", f"{ec2}:*:subnet/*"],
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
            [
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
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
            {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
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
        allow(
            "AllowAPIServerEndpointDiscovery",
            ["eks:DescribeCluster"],
            [f"arn:{partition}:eks:{region}:{account}:cluster/{cluster_name}"],
        ),
    ]


class KarpenterIam(Construct):
    """Exposes `node_role`, `node_access_entry`, `controller_role`, `controller_policy`, `pod_identity`."""

    def __init__(
        self, scope: Construct, id_: str, *, cluster: eks.ICluster, cluster_name: str, queue: sqs.IQueue
    ) -> None:
        super().__init__(scope, id_)
        self.node_role = node_role(
            self, "NodeRole", description=f"Nodes Karpenter launches for {cluster_name}", policies=NODE_MANAGED_POLICIES
        )
        for policy in NODE_MANAGED_POLICIES:
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
        self.controller_policy = iam.ManagedPolicy(
            self,
            "ControllerPolicy",
            description="Karpenter 1.0 controller permissions, scoped to one cluster, queue and node role",
            statements=controller_statements(
                cluster_name=cluster_name, queue_arn=queue.queue_arn, node_role_arn=self.node_role.role_arn
            ),
            roles=[self.controller_role],
        )
        for resource, why in WILDCARD_REASONS.items():
            acknowledge(self.controller_policy, f"AwsSolutions-IAM5[Resource::{resource}]", f"Karpenter: {why}.")

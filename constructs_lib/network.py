"""PlatformVpc: a 3-AZ VPC tagged for load balancers and Karpenter, flow-logged, cheap by default; the EKS control
plane's interfaces get small subnets of their own, which no node, pod or load balancer uses."""

from __future__ import annotations

import ipaddress

from aws_cdk import Aws, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.log_groups import log_group, logs_key, route_function_logs
from constructs_lib.nag import acknowledge_in_packs
from platform_config.config import PlatformConfig

# The control plane's subnets: EKS recommends small (/28) dedicated subnets for the interfaces it creates (2 to 4,
# plus up to 5 free addresses during an upgrade; a /28 has 11 usable). With nothing else in them, their CIDRs
# identify the API server as a NetworkPolicy source (the webhooks admit only these).
CONTROL_PLANE_SUBNET_NAME = "control-plane"
CONTROL_PLANE_SUBNET_MASK = 28

# Endpoints that keep node bootstrap and Karpenter traffic off NAT (each costs per AZ-hour).
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDkr": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Ec2": ec2.InterfaceVpcEndpointAwsService.EC2,
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
}


# AWS-owned buckets nodes read through the S3 endpoint: ECR image layers, the AL2023 package repositories and
# SSM agent updates (the region's names; EKS, AL2023 and SSM document them).
AWS_READ_BUCKETS = ("prod-{region}-starport-layer-bucket", "al2023-repos-{region}-*", "amazon-ssm-{region}")


def s3_endpoint_statements() -> list[iam.PolicyStatement]:
    """The S3 endpoint's policy: any action on this account's buckets, reads of the AWS-owned buckets nodes
    need, nothing else (no copying data to another account's bucket through the endpoint)."""
    region, account, partition = Aws.REGION, Aws.ACCOUNT_ID, Aws.PARTITION
    return [
        iam.PolicyStatement(
            sid="OwnAccountBuckets",
            principals=[iam.AnyPrincipal()],
            actions=["s3:*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:ResourceAccount": account}},
        ),
        iam.PolicyStatement(
            sid="AwsOwnedReads",
            principals=[iam.AnyPrincipal()],
            actions=["s3:GetObject"],
            resources=[f"arn:{partition}:s3:::{b.format(region=region)}/*" for b in AWS_READ_BUCKETS],
        ),
    ]


def flow_log_role(scope: Construct, id_: str, *, log_group: logs.ILogGroup) -> iam.Role:
    """The role VPC Flow Logs assume: only for flow logs of this account (confused deputy), with a managed
    policy that writes to `log_group` only."""
    stack = Stack.of(scope)
    role = iam.Role(
        scope,
        id_,
        assumed_by=iam.ServicePrincipal(
            "vpc-flow-logs.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{stack.partition}:ec2:{stack.region}:{stack.account}:vpc-flow-log/*"
                },
            },
        ),
        description="VPC Flow Logs delivery to the platform's flow-log group",
    )
    role.add_managed_policy(
        iam.ManagedPolicy(
            scope,
            f"{id_}Policy",
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[log_group.log_group_arn],
                )
            ],
        )
    )
    return role


class PlatformVpc(Construct):
    """VPC with public, private and control-plane subnets in 3 AZs; exposes `vpc`, `control_plane_subnets`,
    `control_plane_cidrs`, `logs_key`, `flow_log_group`, `handler_log_group`, `endpoints` and (with interface
    endpoints) `endpoint_security_group`."""

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig) -> None:
        super().__init__(scope, id_)
        prefix = ipaddress.IPv4Network(config.vpc_cidr).prefixlen
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.vpc_cidr),
            # Explicit zones: synth makes no AZ lookup and the template does not depend on the account.
            availability_zones=list(config.availability_zones),
            nat_gateways=config.nat_gateways,
            restrict_default_security_group=True,
            subnet_configuration=[
                # Public subnets only hold NAT gateways (Elastic IPs) and internet-facing load balancers (their
                # own addresses): nothing launched there needs an automatic public IP.
                ec2.SubnetConfiguration(
                    name="public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=prefix + 6,
                    map_public_ip_on_launch=False,
                ),
                # Isolated (no NAT route): the control plane reaches AWS from its own VPC; these interfaces only
                # talk to the nodes and pods. Declared before the private group, CDK places them in the free
                # space after the public subnets, so the private subnets keep their CIDRs (and a deployed VPC
                # only gains subnets).
                ec2.SubnetConfiguration(
                    name=CONTROL_PLANE_SUBNET_NAME,
                    subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                    cidr_mask=CONTROL_PLANE_SUBNET_MASK,
                ),
                # Private subnets are large: the VPC CNI gives every pod a VPC address.
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=prefix + 2
                ),
            ],
        )
        self.control_plane_subnets = ec2.SubnetSelection(subnet_group_name=CONTROL_PLANE_SUBNET_NAME)
        # Literal CIDRs (CDK allocated them at synth), handed to the webhook NetworkPolicies as data.
        self.control_plane_cidrs = tuple(
            s.ipv4_cidr_block for s in self.vpc.select_subnets(subnet_group_name=CONTROL_PLANE_SUBNET_NAME).subnets
        )
        self.logs_key = logs_key(self, "LogsKey", description=f"CloudWatch Logs of {config.cluster_name}'s network")
        self.flow_log_group = log_group(
            self, "FlowLogs", retention_days=config.flow_log_retention_days, key=self.logs_key
        )
        self.flow_log_role = flow_log_role(self, "FlowLogRole", log_group=self.flow_log_group)
        self.vpc.add_flow_log(
            "FlowLog",
            # The role's permissions are its managed policy; CDK's own grants would add an inline policy.
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                self.flow_log_group, self.flow_log_role.without_policy_updates()
            ),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        # restrict_default_security_group runs a CDK provider Lambda; its logs get a declared group too.
        provider = Stack.of(self).node.find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        self.handler_log_group = log_group(
            self, "RestrictDefaultSgLogs", retention_days=config.log_retention_days, key=self.logs_key
        )
        route_function_logs(provider.node.find_child("Handler"), self.handler_log_group)
        # Gateway endpoints are free: image layers from ECR are served from S3.
        s3 = self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        for statement in s3_endpoint_statements():
            s3.add_to_policy(statement)
        self.endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        if config.interface_endpoints:
            # One group for all endpoints, HTTPS from the VPC's literal CIDR. CDK's default (`open=True`)
            # would allow the VPC's CidrBlock attribute, a token that cdk-nag's EC23 rule cannot resolve.
            self.endpoint_security_group = ec2.SecurityGroup(
                self,
                "EndpointsSg",
                vpc=self.vpc,
                description="HTTPS from the VPC to its interface endpoints",
                allow_all_outbound=False,
            )
            self.endpoint_security_group.add_ingress_rule(
                ec2.Peer.ipv4(config.vpc_cidr), ec2.Port.tcp(443), "HTTPS from the VPC"
            )
            for name, service in INTERFACE_ENDPOINTS.items():
                self.endpoints[name] = self.vpc.add_interface_endpoint(
                    name,
                    service=service,
                    subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                    security_groups=[self.endpoint_security_group],
                    open=False,
                )
        for subnet in self.vpc.public_subnets:
            Tags.of(subnet).add("kubernetes.io/role/elb", "1")
            acknowledge_in_packs(
                subnet.node.find_child("DefaultRoute"),
                "VPCNoUnrestrictedRouteToIGW",
                "The public subnets exist for NAT gateways and internet-facing load balancers; their route to the "
                "internet gateway is what makes them public. Nothing else is placed in them.",
                enabled=config.compliance_packs,
            )
        for subnet in self.vpc.private_subnets:
            Tags.of(subnet).add("kubernetes.io/role/internal-elb", "1")
            Tags.of(subnet).add("karpenter.sh/discovery", config.cluster_name)

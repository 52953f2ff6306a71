"""PlatformVpc: 3 AZs, NAT per config, flow logs, closed default SG, free S3 endpoint, load balancer/Karpenter tags,
small isolated control-plane subnets apart from every other subnet."""

from __future__ import annotations

import ipaddress

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Match

from constructs_lib.network import (
    CONTROL_PLANE_SUBNET_MASK,
    CONTROL_PLANE_SUBNET_NAME,
    INTERFACE_ENDPOINTS,
    PlatformVpc,
)
from tests.stack_fixtures import config, stack, template


def build(**overrides: object):
    cfg = config(**overrides)
    s = stack(cfg)
    vpc = PlatformVpc(s, "Net", config=cfg)
    return vpc, template(s)


def test_vpc_spans_three_azs_with_public_private_and_control_plane_subnets() -> None:
    vpc, t = build()
    assert len(vpc.vpc.public_subnets) == 3 and len(vpc.vpc.private_subnets) == 3
    assert len(vpc.vpc.isolated_subnets) == 3
    zones = {s.availability_zone for s in vpc.vpc.private_subnets}
    assert zones == {"us-east-1a", "us-east-1b", "us-east-1c"}
    assert {s.availability_zone for s in vpc.vpc.isolated_subnets} == zones
    t.resource_count_is("AWS::EC2::Subnet", 9)


def test_one_nat_gateway_by_default_and_one_per_az_on_request() -> None:
    build()[1].resource_count_is("AWS::EC2::NatGateway", 1)
    build(nat_gateways=3)[1].resource_count_is("AWS::EC2::NatGateway", 3)


def test_flow_log_goes_to_cloudwatch_with_retention() -> None:
    _, t = build()
    t.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    t.has_resource_properties("AWS::EC2::FlowLog", {"LogDestinationType": "cloud-watch-logs", "ResourceType": "VPC"})


def test_default_security_group_is_closed() -> None:
    _, t = build()
    t.resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_s3_gateway_endpoint_always_and_interface_endpoints_only_when_switched_on() -> None:
    vpc, t = build()
    t.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})
    t.resource_count_is("AWS::EC2::VPCEndpoint", 1)
    assert vpc.endpoints == {}
    vpc_on, t_on = build(interface_endpoints=True)
    t_on.resource_count_is("AWS::EC2::VPCEndpoint", 1 + len(INTERFACE_ENDPOINTS))
    assert set(vpc_on.endpoints) == {"EcrApi", "EcrDkr", "Sts", "Ec2", "Sqs", "Ssm"}


def test_subnets_carry_load_balancer_and_karpenter_discovery_tags() -> None:
    _, t = build(cluster_name="blue")
    subnets = t.find_resources("AWS::EC2::Subnet")

    def tags(resource: dict) -> dict[str, str]:
        return {tag["Key"]: tag["Value"] for tag in resource["Properties"]["Tags"]}

    public = [s for s in subnets.values() if tags(s)["aws-cdk:subnet-type"] == "Public"]
    private = [s for s in subnets.values() if tags(s)["aws-cdk:subnet-type"] == "Private"]
    assert len(public) == len(private) == 3

    assert all(tags(s)["kubernetes.io/role/elb"] == "1" for s in public)
    assert all(tags(s)["kubernetes.io/role/internal-elb"] == "1" for s in private)
    assert all(tags(s)["karpenter.sh/discovery"] == "blue" for s in private)
    assert not any("karpenter.sh/discovery" in tags(s) for s in public)
    # The control plane's subnets carry neither: no node, pod or load balancer may land there.
    control_plane = [s for s in subnets.values() if tags(s)["aws-cdk:subnet-name"] == CONTROL_PLANE_SUBNET_NAME]
    assert len(control_plane) == 3
    for subnet in control_plane:
        assert not {"karpenter.sh/discovery", "kubernetes.io/role/elb", "kubernetes.io/role/internal-elb"} & set(
            tags(subnet)
        )


def test_private_subnets_are_large_enough_for_pod_ips() -> None:
    _, t = build()
    t.has_resource_properties(
        "AWS::EC2::Subnet", {"CidrBlock": Match.string_like_regexp(r"/18$"), "MapPublicIpOnLaunch": False}
    )


def test_no_subnet_assigns_public_ips_nat_gateways_use_elastic_ips() -> None:
    _, t = build(nat_gateways=3)
    assert all(not s["Properties"]["MapPublicIpOnLaunch"] for s in t.find_resources("AWS::EC2::Subnet").values())
    nats = t.find_resources("AWS::EC2::NatGateway").values()
    assert all("AllocationId" in n["Properties"] for n in nats)


def test_flow_log_role_trusts_only_this_accounts_flow_logs_and_has_no_inline_policy() -> None:
    cfg = config()
    _, t = build()
    (role,) = [
        r
        for r in t.find_resources("AWS::IAM::Role").values()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service")
        == "vpc-flow-logs.amazonaws.com"
    ]
    condition = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert condition["StringEquals"] == {"aws:SourceAccount": cfg.account}
    arn = condition["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
    assert arn[-1].endswith(f":ec2:{cfg.region}:{cfg.account}:vpc-flow-log/*")
    assert "Policies" not in role["Properties"] and len(role["Properties"]["ManagedPolicyArns"]) == 1
    assert t.find_resources("AWS::IAM::Policy") == {}


def test_s3_endpoint_admits_this_accounts_buckets_and_reads_of_the_aws_buckets_nodes_need() -> None:
    _, t = build()
    (endpoint,) = t.find_resources("AWS::EC2::VPCEndpoint").values()
    statements = endpoint["Properties"]["PolicyDocument"]["Statement"]
    own, aws = statements
    assert own["Condition"] == {"StringEquals": {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}}
    assert aws["Action"] == "s3:GetObject" and len(aws["Resource"]) == 3
    assert not any(s.get("Effect") == "Allow" and s.get("Resource") == "*" and "Condition" not in s for s in statements)


@pytest.mark.parametrize("vpc_cidr", ["10.0.0.0/16", "10.20.0.0/20"])
def test_control_plane_subnets_are_small_isolated_and_apart_from_every_other_subnet(vpc_cidr: str) -> None:
    vpc, t = build(vpc_cidr=vpc_cidr)
    cidrs = [ipaddress.ip_network(c) for c in vpc.control_plane_cidrs]
    assert [c.prefixlen for c in cidrs] == [CONTROL_PLANE_SUBNET_MASK] * 3
    assert all(c.subnet_of(ipaddress.ip_network(vpc_cidr)) for c in cidrs)
    others = [ipaddress.ip_network(s.ipv4_cidr_block) for s in [*vpc.vpc.public_subnets, *vpc.vpc.private_subnets]]
    assert not [(c, o) for c in cidrs for o in others if c.overlaps(o)]
    # No route out: the interfaces only talk to the nodes and pods inside the VPC.
    stack = Stack.of(vpc.vpc)
    # As the template names them ({"Ref": <logical id>}), not as jsii tokens, so the comparison meets real ids.
    isolated_tables = {stack.resolve(s.route_table.route_table_id)["Ref"] for s in vpc.vpc.isolated_subnets}
    private_tables = {stack.resolve(s.route_table.route_table_id)["Ref"] for s in vpc.vpc.private_subnets}
    routed = {r["Properties"]["RouteTableId"]["Ref"] for r in t.find_resources("AWS::EC2::Route").values()}
    assert len(isolated_tables) == len(cidrs) and private_tables <= routed  # the check sees the private routes
    assert not isolated_tables & routed

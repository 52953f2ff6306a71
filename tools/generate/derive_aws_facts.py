"""Derive platform_config/aws_facts.json (EKS regions, EC2 instance types, log retention days) from the pins."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, cast

from platform_config.node_runtime import prepare_for_cdk
from tools._paths import ROOT

OUT = ROOT / "platform_config" / "aws_facts.json"
# The AMI type constructs_lib/system_nodes.py gives the system node group (a test asserts they agree).
SYSTEM_NODE_AMI_TYPE = "AL2023_X86_64_STANDARD"


def eks_regions() -> dict[str, str]:
    """Region -> partition for every region where botocore's endpoint data lists an EKS endpoint."""
    import botocore.session

    endpoints = botocore.session.get_session().get_component("data_loader").load_data("endpoints")
    out = {}
    for partition in endpoints["partitions"]:
        eks = partition["services"].get("eks", {}).get("endpoints", {})
        # Only real regions of the partition (not fips-... or global pseudo-endpoints).
        for region in eks:
            if region in partition["regions"]:
                out[region] = partition["partition"]
    return dict(sorted(out.items()))


def instance_types() -> list[str]:
    """Every EC2 instance type in botocore's EC2 model (the InstanceType enum)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("ec2")
    return sorted(model.shape_for("InstanceType").enum)


def system_node_instance_types(types: list[str]) -> list[str]:
    """The types CDK's managed Nodegroup accepts with the system node group's AMI type (x86_64, not GPU).

    Probed once per family (the part before '.'): CDK derives architecture and GPU-ness from it alone.
    """
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    prepare_for_cdk()
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_eks_v2 as eks

    stack = cdk.Stack(cdk.App(context={}), "NodegroupProbe")
    cluster = eks.Cluster(stack, "Cluster", version=eks.KubernetesVersion.V1_29)
    families: dict[str, list[str]] = {}
    for itype in types:
        families.setdefault(itype.split(".")[0], []).append(itype)
    accepted = []
    for i, members in enumerate(families[name] for name in sorted(families)):
        try:
            eks.Nodegroup(
                stack,
                f"Probe{i}",
                cluster=cast(eks.ICluster, cluster),  # jsii's Cluster misses mypy's ICluster protocol
                ami_type=getattr(eks.NodegroupAmiType, SYSTEM_NODE_AMI_TYPE),
                instance_types=[ec2.InstanceType(members[0])],
            )
        except RuntimeError:  # jsii surfaces CDK's ValidationError (wrong architecture, GPU, malformed name)
            continue
        accepted += members
    return sorted(accepted)


def retention_days() -> dict[str, str]:
    """Days -> aws_logs.RetentionDays member, read back from a LogGroup rendered with each member."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    prepare_for_cdk()
    import aws_cdk as cdk
    from aws_cdk import aws_logs as logs

    stack = cdk.Stack(cdk.App(context={}), "RetentionProbe")
    days: dict[int, str] = {}
    for member in logs.RetentionDays:
        group = logs.LogGroup(stack, member.name, retention=member)
        value = stack.resolve(group.node.default_child.retention_in_days)  # type: ignore[union-attr]
        if value is not None:  # INFINITE renders no retention: never expiring flow logs are not offered
            days[int(value)] = member.name
    return {str(d): days[d] for d in sorted(days)}


def derive() -> dict[str, Any]:
    """The facts file's content: each list comes from the pinned package that owns it."""
    import importlib.metadata as md

    types = instance_types()
    return {
        "sources": {
            "botocore": md.version("botocore"),
            "aws-cdk-lib": md.version("aws-cdk-lib"),
        },
        "eks_regions": eks_regions(),
        "instance_types": types,
        "system_node_ami_type": SYSTEM_NODE_AMI_TYPE,
        "system_node_instance_types": system_node_instance_types(types),
        "log_retention_days": retention_days(),
    }


def render(facts: dict[str, Any]) -> str:
    """Stable text: one entry per line so a pin bump shows as a readable diff."""
    return json.dumps(facts, indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed file is not a fresh derivation")
    args = parser.parse_args(argv)
    text = render(derive())
    if args.check:
        if not OUT.is_file() or OUT.read_text() != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run python -m tools.generate.derive_aws_facts", file=sys.stderr)
            return 1
        print(f"{OUT.relative_to(ROOT)} matches botocore and aws-cdk-lib as pinned")
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

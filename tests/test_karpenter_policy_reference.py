"""Our Karpenter controller policy grants exactly the reference template's actions, resources and conditions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Synthesized

REFERENCE = json.loads((ROOT / "upstream_facts" / "karpenter" / "reference-cfn.json").read_text())["controller_policy"]
CLUSTER = "eks-platform"


def render(value: Any, names: dict[str, str]) -> Any:
    """Turn CloudFormation intrinsics into the reference's ${...} spelling, and our cluster name into ${ClusterName}."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return "${" + value["Ref"] + "}"
        if set(value) == {"Fn::GetAtt"}:
            logical, attr = value["Fn::GetAtt"]
            return "${" + names.get(logical, logical) + "." + attr + "}"
        if set(value) == {"Fn::Join"}:
            sep, parts = value["Fn::Join"]
            return sep.join(render(p, names) for p in parts)
        return {render(k, names): render(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((render(v, names) for v in value), key=json.dumps)
    if isinstance(value, str):
        return (
            value.replace(f"kubernetes.io/cluster/{CLUSTER}", "kubernetes.io/cluster/${ClusterName}").replace(
                f"cluster/{CLUSTER}", "cluster/${ClusterName}"
            )
            if value != CLUSTER
            else "${ClusterName}"
        )
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def ours(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    resources = synthesized.templates["karpenter"]["Resources"]
    names = {}
    for logical, res in resources.items():
        if res["Type"] == "AWS::SQS::Queue":
            names[logical] = "KarpenterInterruptionQueue"
        if res["Type"] == "AWS::IAM::Role" and "ec2.amazonaws.com" in json.dumps(
            res["Properties"]["AssumeRolePolicyDocument"]
        ):
            names[logical] = "KarpenterNodeRole"
    policy = synthesized.only("karpenter", "AWS::IAM::ManagedPolicy")["Properties"]["PolicyDocument"]
    return {
        s["Sid"]: {
            "actions": sorted(as_list(s["Action"])),
            "resources": render(as_list(s["Resource"]), names),
            "conditions": render(s.get("Condition", {}), names),
            "effect": s["Effect"],
        }
        for s in policy["Statement"]
    }


def normalized_reference() -> dict[str, dict[str, Any]]:
    return {
        sid: {
            "actions": sorted(s["actions"]),
            "resources": render(s["resources"], {}),
            "conditions": render(s["conditions"], {}),
            "effect": s["effect"],
        }
        for sid, s in REFERENCE["statements"].items()
    }


def test_policy_has_the_reference_statements_and_no_others(ours: dict[str, dict[str, Any]]) -> None:
    assert sorted(ours) == sorted(REFERENCE["statements"])


def test_policy_lacks_no_reference_action_and_adds_none(ours: dict[str, dict[str, Any]]) -> None:
    granted = sorted({a for s in ours.values() for a in s["actions"]})
    assert granted == sorted(REFERENCE["actions"])


@pytest.mark.parametrize("sid", sorted(REFERENCE["statements"]))
def test_each_statement_matches_reference_actions_resources_and_conditions(
    ours: dict[str, dict[str, Any]], sid: str
) -> None:
    assert ours[sid] == normalized_reference()[sid]


def test_comparison_catches_a_broadened_statement(ours: dict[str, dict[str, Any]]) -> None:
    broadened = json.loads(json.dumps(ours["AllowScopedDeletion"]))
    broadened["conditions"].pop("StringEquals")
    assert broadened != normalized_reference()["AllowScopedDeletion"]


def test_reference_facts_name_their_source() -> None:
    notice = (Path(ROOT) / "upstream_facts" / "NOTICE").read_text()
    assert "karpenter-provider-aws" in notice and "cloudformation.yaml" in notice

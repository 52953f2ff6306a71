"""Our Karpenter controller policies grant exactly the profile's reference template's actions, resources and
conditions, split into the same managed policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Synthesized

CLUSTER = "eks-platform"


def reference(profile: str) -> dict[str, Any]:
    """upstream_facts/<profile>/karpenter/reference-cfn.json (derived from Karpenter's cloudformation.yaml)."""
    facts: dict[str, Any] = json.loads(
        (ROOT / "upstream_facts" / profile / "karpenter" / "reference-cfn.json").read_text()
    )
    return facts


def reference_statements(profile: str) -> dict[str, dict[str, Any]]:
    return {sid: s for p in reference(profile)["controller_policies"].values() for sid, s in p["statements"].items()}


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


def policy_documents(synthesized: Synthesized) -> list[dict[str, Any]]:
    return [
        p["Properties"]["PolicyDocument"]
        for p in synthesized.resources("karpenter", "AWS::IAM::ManagedPolicy").values()
    ]


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
    return {
        s["Sid"]: {
            "actions": sorted(as_list(s["Action"])),
            "resources": render(as_list(s["Resource"]), names),
            "conditions": render(s.get("Condition", {}), names),
            "effect": s["Effect"],
        }
        for document in policy_documents(synthesized)
        for s in document["Statement"]
    }


def normalized_reference(profile: str) -> dict[str, dict[str, Any]]:
    return {
        sid: {
            "actions": sorted(s["actions"]),
            "resources": render(s["resources"], {}),
            "conditions": render(s["conditions"], {}),
            "effect": s["effect"],
        }
        for sid, s in reference_statements(profile).items()
    }


def test_policies_have_the_reference_statements_and_no_others(
    synthesized: Synthesized, ours: dict[str, dict[str, Any]]
) -> None:
    assert sorted(ours) == sorted(reference_statements(synthesized.config.release))


def test_policies_are_split_as_the_reference_splits_them(synthesized: Synthesized) -> None:
    split = sorted(sorted(s["Sid"] for s in d["Statement"]) for d in policy_documents(synthesized))
    policies = reference(synthesized.config.release)["controller_policies"].values()
    assert split == sorted(sorted(p["statements"]) for p in policies)


def test_policies_lack_no_reference_action_and_add_none(
    synthesized: Synthesized, ours: dict[str, dict[str, Any]]
) -> None:
    granted = sorted({a for s in ours.values() for a in s["actions"]})
    assert granted == reference(synthesized.config.release)["controller_actions"]


def test_each_statement_matches_reference_actions_resources_and_conditions(
    synthesized: Synthesized, ours: dict[str, dict[str, Any]]
) -> None:
    reference_by_sid = normalized_reference(synthesized.config.release)
    differing = {
        sid: {"ours": ours.get(sid), "reference": ref} for sid, ref in reference_by_sid.items() if ours.get(sid) != ref
    }
    assert differing == {}


def test_comparison_catches_a_broadened_statement(synthesized: Synthesized, ours: dict[str, dict[str, Any]]) -> None:
    broadened = json.loads(json.dumps(ours["AllowScopedDeletion"]))
    broadened["conditions"].pop("StringEquals")
    assert broadened != normalized_reference(synthesized.config.release)["AllowScopedDeletion"]


def test_reference_facts_name_their_source() -> None:
    notice = (Path(ROOT) / "upstream_facts" / "NOTICE").read_text()
    assert "karpenter-provider-aws" in notice and "cloudformation.yaml" in notice

"""The AWS Load Balancer Controller's role grants exactly the reference iam_policy.json of the profile's controller
version, statement by statement, except for the listed narrowings (constructs_lib/lb_controller.NARROWINGS)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from constructs_lib.lb_controller import CLUSTER_TAG, NARROWINGS, RELEASE, narrowed, reference_policy
from platform_checks.upstream_facts import app_version
from platform_config.addons import addon
from platform_config.versions import PROFILES
from tests.conftest import PROFILE_NAMES, ROOT, Synthesized

CLUSTER = "eks-platform"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def normal(effect: str, actions: Any, resources: Any, conditions: dict[str, Any]) -> dict[str, Any]:
    """One statement, order-free (CloudFormation writes a one-item list as a string)."""
    return {
        "effect": effect,
        "actions": sorted(as_list(actions)),
        "resources": sorted(as_list(resources)),
        "conditions": {
            op: {k: sorted(v) if isinstance(v, list) else v for k, v in cond.items()} for op, cond in conditions.items()
        },
    }


def ours(synthesized: Synthesized) -> list[dict[str, Any]]:
    """The statements of the controller's role in the synthesized Addons stack, in order."""
    roles = {
        logical
        for logical, res in synthesized.resources("addons", "AWS::IAM::Role").items()
        if "pods.eks.amazonaws.com" in json.dumps(res["Properties"]["AssumeRolePolicyDocument"])
        and logical.startswith("LoadBalancerController")
    }
    assert len(roles) == 1, roles
    (role,) = roles
    policies = [
        res["Properties"]["PolicyDocument"]
        for res in synthesized.resources("addons", "AWS::IAM::Policy").values()
        if {"Ref": role} in res["Properties"]["Roles"]
    ]
    assert len(policies) == 1
    return [normal(s["Effect"], s["Action"], s["Resource"], s.get("Condition", {})) for s in policies[0]["Statement"]]


def reference(profile: str) -> list[dict[str, Any]]:
    return [
        normal(s["effect"], s["actions"], s["resources"], s["conditions"])
        for s in reference_policy(PROFILES[profile])["statements"]
    ]


def undo_narrowings(statement: dict[str, Any]) -> dict[str, Any]:
    """Remove exactly what NARROWINGS add: StringEquals on a narrowed key valued with our cluster's name."""
    out = copy.deepcopy(statement)
    equals = out["conditions"].get("StringEquals", {})
    for narrowing in NARROWINGS:
        for key in narrowing.condition_keys:
            if equals.get(key) == CLUSTER:
                del equals[key]
    if "StringEquals" in out["conditions"] and not equals:
        del out["conditions"]["StringEquals"]
    return out


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_reference_facts_are_those_of_the_profiles_controller_version(profile: str) -> None:
    version = app_version(addon(RELEASE).chart, profile)
    facts = reference_policy(PROFILES[profile])
    assert facts["controller_version"] == version
    assert (ROOT / "upstream_facts" / profile / RELEASE / f"iam_policy-{version}.json").is_file()


def test_policy_is_the_reference_with_only_the_listed_narrowings(synthesized: Synthesized) -> None:
    granted = ours(synthesized)
    assert [undo_narrowings(s) for s in granted] == reference(synthesized.config.release)


def test_every_tag_presence_condition_requires_our_cluster_name(synthesized: Synthesized) -> None:
    checked = 0
    for statement in ours(synthesized):
        for key, value in statement["conditions"].get("Null", {}).items():
            if key.endswith(f"Tag/{CLUSTER_TAG}") and value == "false":
                assert statement["conditions"]["StringEquals"][key] == CLUSTER
                checked += 1
    assert checked >= 5  # the reference scopes at least its create, tag, modify and delete statements this way


def test_policy_grants_no_action_the_reference_lacks(synthesized: Synthesized) -> None:
    granted = {a for s in ours(synthesized) for a in s["actions"]}
    assert granted == {a for s in reference(synthesized.config.release) for a in s["actions"]}


def test_narrowing_adds_the_cluster_name_and_nothing_else() -> None:
    statement = {
        "effect": "Allow",
        "actions": ["elasticloadbalancing:DeleteLoadBalancer"],
        "resources": ["*"],
        "conditions": {"Null": {f"aws:ResourceTag/{CLUSTER_TAG}": "false"}},
    }
    result = narrowed(statement, CLUSTER)
    assert result["conditions"] == {
        "Null": {f"aws:ResourceTag/{CLUSTER_TAG}": "false"},
        "StringEquals": {f"aws:ResourceTag/{CLUSTER_TAG}": CLUSTER},
    }
    # A tag that must be absent (Null true) is not narrowed.
    absent = copy.deepcopy(statement)
    absent["conditions"] = {"Null": {f"aws:RequestTag/{CLUSTER_TAG}": "true"}}
    assert narrowed(absent, CLUSTER) == absent


def test_comparison_catches_a_broadened_statement(synthesized: Synthesized) -> None:
    granted = ours(synthesized)
    broadened = copy.deepcopy(granted)
    scoped = next(s for s in broadened if "Null" in s["conditions"])
    scoped["conditions"].pop("Null")
    assert [undo_narrowings(s) for s in broadened] != reference(synthesized.config.release)


def test_reference_facts_name_their_source() -> None:
    notice = (ROOT / "upstream_facts" / "NOTICE").read_text()
    assert "kubernetes-sigs/aws-load-balancer-controller" in notice and "iam_policy.json" in notice

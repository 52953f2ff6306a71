"""Every recommended feature flag of the pinned aws-cdk-lib is set (the CLI reports none as unconfigured); the
ones off their recommended value say why; and the flags replace nothing in a deployed stack: every resource of
the reviewed baseline keeps its logical id, type and create-only properties."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from platform_config.cdk_flags import recommended_flags
from platform_config.feature_flags import FEATURE_FLAGS, LEFT_OFF
from platform_config.raw_context import cdk_json_context
from tests.conftest import ROOT, Synthesized
from tests.test_snapshots import normalized
from tools.generate.deployed_baseline import BASELINE, identity


@cache
def recommended() -> dict[str, Any]:
    return recommended_flags()


def test_every_recommended_flag_of_the_pinned_aws_cdk_lib_is_set() -> None:
    assert set(FEATURE_FLAGS) == set(recommended())


def test_the_flags_off_their_recommended_value_are_exactly_the_ones_with_a_reason() -> None:
    off = {flag for flag, value in FEATURE_FLAGS.items() if value != recommended()[flag]}
    assert off == set(LEFT_OFF)
    assert all(len(reason) > 40 for _, reason in LEFT_OFF.values())


def test_cdk_json_has_no_availability_zone_lookup_key_the_app_answers_it() -> None:
    # build_app answers CDK's zone lookup from availability_zones; a cached key in cdk.json only went stale.
    context = cdk_json_context(ROOT / "cdk.json")
    assert [key for key in context if key.startswith("availability-zones:")] == []


@pytest.mark.parametrize("stack", ["network", "cluster", "karpenter", "addons"])
def test_no_resource_of_a_deployed_stack_is_replaced(synthesized: Synthesized, stack: str, profile: str) -> None:
    baseline = json.loads(BASELINE.read_text())[f"{profile}-{stack}"]
    now = identity(normalized(synthesized.templates[stack]))
    gone = sorted(set(baseline) - set(now))
    assert gone == [], f"logical ids gone (CloudFormation would replace them): {gone}"
    changed = {lid: (old, now[lid]) for lid, old in baseline.items() if now[lid] != old}
    assert changed == {}, f"type or create-only properties changed (replacement): {sorted(changed)}"


def test_the_replacement_check_catches_a_renamed_id_and_a_create_only_change() -> None:
    template = {"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}}}
    before = identity(template)
    assert before["Vpc"]["CreateOnly"] == {"CidrBlock": "10.0.0.0/16"}
    template["Resources"]["Vpc"]["Properties"]["CidrBlock"] = "10.1.0.0/16"
    assert identity(template) != before
    assert "Vpc" not in identity({"Resources": {"Vpc2": template["Resources"]["Vpc"]}})

"""The opt-in Spot interruption drill: an AWS FIS template created by the app that interrupts only this cluster's
Karpenter Spot instances (by tag, COUNT(1) unless configured), with a role scoped to those instances, a stop
condition on an alarm the app owns, and 0 unacknowledged cdk-nag findings (the synth would fail)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.spot_drill import CLUSTER_TAG, NODEPOOL_TAG
from platform_config.config import ConfigError, PlatformConfig
from platform_config.placement import SPOT_NODEPOOL
from platform_stacks.platform_app import build_app
from tests.conftest import Synthesized
from tests.fixed_context import fixed_context


@pytest.fixture(scope="module")
def drill_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("drill")
    context = fixed_context(spot_drill=True, spot_drill_selection="COUNT(2)", cluster_name="acme-prod")
    # nag=True: an unacknowledged cdk-nag finding fails this synth.
    platform = build_app(context, env={}, today=dt.date(2026, 1, 1), outdir=str(out), nag=True)
    platform.app.synth()
    return dict(json.loads(Path(out / "acme-prod-Karpenter.template.json").read_text()))


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_the_drill_is_opt_in(synthesized: Synthesized) -> None:
    assert PlatformConfig().spot_drill is False
    assert of_type(synthesized.templates["karpenter"], "AWS::FIS::ExperimentTemplate") == {}


def test_the_template_interrupts_only_this_cluster_s_spot_nodes_with_the_configured_selection(
    drill_template: dict[str, Any],
) -> None:
    ((_, template),) = of_type(drill_template, "AWS::FIS::ExperimentTemplate").items()
    props = template["Properties"]
    ((target_name, target),) = props["Targets"].items()
    assert target["ResourceType"] == "aws:ec2:spot-instance"
    assert target["SelectionMode"] == "COUNT(2)"
    assert target["ResourceTags"] == {CLUSTER_TAG: "acme-prod", NODEPOOL_TAG: SPOT_NODEPOOL}
    ((_, action),) = props["Actions"].items()
    assert action["ActionId"] == "aws:ec2:send-spot-instance-interruptions"
    assert action["Targets"] == {"SpotInstances": target_name}


def test_the_stop_condition_is_an_alarm_the_app_owns_on_the_interruption_queue(drill_template: dict[str, Any]) -> None:
    ((_, template),) = of_type(drill_template, "AWS::FIS::ExperimentTemplate").items()
    ((stop),) = template["Properties"]["StopConditions"]
    alarms = of_type(drill_template, "AWS::CloudWatch::Alarm")
    assert stop["Source"] == "aws:cloudwatch:alarm"
    assert stop["Value"]["Fn::GetAtt"][0] in alarms
    alarm = alarms[stop["Value"]["Fn::GetAtt"][0]]["Properties"]
    assert alarm["MetricName"] == "ApproximateAgeOfOldestMessage" and alarm["Namespace"] == "AWS/SQS"
    queues = of_type(drill_template, "AWS::SQS::Queue")
    assert alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0] in queues


def test_the_role_may_interrupt_only_instances_tagged_for_this_cluster_s_spot_pool(
    drill_template: dict[str, Any],
) -> None:
    ((_, template),) = of_type(drill_template, "AWS::FIS::ExperimentTemplate").items()
    role_id = template["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    role = drill_template["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "fis.amazonaws.com"}
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in of_type(drill_template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    statements = [s for group in policies for s in group]
    actions = {s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"]) for s in statements}
    assert actions == {"ec2:SendSpotInstanceInterruptions", "ec2:DescribeInstances"}
    (interrupt,) = [s for s in statements if s["Action"] == "ec2:SendSpotInstanceInterruptions"]
    assert interrupt["Resource"].endswith(":instance/*")
    assert interrupt["Condition"] == {
        "StringEquals": {
            f"aws:ResourceTag/{CLUSTER_TAG}": "acme-prod",
            f"aws:ResourceTag/{NODEPOOL_TAG}": SPOT_NODEPOOL,
        }
    }
    assert [s for s in statements if s["Resource"] == "*"] == [
        {"Action": "ec2:DescribeInstances", "Effect": "Allow", "Resource": "*", "Sid": "FindTargets"}
    ]


def test_the_template_id_is_a_stack_output(drill_template: dict[str, Any]) -> None:
    assert "SpotDrillTemplateId" in drill_template["Outputs"]


@pytest.mark.parametrize("value", ["ALL", "COUNT(0)", "COUNT(100)", "PERCENT(51)", "count(1)", "RANDOM"])
def test_a_selection_that_is_not_a_few_nodes_is_refused_in_one_line(value: str) -> None:
    with pytest.raises(ConfigError) as err:
        PlatformConfig.from_context(fixed_context(spot_drill_selection=value))
    assert str(err.value).startswith(f"config key 'spot_drill_selection' = {value!r}: accepted is COUNT(1)")

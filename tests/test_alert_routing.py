"""Alertmanager routes from config: a validated SNS topic ARN, published through Pod Identity; no secret in git."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_eks_v2 as eks

from constructs_lib.alert_routing import ALERTMANAGER_SERVICE_ACCOUNT, AlertRouting, alertmanager_config
from constructs_lib.helm_addon import resolved_values
from platform_config.config import ConfigError
from tests.conftest import Synthesized
from tests.stack_fixtures import config, stack, template

TOPIC = "arn:aws:sns:eu-west-1:123456789012:platform-alerts"
# Keys Alertmanager 0.27 accepts in an sns_config (its configuration reference).
SNS_CONFIG_KEYS = {"api_url", "sigv4", "topic_arn", "phone_number", "target_arn", "subject", "message",
                   "attributes", "send_resolved", "http_config"}  # fmt: skip


def receivers_reached(route: dict) -> set[str]:
    return {route["receiver"], *(r for child in route.get("routes", []) for r in receivers_reached(child))}


@pytest.mark.parametrize("topic", ["", TOPIC])
def test_every_route_names_a_declared_receiver(topic: str) -> None:
    cfg = alertmanager_config(topic)
    declared = [r["name"] for r in cfg["receivers"]]
    assert len(declared) == len(set(declared))
    assert receivers_reached(cfg["route"]) <= set(declared)


def test_without_a_topic_alerts_go_to_the_null_receiver() -> None:
    cfg = alertmanager_config("")
    assert cfg["route"]["receiver"] == "null"
    assert cfg["receivers"] == [{"name": "null"}]


def test_with_a_topic_every_alert_but_watchdog_goes_to_sns_in_the_topics_region() -> None:
    cfg = alertmanager_config(TOPIC)
    assert cfg["route"]["receiver"] == "sns"
    assert cfg["route"]["routes"] == [{"matchers": ['alertname = "Watchdog"'], "receiver": "null"}]
    (sns,) = cfg["receivers"][1]["sns_configs"]
    assert set(sns) <= SNS_CONFIG_KEYS
    assert (sns["topic_arn"], sns["sigv4"]) == (TOPIC, {"region": "eu-west-1"})


def test_alertmanager_values_pass_the_chart_key_check(profile: str) -> None:
    values = resolved_values(
        chart="kube-prometheus-stack",
        release="kube-prometheus-stack",
        computed={"alertmanager": {"config": alertmanager_config(TOPIC)}},
        profile=profile,
    )
    assert values["alertmanager"]["config"]["route"]["receiver"] == "sns"
    # The values file's own alertmanager keys survive the merge.
    assert "nodeSelector" in values["alertmanager"]["alertmanagerSpec"]


def test_the_topic_gets_a_pod_identity_role_that_may_only_publish_to_it() -> None:
    s = stack()
    routing = AlertRouting(s, "Alerting", cluster=_cluster(s), cluster_name="eks-platform", topic_arn=TOPIC)
    t = template(s)
    t.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": [{"Action": "sns:Publish", "Effect": "Allow", "Resource": TOPIC}]}},
    )
    t.has_resource_properties(
        "AWS::EKS::PodIdentityAssociation",
        {"Namespace": ALERTMANAGER_SERVICE_ACCOUNT[0], "ServiceAccount": ALERTMANAGER_SERVICE_ACCOUNT[1]},
    )
    assert routing.role is not None
    # Only Alertmanager's service account of this cluster can assume it (issue 13).
    (role,) = list(t.find_resources("AWS::IAM::Role").values())
    equals = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
    assert equals["aws:RequestTag/kubernetes-service-account"] == ALERTMANAGER_SERVICE_ACCOUNT[1]
    assert equals["aws:RequestTag/kubernetes-namespace"] == ALERTMANAGER_SERVICE_ACCOUNT[0]


def test_no_topic_means_no_role(synthesized: Synthesized) -> None:
    associations = synthesized.resources("addons", "AWS::EKS::PodIdentityAssociation").values()
    assert [a for a in associations if a["Properties"]["Namespace"] == ALERTMANAGER_SERVICE_ACCOUNT[0]] == []
    assert synthesized.platform.addons.alerting.role is None
    values = synthesized.platform.addons.monitoring.values
    assert values["alertmanager"]["config"]["route"]["receiver"] == "null"


@pytest.mark.parametrize(
    "bad",
    [
        "https://hooks.slack.com/services/T000/B000/XXXX",
        "arn:aws:sns:eu-west-1:123456789012:alerts.fifo",
        "arn:aws:sqs:eu-west-1:123456789012:alerts",
        "arn:aws:sns:eu-west-1:1234:alerts",
    ],
)
def test_a_bad_topic_arn_is_one_clear_error(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"config key 'alert_sns_topic_arn' = .*standard SNS topic ARN"):
        config(alert_sns_topic_arn=bad)


def _cluster(s: cdk.Stack) -> eks.ICluster:
    return eks.Cluster.from_cluster_attributes(s, "Cluster", cluster_name="eks-platform")

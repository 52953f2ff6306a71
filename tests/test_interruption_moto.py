"""The interruption path in moto: each of the five events lands exactly one message; others land none."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from constructs_lib.interruption_queue import INTERRUPTION_EVENTS
from tests.conftest import Synthesized

REGION = "us-east-1"


@functools.cache
def session() -> boto3.Session:
    """One boto3 session for the file: a client of a new session parses its service model again (about 0.2 s)."""
    return boto3.Session(region_name=REGION)


@pytest.fixture
def wired(synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, str]]:
    """Queue and rules created in moto from the synthesized template's own properties."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        sqs = session().client("sqs")
        events = session().client("events")
        props = synthesized.only("karpenter", "AWS::SQS::Queue")["Properties"]
        url = sqs.create_queue(
            QueueName=props["QueueName"],
            Attributes={
                "MessageRetentionPeriod": str(props["MessageRetentionPeriod"]),
                "SqsManagedSseEnabled": str(props["SqsManagedSseEnabled"]).lower(),
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for logical_id, rule in synthesized.resources("karpenter", "AWS::Events::Rule").items():
            events.put_rule(Name=logical_id, EventPattern=json.dumps(rule["Properties"]["EventPattern"]))
            events.put_targets(Rule=logical_id, Targets=[{"Id": "queue", "Arn": arn}])
        yield sqs, events, url


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]


@pytest.mark.parametrize(("source", "detail_type"), [(s, d) for _, s, d in INTERRUPTION_EVENTS])
def test_each_interruption_event_lands_exactly_one_message(
    wired: tuple[Any, Any, str], source: str, detail_type: str
) -> None:
    sqs, events, url = wired
    result = events.put_events(
        Entries=[{"Source": source, "DetailType": detail_type, "Detail": json.dumps({"instance-id": "i-0abc"})}]
    )
    assert result["FailedEntryCount"] == 0
    (message,) = drain(sqs, url)
    assert (message["source"], message["detail-type"]) == (source, detail_type)


@pytest.mark.parametrize(
    ("source", "detail_type"),
    [
        ("aws.ec2", "C2 Instance State-change Notification"),
        ("aws.heatlh", "AWS Health Event"),
        ("aws.autoscaling", "EC2 Instance Launch Successful"),
    ],
)
def test_a_non_matching_event_lands_nothing(wired: tuple[Any, Any, str], source: str, detail_type: str) -> None:
    sqs, events, url = wired
    events.put_events(Entries=[{"Source": source, "DetailType": detail_type, "Detail": "{}"}])
    assert drain(sqs, url) == []

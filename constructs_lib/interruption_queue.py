"""InterruptionQueue: SQS queue Karpenter reads, fed by EventBridge rules for every interruption kind."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.nag import acknowledge

# (construct id, source, detail-type): the reference template's four rules plus capacity-reservation
# interruptions. Spelling matters: copied snippets have shipped "C2 Instance State-change" and "aws.heatlh".
INTERRUPTION_EVENTS: tuple[tuple[str, str, str], ...] = (
    ("ScheduledChangeRule", "aws.health", "AWS Health Event"),
    ("SpotInterruptionRule", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("RebalanceRule", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("InstanceStateChangeRule", "aws.ec2", "EC2 Instance State-change Notification"),
    (
        "CapacityReservationInterruptionRule",
        "aws.ec2",
        "EC2 Capacity Reservation Instance Interruption Warning",
    ),
)
# A Spot warning gives 2 minutes; a message older than 5 minutes describes a node that is already gone.
RETENTION = Duration.seconds(300)


class InterruptionQueue(Construct):
    """Exposes `queue` (named after the cluster) and `rules` keyed by construct id."""

    def __init__(self, scope: Construct, id_: str, *, cluster_name: str) -> None:
        super().__init__(scope, id_)
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=cluster_name,
            retention_period=RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        acknowledge(
            self.queue,
            "AwsSolutions-SQS3",
            "Interruption events expire in minutes; a dead-letter queue would only keep stale warnings "
            "for nodes that no longer exist, and Karpenter deletes messages it cannot parse.",
        )
        self.rules: dict[str, events.Rule] = {}
        for rule_id, source, detail_type in INTERRUPTION_EVENTS:
            rule = events.Rule(
                self,
                rule_id,
                event_pattern=events.EventPattern(source=[source], detail_type=[detail_type]),
            )
            # The target also adds a queue-policy statement for events.amazonaws.com scoped to this rule.
            rule.add_target(targets.SqsQueue(self.queue))
            self.rules[rule_id] = rule

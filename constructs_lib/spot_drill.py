"""SpotInterruptionDrill (opt-in): an AWS FIS experiment template that sends a Spot interruption warning to a
few (selection mode, default COUNT(1)) of this cluster's Karpenter Spot instances, found by tag, with a role that
may interrupt only those, and a stop condition on an alarm the app owns: the interruption queue backing up."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_fis as fis
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.nag import acknowledge, acknowledge_in_packs
from platform_config.placement import SPOT_NODEPOOL
from platform_config.tags import CLUSTER_TAG

# Karpenter tags its instances with the NodePool; the EC2NodeClass adds the cluster tag (karpenter_manifests).
NODEPOOL_TAG = "karpenter.sh/nodepool"
TARGET = "KarpenterSpotNodes"
# Spot's own warning time: the node is stopped two minutes after the warning, as in a real interruption.
WARNING_BEFORE_INTERRUPTION = "PT2M"
# Karpenter deletes each message within seconds; one five minutes old means interruptions go unhandled.
QUEUE_BACKLOG_SECONDS = 300


class SpotInterruptionDrill(Construct):
    """Exposes `template` (its id is the stack output `SpotDrillTemplateId`) and `stop_alarm`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster_name: str,
        queue: sqs.IQueue,
        selection_mode: str,
        compliance_packs: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        tags = {CLUSTER_TAG: cluster_name, NODEPOOL_TAG: SPOT_NODEPOOL}
        self.stop_alarm = cloudwatch.Alarm(
            self,
            "QueueBacklogAlarm",
            alarm_description=f"{cluster_name}: Spot interruption messages wait over {QUEUE_BACKLOG_SECONDS}s "
            "(Karpenter is not handling interruptions); stops the Spot interruption drill",
            metric=queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(1)),
            threshold=QUEUE_BACKLOG_SECONDS,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "fis.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description=f"AWS FIS: send Spot interruptions to {cluster_name}'s Karpenter Spot instances only",
        )
        instances = stack.format_arn(service="ec2", resource="instance", resource_name="*")
        # A customer managed policy, not an inline one (the compliance packs' IAMNoInlinePolicy).
        policy = iam.ManagedPolicy(
            self,
            "Policy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="InterruptOnlyThisClustersSpotNodes",
                    actions=["ec2:SendSpotInstanceInterruptions"],
                    resources=[instances],
                    conditions={"StringEquals": {f"aws:ResourceTag/{key}": value for key, value in tags.items()}},
                ),
                iam.PolicyStatement(sid="FindTargets", actions=["ec2:DescribeInstances"], resources=["*"]),
            ],
        )
        acknowledge_in_packs(
            self.stop_alarm,
            "CloudWatchAlarmAction",
            "The alarm is the drill's FIS stop condition: FIS reads its state; it notifies nobody by design.",
            enabled=compliance_packs,
        )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{instances}]",  # the stack's account and region are concrete
            "Karpenter names no instance in advance: the interruption is limited by the condition on the "
            f"instance tags {CLUSTER_TAG}={cluster_name} and {NODEPOOL_TAG}={SPOT_NODEPOOL}.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ec2:DescribeInstances supports no resource-level permissions; FIS uses it to resolve the tagged targets.",
        )
        self.template = fis.CfnExperimentTemplate(
            self,
            "Template",
            description=f"Spot interruption drill: warn {selection_mode} of {cluster_name}'s Karpenter Spot nodes",
            role_arn=role.role_arn,
            stop_conditions=[
                fis.CfnExperimentTemplate.ExperimentTemplateStopConditionProperty(
                    source="aws:cloudwatch:alarm", value=self.stop_alarm.alarm_arn
                )
            ],
            targets={
                TARGET: fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty(
                    resource_type="aws:ec2:spot-instance",
                    selection_mode=selection_mode,
                    resource_tags=tags,
                    filters=[
                        fis.CfnExperimentTemplate.ExperimentTemplateTargetFilterProperty(
                            path="State.Name", values=["running"]
                        )
                    ],
                )
            },
            actions={
                "InterruptSpotNodes": fis.CfnExperimentTemplate.ExperimentTemplateActionProperty(
                    action_id="aws:ec2:send-spot-instance-interruptions",
                    parameters={"durationBeforeInterruption": WARNING_BEFORE_INTERRUPTION},
                    targets={"SpotInstances": TARGET},
                )
            },
            tags={"Name": f"{cluster_name}-spot-interruption-drill", CLUSTER_TAG: cluster_name},
        )

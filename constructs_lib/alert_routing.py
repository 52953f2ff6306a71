"""AlertRouting: Alertmanager's route and receivers from config; SNS publishing through EKS Pod Identity."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_eks as eks_l1
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.identities import pod_identity

# The ServiceAccount kube-prometheus-stack gives Alertmanager for release "kube-prometheus-stack".
ALERTMANAGER_SERVICE_ACCOUNT = ("monitoring", "kube-prometheus-stack-alertmanager")
NULL_RECEIVER = "null"
SNS_RECEIVER = "sns"


def alertmanager_config(topic_arn: str) -> dict[str, Any]:
    """Alertmanager's configuration: every alert to the SNS topic when one is set, else to the "null" receiver
    (alerts then stay visible in the Alertmanager UI only). Watchdog always goes to "null": it fires forever."""
    receivers: list[dict[str, Any]] = [{"name": NULL_RECEIVER}]
    default = NULL_RECEIVER
    if topic_arn:
        region = topic_arn.split(":")[3]
        receivers.append(
            {
                "name": SNS_RECEIVER,
                "sns_configs": [
                    {
                        "topic_arn": topic_arn,
                        # Credentials come from EKS Pod Identity (AWS SDK default chain), never from a file.
                        "sigv4": {"region": region},
                        "subject": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}",
                        "send_resolved": True,
                    }
                ],
            }
        )
        default = SNS_RECEIVER
    return {
        "route": {
            "receiver": default,
            "group_by": ["alertname", "namespace"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [{"matchers": ['alertname = "Watchdog"'], "receiver": NULL_RECEIVER}],
        },
        "receivers": receivers,
    }


class AlertRouting(Construct):
    """Exposes `values` (kube-prometheus-stack values) and, with a topic, `role` and `pod_identity`."""

    def __init__(self, scope: Construct, id_: str, *, cluster: eks.ICluster, cluster_name: str, topic_arn: str) -> None:
        super().__init__(scope, id_)
        self.values: dict[str, Any] = {"alertmanager": {"config": alertmanager_config(topic_arn)}}
        self.role: iam.Role | None = None
        self.pod_identity: eks_l1.CfnPodIdentityAssociation | None = None
        if not topic_arn:
            return
        identity = pod_identity(
            self,
            "Alertmanager",
            description="Alertmanager publishes alerts to one SNS topic",
            cluster_name=cluster_name,
            association_cluster_name=cluster.cluster_name,
            service_account=ALERTMANAGER_SERVICE_ACCOUNT,
            role_id="Role",
            association_id="PodIdentity",
        )
        self.role, self.pod_identity = identity.role, identity.association
        self.role.add_to_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[topic_arn]))

"""PlatformCluster: native AWS::EKS::Cluster with API auth, KMS-encrypted secrets, all logs, no Auto Mode."""

from __future__ import annotations

import importlib
from typing import cast

from aws_cdk import Annotations, Duration, aws_lambda
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.log_groups import log_group, logs_key, route_function_logs
from constructs_lib.nag import acknowledge, acknowledge_in_packs, managed_policy_finding
from platform_config.access_policies import CLUSTER_ADMIN_POLICY, VIEW_POLICY
from platform_config.config import PlatformConfig
from platform_config.tags import CLUSTER_TAG
from platform_config.versions import KubernetesRelease

ALL_LOG_TYPES = [
    eks.ClusterLoggingTypes.API,
    eks.ClusterLoggingTypes.AUDIT,
    eks.ClusterLoggingTypes.AUTHENTICATOR,
    eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
    eks.ClusterLoggingTypes.SCHEDULER,
]

# The compliance packs' Lambda rules on CDK's kubectl provider functions: CloudFormation invokes them
# synchronously through the provider framework.
LAMBDA_RULES = {
    "LambdaDLQ": "CloudFormation invokes the kubectl provider synchronously and records each failure as a failed "
    "stack event; an asynchronous dead-letter queue would never receive anything.",
    "LambdaConcurrency": "The kubectl provider runs only during cdk deploy, one invocation per manifest or chart "
    "change; reserved concurrency would take capacity from the account's pool for no gain.",
}


def kubectl_layer(scope: Construct, id_: str, *, release: KubernetesRelease) -> aws_lambda.ILayerVersion:
    """The profile's kubectl layer (kubectl and helm for its Kubernetes minor); only that package is imported."""
    try:
        module = importlib.import_module(release.layer_module)
    except ModuleNotFoundError:  # an upgrade step's minor: its layer is not in requirements.txt
        raise RuntimeError(
            f"Kubernetes {release.version} needs its kubectl layer package, which is not installed: "
            f".venv/bin/pip install {release.kubectl_layer_package} (platform_config/eks_rules.py pins it)"
        ) from None
    return cast(aws_lambda.ILayerVersion, getattr(module, release.layer_class)(scope, id_))


def as_icluster(cluster: eks.Cluster) -> eks.ICluster:
    """jsii's generated Cluster class does not satisfy mypy's ICluster protocol (kubectl_provider_options)."""
    return cast(eks.ICluster, cluster)


class PlatformCluster(Construct):
    """The EKS control plane; exposes `cluster`, `secrets_key`, `logs_key`, `control_plane_log_group`,
    `handler_log_groups`, `admin_entries` and `viewer_entries`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: PlatformConfig,
        vpc: ec2.IVpc,
        control_plane_subnets: ec2.SubnetSelection,
    ) -> None:
        super().__init__(scope, id_)
        self.secrets_key = kms.Key(
            self,
            "SecretsKey",
            description=f"EKS secrets envelope encryption for {config.cluster_name}",
            enable_key_rotation=True,
            pending_window=Duration.days(30),
        )
        self.logs_key = logs_key(self, "LogsKey", description=f"CloudWatch Logs of {config.cluster_name}")
        # EKS writes control-plane logs here; declared first so it has a retention and the key.
        self.control_plane_log_group = log_group(
            self,
            "ControlPlaneLogs",
            name=f"/aws/eks/{config.cluster_name}/cluster",
            retention_days=config.log_retention_days,
            key=self.logs_key,
        )
        private = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        endpoint = (
            eks.EndpointAccess.PUBLIC_AND_PRIVATE.only_from(*config.public_access_cidrs)
            if config.public_endpoint
            else eks.EndpointAccess.PRIVATE
        )
        self.cluster = eks.Cluster(
            self,
            "Cluster",
            cluster_name=config.cluster_name,
            version=eks.KubernetesVersion.of(config.kubernetes.version),
            vpc=vpc,
            # The control plane's interfaces only in its own subnets (ResourcesVpcConfig.SubnetIds, updatable in
            # place): their CIDRs then identify the API server. Nodes and Karpenter use the private subnets.
            vpc_subnets=[control_plane_subnets],
            endpoint_access=endpoint,
            service_ipv4_cidr=config.service_ipv4_cidr,
            secrets_encryption_key=self.secrets_key,
            cluster_logging=ALL_LOG_TYPES,
            # No default capacity and no Auto Mode: the system node group and Karpenter own capacity.
            default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
            default_capacity=0,
            # Admins come from config as access entries; the CloudFormation role gets no standing admin.
            bootstrap_cluster_creator_admin_permissions=False,
            kubectl_provider_options=eks.KubectlProviderOptions(
                kubectl_layer=kubectl_layer(self, "KubectlLayer", release=config.kubernetes),
                # The handler runs in the private subnets so it reaches a private-only endpoint.
                private_subnets=private.subnets,
            ),
            tags={CLUSTER_TAG: config.cluster_name},
        )
        self.cluster.node.add_dependency(self.control_plane_log_group)
        self._keep_kubectl_in_private_subnets(private.subnet_ids)
        self.admin_entries = [
            self.cluster.grant_access(
                f"Admin{index}",
                arn,
                [
                    eks.AccessPolicy.from_access_policy_name(
                        CLUSTER_ADMIN_POLICY, access_scope_type=eks.AccessScopeType.CLUSTER
                    )
                ],
            )
            for index, arn in enumerate(config.admin_principal_arns)
        ]
        self.viewer_entries = [
            self.cluster.grant_access(
                f"Viewer{index}",
                arn,
                [eks.AccessPolicy.from_access_policy_name(VIEW_POLICY, access_scope_type=eks.AccessScopeType.CLUSTER)],
            )
            for index, arn in enumerate(config.viewer_principal_arns)
        ]
        self._acknowledge_cdk_internals(config.compliance_packs)
        self._declare_handler_logs(config)

    def _keep_kubectl_in_private_subnets(self, subnet_ids: list[str]) -> None:
        """aws_eks_v2 places the kubectl provider's functions in the cluster's own subnets whenever the endpoint has
        private access, whatever kubectl_provider_options says. Those are the control plane's isolated /28s: no
        NAT (Helm charts come from the internet), few addresses, and an address there passes the webhook
        NetworkPolicies. Both functions go back to the private subnets, where they reach the private endpoint."""
        provider = self.cluster.node.find_child("KubectlProvider")
        functions = (
            provider.node.find_child("Handler"),
            provider.node.find_child("Provider").node.find_child("framework-onEvent"),
        )
        for function in functions:
            cast(aws_lambda.CfnFunction, function.node.default_child).add_property_override(
                "VpcConfig.SubnetIds", subnet_ids
            )
        Annotations.of(self.cluster).acknowledge_warning(
            "@aws-cdk/aws-eks:isolatedSubnetsForKubectlPrivateSubnets",
            "the kubectl provider's functions are moved to the private subnets (NAT route) right after",
        )

    def _declare_handler_logs(self, config: PlatformConfig) -> None:
        """The kubectl handler and its provider framework log to declared, encrypted, expiring groups."""
        provider = self.cluster.node.find_child("KubectlProvider")
        functions = {
            "KubectlHandlerLogs": provider.node.find_child("Handler"),
            "KubectlProviderLogs": provider.node.find_child("Provider").node.find_child("framework-onEvent"),
        }
        self.handler_log_groups = {}
        for id_, function in functions.items():
            group = log_group(self, id_, retention_days=config.log_retention_days, key=self.logs_key)
            route_function_logs(function, group)
            self.handler_log_groups[id_] = group

    def _acknowledge_cdk_internals(self, packs: tuple[str, ...]) -> None:
        """Findings on roles and functions aws_eks_v2 creates for us, each on its own construct; `packs` are the
        compliance packs switched on."""
        acknowledge(
            self.cluster.role,
            managed_policy_finding("AmazonEKSClusterPolicy"),
            "EKS requires the cluster service role to carry the AWS managed AmazonEKSClusterPolicy, "
            "which AWS updates as the control plane gains features.",
        )
        provider = self.cluster.node.find_child("KubectlProvider")
        handler = provider.node.find_child("Handler")
        on_event = provider.node.find_child("Provider").node.find_child("framework-onEvent")
        lambda_policies = {
            "service-role/AWSLambdaBasicExecutionRole": "lets the function write its own CloudWatch logs only",
            "service-role/AWSLambdaVPCAccessExecutionRole": "lets the function attach ENIs in the private "
            "subnets so it reaches the private API endpoint",
        }
        for function in (handler, on_event):
            role = function.node.find_child("ServiceRole")
            for policy, why in lambda_policies.items():
                acknowledge(role, managed_policy_finding(policy), f"CDK's kubectl provider role: {why}.")
        handler_role = handler.node.find_child("ServiceRole")
        acknowledge(
            handler_role,
            managed_policy_finding("AmazonEC2ContainerRegistryReadOnly"),
            "The kubectl handler pulls Helm charts from OCI registries in ECR (Karpenter's charts); read-only.",
        )
        acknowledge(
            handler_role,
            'AwsSolutions-IAM4[Policy::{"Fn::If":["ControlPlaneClusterKubectlProviderHandlerHasEcrPublic6AA9E5D7",'
            '{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/'
            'AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}]',
            "Read-only pull of public.ecr.aws charts (Karpenter's OCI charts), attached only in partitions "
            "that have ECR Public.",
        )
        acknowledge(
            handler,
            "AwsSolutions-L1",
            "The kubectl handler's runtime is chosen by aws-cdk-lib to match the kubectl layer; it moves "
            "with the aws-cdk-lib pin in requirements.txt.",
        )
        acknowledge(
            on_event.node.find_child("ServiceRole").node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::<ControlPlaneClusterKubectlProviderHandler4C29DBB3.Arn>:*]",
            "The provider framework may invoke any version or alias of the one kubectl handler function.",
        )
        for function in (handler, on_event):
            acknowledge_in_packs(
                function.node.find_child("ServiceRole").node.find_child("DefaultPolicy"),
                "IAMNoInlinePolicy",
                "aws-cdk-lib writes the kubectl provider's grants (this function's log group, the cluster, the "
                "handler it invokes) as the role's default policy; it belongs to that one role and changes with it.",
                enabled=packs,
            )
            for rule, why in LAMBDA_RULES.items():
                acknowledge_in_packs(function, rule, why, enabled=packs)

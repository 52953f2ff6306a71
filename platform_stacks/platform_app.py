"""build_app: config first (one clear error on bad input), then the stacks, then the cdk-nag gate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from constructs_lib.nag import PACKS
from platform_config.addons import addons as registry_addons
from platform_config.config import PLACEHOLDER_REPO, PlatformConfig, app_config
from platform_config.tags import CLUSTER_TAG
from platform_config.target import stack_names, support_warnings
from platform_stacks.addons_stack import AddonsStack
from platform_stacks.cluster_stack import ClusterStack
from platform_stacks.karpenter_stack import KarpenterStack
from platform_stacks.network_stack import NetworkStack

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Platform:
    """The app and its stacks, for app.py and tests."""

    app: cdk.App
    config: PlatformConfig
    network: NetworkStack
    cluster: ClusterStack
    karpenter: KarpenterStack
    addons: AddonsStack


def build_app(
    context: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    today: dt.date | None = None,
    outdir: str | None = None,
    nag: bool = True,
) -> Platform:
    """Validate the raw context (app.py reads it: platform_config.raw_context.app_context), then build the four
    stacks; raises ConfigError before cdk.App exists."""
    config = app_config(context, env or {})
    # CDK's VPC checks the configured zones against an AZ lookup for the stack's account and region; answer it
    # with the configured zones, so no region or account (placeholder or real) ever needs an AWS call.
    zones = {f"availability-zones:account={config.account}:region={config.region}": list(config.availability_zones)}
    # No construct stack traces in the metadata: the CLI printed their first frame, a line of the jsii
    # runtime (".../lib/program.js:1:5591"), above every warning. Nor a creation stack per resource: from Python
    # each one reads "no user code in 10 frames" and costs a captured and parsed Node stack (cdk --debug keeps them).
    no_traces = {"aws:cdk:disable-creation-stack-traces": True}
    app = cdk.App(context=dict(context), post_cli_context={**zones, **no_traces}, outdir=outdir, stack_traces=False)
    stack_env = cdk.Environment(account=config.account, region=config.region)
    names = stack_names(config.cluster_name)
    network = NetworkStack(app, names["network"], config=config, env=stack_env, description="EKS platform: VPC")
    cluster = ClusterStack(
        app,
        names["cluster"],
        config=config,
        vpc=network.vpc,
        control_plane_subnets=network.control_plane_subnets,
        env=stack_env,
        description="EKS platform: cluster",
    )
    karpenter = KarpenterStack(
        app,
        names["karpenter"],
        config=config,
        cluster=cluster.cluster,
        env=stack_env,
        description="EKS platform: Karpenter",
    )
    addons = AddonsStack(
        app,
        names["addons"],
        config=config,
        cluster=cluster.cluster,
        api_server_cidrs=network.control_plane_cidrs,
        env=stack_env,
        description="EKS platform: "
        + ", ".join(a.title for a in registry_addons(config.release, installer="addons-stack"))
        + " and the GitOps root",
    )
    # Prometheus lands on Karpenter's On-Demand pool, so Karpenter must be running first.
    addons.add_stack_dependency(karpenter)
    if config.git_repo_url == PLACEHOLDER_REPO:
        cdk.Annotations.of(addons).add_warning_v2(
            "platform:git-repo-placeholder",
            f"git_repo_url is the placeholder {PLACEHOLDER_REPO}: ArgoCD's root application will not sync "
            "until you set it (cdk.json or -c git_repo_url=https://...).",
        )
    if not config.admin_principal_arns:
        # The cluster gives its creator no admin (bootstrap_cluster_creator_admin_permissions=False).
        cdk.Annotations.of(cluster).add_warning_v2(
            "platform:no-admin-principals",
            "admin_principal_arns is empty: nobody will be able to use kubectl on this cluster. Add your IAM role "
            "ARN (access entries here are for roles only; cdk.json, or "
            "-c admin_principal_arns=arn:aws:iam::<account>:role/<name>); "
            "scripts/setup-cluster.sh offers the deploying principal.",
        )
    for message in support_warnings(config, today or dt.date.today()):
        cdk.Annotations.of(cluster).add_warning_v2("platform:kubernetes-support", message)
    cdk.Tags.of(app).add(CLUSTER_TAG, config.cluster_name)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        # Opt-in compliance packs (regulated users); each finding is fixed or acknowledged where it arises.
        for pack in config.compliance_packs:
            cdk.Validations.of(app).add_plugins(PACKS[pack](app))
    return Platform(app=app, config=config, network=network, cluster=cluster, karpenter=karpenter, addons=addons)

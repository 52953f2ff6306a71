"""Where a deploy goes, said before anything changes: the stack names, the target, the zones an account sees and
the EKS support calendar; no CDK import (the preflight runs without the venv in a dry run)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from platform_config import versions
from platform_config.config import PLACEHOLDER_ACCOUNT, STACK_SUFFIXES, PlatformConfig
from platform_config.errors import ConfigError


def stack_names(cluster_name: str) -> dict[str, str]:
    """The four stack names, keyed network, cluster, karpenter, addons (deploy order)."""
    return {key: f"{cluster_name}-{suffix}" for key, suffix in STACK_SUFFIXES.items()}


def target_lines(config: PlatformConfig, env: Mapping[str, str]) -> list[str]:
    """What a deploy will touch, printed before anything changes (make deploy, make bootstrap, the setup script)."""
    account = config.account
    if account == PLACEHOLDER_ACCOUNT:
        account += " (placeholder: the account of your credentials)"
    if env.get("AWS_PROFILE"):
        profile = f"{env['AWS_PROFILE']} (AWS_PROFILE)"
    elif env.get("AWS_ACCESS_KEY_ID"):
        profile = "keys from the environment (AWS_ACCESS_KEY_ID)"
    else:
        profile = "default (no AWS_PROFILE)"
    admins, viewers = len(config.admin_principal_arns), len(config.viewer_principal_arns)
    return [
        f"target: account {account}, region {config.region}, AWS profile {profile}",
        f"cluster: {config.cluster_name}, release profile {config.release} (Kubernetes {config.kubernetes.version}),"
        f" zones {', '.join(config.availability_zones)}",
        f"stacks: {', '.join(stack_names(config.cluster_name).values())}",
        f"access: {admins} admin principal{'s' * (admins != 1)}, {viewers} viewer principal{'s' * (viewers != 1)}"
        f" (admin_principal_arns, viewer_principal_arns)",
    ]


def refuse_unseen_zones(config: PlatformConfig, seen: list[str]) -> None:
    """With credentials: every configured zone is one the account sees in the region (which zones an account
    sees varies by account, so offline only the region prefix is checked)."""
    for zone in config.availability_zones:
        if zone not in seen:
            raise ConfigError(
                "availability_zones",
                zone,
                f"accepted are zones account {config.account} sees in {config.region}: {', '.join(sorted(seen))} "
                "(aws ec2 describe-availability-zones)",
            )


def support_warnings(config: PlatformConfig, today: dt.date) -> list[str]:
    """Plain warnings when the profile's Kubernetes version is past EKS standard or extended support."""
    release = config.kubernetes
    supported = sorted(
        name
        for name, p in versions.PROFILES.items()
        if p.kubernetes.standard_support_end and today <= p.kubernetes.standard_support_end
    )
    move = (
        f"Select a supported release profile (release={' or '.join(supported)})."
        if supported
        else ("Add a release profile with a supported version to platform_config/versions.py.")
    )
    out: list[str] = []
    if release.standard_support_end is None or release.extended_support_end is None:
        return out  # an upgrade step: transient, its calendar is not recorded (the profiles carry it)
    if today > release.extended_support_end:
        out.append(
            f"Release profile {config.release}: Kubernetes {release.version} left EKS extended support on "
            f"{release.extended_support_end}: EKS no longer creates clusters at this version, so a new deploy "
            f"will fail and existing clusters are upgraded automatically. {move}"
        )
    elif today > release.standard_support_end:
        out.append(
            f"Release profile {config.release}: Kubernetes {release.version} left EKS standard support on "
            f"{release.standard_support_end}: extended support is billed extra per cluster-hour until "
            f"{release.extended_support_end}. {move}"
        )
    return out

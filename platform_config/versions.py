"""Every pinned version of the platform lives here, per release profile, so a profile is data, not code.

Each pin sits on the line below a `# renovate:` annotation that names its upstream (renovate.json reads them;
tests/test_renovate.py fails on a pin without one). The first version on that line is the pin. The seed
profile's annotations say depType=seed: it is the design's frozen versions, never proposed for upgrade.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class KubernetesRelease:
    """An EKS Kubernetes minor version, its kubectl layer and EKS's calendar. The kubectl and helm versions the
    layer ships are read from its binaries (platform_checks/layer_tools.tool_versions), never typed here."""

    version: str
    kubectl_layer_package: str
    # None: not recorded (an upgrade step's intermediate minor: a step is transient, the profiles carry the calendar).
    standard_support_end: dt.date | None
    extended_support_end: dt.date | None

    @property
    def layer_module(self) -> str:
        """The Python module of the kubectl layer package (aws_cdk.lambda_layer_kubectl_v29 for 1.29)."""
        return "aws_cdk.lambda_layer_kubectl_v" + self.version.split(".")[1]

    @property
    def layer_class(self) -> str:
        """The layer construct in `layer_module` (KubectlV29Layer for 1.29)."""
        return f"KubectlV{self.version.split('.')[1]}Layer"


@dataclass(frozen=True)
class ChartPin:
    """A Helm chart pinned to one exact version from one repository. Its appVersion is derived from the chart's
    upstream Chart.yaml (platform_checks/upstream_facts.app_version), never typed beside the pin."""

    chart: str
    repository: str
    version: str


@dataclass(frozen=True)
class ReleaseProfile:
    """One release profile: a Kubernetes release and every pin that must agree with it."""

    name: str
    kubernetes: KubernetesRelease
    karpenter_version: str
    ami_alias: str
    # Every chart but Karpenter's two: (repository, version). `charts` adds karpenter-crd and karpenter at
    # karpenter_version, so Karpenter is pinned once.
    other_charts: dict[str, tuple[str, str]]
    # An upgrade step's generated profile only (step_profiles.json): the hand-written profile whose per-profile
    # files (upstream_facts/, helm_values/) serve each chart, since it pins the same version, and the one whose
    # GitOps paths Argo CD syncs (it pins every chart Argo CD installs at the step's version). Empty: itself.
    sources: dict[str, str] = field(default_factory=dict)
    gitops: str = ""

    def files_profile(self, chart: str) -> str:
        """The profile whose upstream_facts/ and helm_values/ files serve `chart` in this profile."""
        return self.sources.get(chart, self.name)

    @property
    def gitops_profile(self) -> str:
        """The profile whose gitops/, infra/overlays/ and apps/overlays/ paths this profile deploys."""
        return self.gitops or self.name

    @property
    def charts(self) -> dict[str, ChartPin]:
        """Every chart pin of the profile, by chart name."""
        out = {n: ChartPin(n, KARPENTER_REPO, self.karpenter_version) for n in KARPENTER_CHARTS}
        out.update({name: ChartPin(name, repo, version) for name, (repo, version) in self.other_charts.items()})
        return out


KARPENTER_REPO = "oci://public.ecr.aws/karpenter"
KARPENTER_CHARTS = ("karpenter-crd", "karpenter")  # one version for both: the CRDs and the controller
ARGO_REPO = "https://argoproj.github.io/argo-helm"
KYVERNO_REPO = "https://kyverno.github.io/kyverno/"
PROMETHEUS_REPO = "https://prometheus-community.github.io/helm-charts"
OTEL_REPO = "https://open-telemetry.github.io/opentelemetry-helm-charts"
JAEGER_REPO = "https://jaegertracing.github.io/helm-charts"
EKS_CHARTS_REPO = "https://aws.github.io/eks-charts"


PROFILES: dict[str, ReleaseProfile] = {
    # The design's versions. EKS calendar: 1.29 released on EKS 2024-01-23, standard support ended
    # 2025-03-23, extended support ended 2026-03-23 (EKS no longer creates 1.29 clusters).
    "seed": ReleaseProfile(
        name="seed",
        kubernetes=KubernetesRelease(
            # renovate: datasource=endoflife-date depName=amazon-eks versioning=loose depType=seed
            version="1.29",
            # renovate: datasource=pypi depName=aws-cdk.lambda-layer-kubectl-v29 depType=seed
            kubectl_layer_package="aws-cdk.lambda-layer-kubectl-v29==2.1.1",
            standard_support_end=dt.date(2025, 3, 23),
            extended_support_end=dt.date(2026, 3, 23),
        ),
        # renovate: datasource=docker depName=karpenter packageName=public.ecr.aws/karpenter/karpenter depType=seed
        karpenter_version="1.0.14",
        # The AL2023 release Karpenter 1.0's docs pin in their examples; never @latest.
        # renovate: datasource=github-releases depName=awslabs/amazon-eks-ami versioning=loose depType=seed
        ami_alias="al2023@v20240807",
        other_charts={
            # renovate: datasource=helm depName=argo-cd depType=seed registryUrl=https://argoproj.github.io/argo-helm
            "argo-cd": (ARGO_REPO, "6.7.18"),
            # renovate: datasource=helm depName=kyverno depType=seed registryUrl=https://kyverno.github.io/kyverno/
            "kyverno": (KYVERNO_REPO, "3.2.9"),
            # renovate: datasource=helm depName=kube-prometheus-stack depType=seed registryUrl=https://prometheus-community.github.io/helm-charts
            "kube-prometheus-stack": (PROMETHEUS_REPO, "65.8.1"),
            # renovate: datasource=helm depName=opentelemetry-collector depType=seed registryUrl=https://open-telemetry.github.io/opentelemetry-helm-charts
            "opentelemetry-collector": (OTEL_REPO, "0.110.3"),
            # renovate: datasource=helm depName=jaeger depType=seed registryUrl=https://jaegertracing.github.io/helm-charts
            "jaeger": (JAEGER_REPO, "3.3.3"),
            # renovate: datasource=helm depName=opentelemetry-demo depType=seed registryUrl=https://open-telemetry.github.io/opentelemetry-helm-charts
            "opentelemetry-demo": (OTEL_REPO, "0.33.8"),
            # The last chart of 2024 (controller v2.11.0).
            # renovate: datasource=helm depName=aws-load-balancer-controller depType=seed registryUrl=https://aws.github.io/eks-charts
            "aws-load-balancer-controller": (EKS_CHARTS_REPO, "1.11.0"),
        },
    ),
    # Deployable today. EKS calendar: 1.36 released on EKS 2026-06-02, standard support to 2027-08-02
    # (14 months), extended support to about 2028-08-02.
    "current": ReleaseProfile(
        name="current",
        kubernetes=KubernetesRelease(
            # renovate: datasource=endoflife-date depName=amazon-eks versioning=loose
            version="1.36",
            # renovate: datasource=pypi depName=aws-cdk.lambda-layer-kubectl-v36
            kubectl_layer_package="aws-cdk.lambda-layer-kubectl-v36==2.0.1",
            standard_support_end=dt.date(2027, 8, 2),
            extended_support_end=dt.date(2028, 8, 2),
        ),
        # renovate: datasource=docker depName=karpenter packageName=public.ecr.aws/karpenter/karpenter
        karpenter_version="1.14.1",
        # Newest AL2023 1.36 release in the amazon-eks-ami changelog we hold; bump on purpose (runbook).
        # renovate: datasource=github-releases depName=awslabs/amazon-eks-ami versioning=loose
        ami_alias="al2023@v20260714",
        other_charts={
            # renovate: datasource=helm depName=argo-cd registryUrl=https://argoproj.github.io/argo-helm
            "argo-cd": (ARGO_REPO, "10.1.1"),
            # renovate: datasource=helm depName=kyverno registryUrl=https://kyverno.github.io/kyverno/
            "kyverno": (KYVERNO_REPO, "3.9.0"),
            # renovate: datasource=helm depName=kube-prometheus-stack registryUrl=https://prometheus-community.github.io/helm-charts
            "kube-prometheus-stack": (PROMETHEUS_REPO, "88.5.3"),
            # renovate: datasource=helm depName=opentelemetry-collector registryUrl=https://open-telemetry.github.io/opentelemetry-helm-charts
            "opentelemetry-collector": (OTEL_REPO, "0.170.0"),
            # renovate: datasource=helm depName=jaeger registryUrl=https://jaegertracing.github.io/helm-charts
            "jaeger": (JAEGER_REPO, "4.11.1"),
            # renovate: datasource=helm depName=opentelemetry-demo registryUrl=https://open-telemetry.github.io/opentelemetry-helm-charts
            "opentelemetry-demo": (OTEL_REPO, "0.41.0"),
            # renovate: datasource=helm depName=aws-load-balancer-controller registryUrl=https://aws.github.io/eks-charts
            "aws-load-balancer-controller": (EKS_CHARTS_REPO, "3.5.0"),
        },
    ),
}
# The profile a fresh checkout builds (cdk.json's `release` says the same; tests assert they agree).
DEFAULT_PROFILE = "current"


# Generated by `python -m tools.report.upgrade_plan --write-profiles` (the seed-to-current plan's intermediate states);
# never edited by hand, held fresh by tests/test_step_profiles.py.
STEP_PROFILES_FILE = Path(__file__).resolve().parent / "step_profiles.json"


@cache
def step_profiles() -> dict[str, dict[str, object]]:
    """The generated upgrade-step records by name (the plan's data; see release_profile for the profile)."""
    if not STEP_PROFILES_FILE.is_file():
        return {}
    data: dict[str, dict[str, object]] = json.loads(STEP_PROFILES_FILE.read_text())["steps"]
    return data


class UnbuildableStep(ValueError):
    """An upgrade step whose state uses a chart version no release profile pins (no offline data for it)."""


def release_profile(name: str) -> ReleaseProfile:
    """A release profile by name: a hand-written one (PROFILES), else an upgrade step's generated profile."""
    if name in PROFILES:
        return PROFILES[name]
    step = step_profiles().get(name)
    if step is None:
        raise KeyError(name)
    missing = step["not_pinned"]
    assert isinstance(missing, list)
    if missing:
        raise UnbuildableStep(
            f"upgrade step {name} uses {', '.join(missing)}, which no release profile pins: not rendered offline, so "
            "it cannot be built here (docs/upgrade-playbook.md says how to apply it)"
        )
    charts = step["charts"]
    assert isinstance(charts, dict)
    return ReleaseProfile(
        name=name,
        kubernetes=KubernetesRelease(
            version=str(step["kubernetes"]),
            kubectl_layer_package=str(step["kubectl_layer_package"]),
            standard_support_end=None,
            extended_support_end=None,
        ),
        karpenter_version=charts["karpenter"]["version"],
        ami_alias=str(step["ami_alias"]),
        other_charts={c: (v["repository"], v["version"]) for c, v in charts.items() if c != "karpenter"},
        sources={c: v["source"] for c, v in charts.items()},
        gitops=str(step["gitops"]),
    )


def release_names() -> list[str]:
    """Every name `release` accepts: the profiles, then the generated upgrade steps."""
    return [*PROFILES, *step_profiles()]


def profiles_pinning(charts: dict[str, str]) -> list[str]:
    """The profiles whose pins are the versions of every chart in `charts` ({chart: version}); how an assembly
    without a recorded profile (an older cdk.out) is matched."""
    return [
        name
        for name, profile in sorted(PROFILES.items())
        if charts and all(c in profile.charts and profile.charts[c].version == v for c, v in charts.items())
    ]


# EKS managed add-ons. None = the version EKS marks default for the profile's Kubernetes version, resolved at
# deploy time (constructs_lib/addon_versions.py, eks:DescribeAddonVersions) and re-resolved on every Kubernetes
# version change; a version string here pins it instead (no offline source lists them).
EKS_ADDONS: dict[str, str | None] = {
    "vpc-cni": None,
    "coredns": None,
    "kube-proxy": None,
    "eks-pod-identity-agent": None,
    "aws-ebs-csi-driver": None,
}

"""The add-on registry: one record per Helm release the platform installs, by CDK or by Argo CD. Everything that
needs to know the add-ons (stacks, namespace guards, the derive tool, the chart cache, the render gate, the
diagram, Renovate coverage, the docs' tables and the tests) reads this list; the pins stay in versions.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from platform_config.versions import PROFILES, ChartPin, ReleaseProfile

Installer = Literal["karpenter-stack", "addons-stack", "argocd"]
PodSecurity = Literal["privileged", "baseline", "restricted"]
# Where the add-on's pods run, by the placement contract (platform_config/placement.py): the managed system
# node group, Karpenter's Spot pool, or the shop's own split (stateless on Spot, stateful On-Demand).
Placement = Literal["system", "spot", "split"]
INSTALLERS: tuple[Installer, ...] = ("karpenter-stack", "addons-stack", "argocd")


def version_key(version: str) -> tuple[int, ...]:
    """`1.14.1` -> (1, 14, 1); a leading `v` and any pre-release suffix are ignored."""
    parts = []
    for part in version.lstrip("v").split("-", 1)[0].split("."):
        parts.append(int(part) if part.isdigit() else 0)
    return tuple(parts)


@dataclass(frozen=True)
class CrdSource:
    """One CRD an add-on provides: its facts name (`<group>_<plural>`), where it sits in the add-on's pinned
    upstream folder (the first path that exists wins: upstreams rename files), and the first chart version
    whose CRD the platform uses (None: every version)."""

    name: str
    paths: tuple[str, ...]
    since: str | None = None

    def provided_at(self, version: str) -> bool:
        return self.since is None or version_key(version) >= version_key(self.since)


@dataclass(frozen=True)
class UpstreamRepo:
    """The git repository an add-on's upstream files come from and the ref of a chart version (`{version}` is the
    pin): `tag` for every file, `chart_ref` for the chart folder when the release process rewrites Chart.yaml and
    values.yaml on another ref (Karpenter's release branch, ../shared/upstream/MANIFEST.md note K1)."""

    repo: str
    tag: str
    chart_ref: str = ""
    license: str = "Apache-2.0"
    # The subfolder of the add-on's upstream folder that holds this repository's files, when the folder holds
    # several repositories (the load balancer controller's: eks-charts/ and aws-load-balancer-controller/).
    folder: str = ""


@dataclass(frozen=True, kw_only=True)
class Addon:
    """One Helm release: what installs it, where, in which order, and where its upstream data lives."""

    release: str
    chart: str
    title: str
    namespace: str
    # Pod Security `enforce` level of the namespace (CDK creates the namespaces of the CDK-installed add-ons).
    pod_security: PodSecurity
    installer: Installer
    # CDK: the construct id (it decides the logical ids, so it never changes). Argo CD: the Application's file.
    construct_id: str = ""
    application: str = ""
    # What the release waits for: other releases of the same stack, or platform parts the stack names.
    after: tuple[str, ...] = ()
    timeout_minutes: int = 10
    # CRDs come from another release (karpenter-crd) that Helm upgrades, which a chart's crds/ folder never is.
    skip_crds: bool = False
    placement: Placement = "system"
    crds: tuple[CrdSource, ...] = ()
    # The pinned upstream data: `<upstream>-<version>/<chart_path>` holds Chart.yaml and values.yaml.
    upstream: str = ""
    chart_path: str = ""
    # False for a chart installed with no values at all (karpenter-crd): no key tree is derived for it.
    takes_values: bool = True
    # Where its compatibility data and upgrade notes live (shared/upstream/lifecycle/<lifecycle>/).
    lifecycle: str = ""
    icon: str = "helm"
    # The chart brings its own default-deny NetworkPolicies (Argo CD's global.networkPolicy); otherwise the
    # namespace guards give every CDK add-on namespace one before the chart installs.
    network_policies_from_chart: bool = False
    # Extra namespaces the release's pods run in, with their Pod Security level (node-exporter's host access).
    extra_namespaces: tuple[tuple[str, PodSecurity], ...] = ()
    # Only these profiles install it (empty: every profile).
    profiles: tuple[str, ...] = field(default_factory=tuple)
    # Where tools/generate/derive_upstream.py fetches (and locks) its upstream files at the pin.
    source: UpstreamRepo | None = None
    # Further repositories of the same upstream folder, each in its own `folder`.
    more_sources: tuple[UpstreamRepo, ...] = ()

    def pin(self, profile: ReleaseProfile) -> ChartPin:
        return profile.charts[self.chart]

    def upstream_dir(self, profile: ReleaseProfile) -> str:
        """`<upstream>-<version>` under shared/upstream (MANIFEST.md's layout)."""
        return f"{self.upstream or self.chart}-{self.pin(profile).version}"

    def chart_dir(self, profile: ReleaseProfile) -> str:
        """The folder of Chart.yaml and values.yaml, relative to shared/upstream."""
        return f"{self.upstream_dir(profile)}/{self.chart_path or 'charts/' + self.chart}"

    def crds_at(self, profile: ReleaseProfile) -> tuple[CrdSource, ...]:
        version = self.pin(profile).version
        return tuple(c for c in self.crds if c.provided_at(version))

    @property
    def by_cdk(self) -> bool:
        return self.installer != "argocd"


KARPENTER_CRDS = "pkg/apis/crds"
ARGOCD_CRDS = "charts/argo-cd/templates/crds"
KYVERNO_CRDS = "config/crds"
KPS_CRDS = "charts/kube-prometheus-stack/charts/crds/crds"
KARPENTER_SOURCE = UpstreamRepo("github.com/aws/karpenter-provider-aws", "v{version}", chart_ref="release-v{version}")
OTEL_SOURCE = "github.com/open-telemetry/opentelemetry-helm-charts"
# eks-charts ships every CRD of the controller in one multi-document file.
LBC_CHART = "eks-charts/stable/aws-load-balancer-controller"
LBC_CRDS = f"{LBC_CHART}/crds/crds.yaml"

# Install order within a stack follows this list where `after` does not decide it.
ADDONS: tuple[Addon, ...] = (
    Addon(
        release="karpenter-crd",
        source=KARPENTER_SOURCE,
        chart="karpenter-crd",
        title="Karpenter CRDs",
        namespace="kube-system",
        pod_security="privileged",
        installer="karpenter-stack",
        construct_id="Crds",
        upstream="karpenter",
        takes_values=False,
        lifecycle="karpenter-provider-aws",
        icon="karpenter",
        crds=(
            CrdSource("karpenter.sh_nodepools", (f"{KARPENTER_CRDS}/karpenter.sh_nodepools.yaml",)),
            CrdSource("karpenter.sh_nodeclaims", (f"{KARPENTER_CRDS}/karpenter.sh_nodeclaims.yaml",)),
            CrdSource("karpenter.k8s.aws_ec2nodeclasses", (f"{KARPENTER_CRDS}/karpenter.k8s.aws_ec2nodeclasses.yaml",)),
            CrdSource(
                "karpenter.sh_nodeoverlays", (f"{KARPENTER_CRDS}/karpenter.sh_nodeoverlays.yaml",), since="1.14.0"
            ),
            CrdSource(
                "autoscaling.x-k8s.io_capacitybuffers",
                (f"{KARPENTER_CRDS}/autoscaling.x-k8s.io_capacitybuffers.yaml",),
                since="1.14.0",
            ),
        ),
    ),
    Addon(
        release="karpenter",
        source=KARPENTER_SOURCE,
        chart="karpenter",
        title="Karpenter",
        namespace="kube-system",
        pod_security="privileged",
        installer="karpenter-stack",
        construct_id="Controller",
        # The Pod Identity association and the node access entry exist before the controller starts.
        after=("karpenter-crd", "karpenter-pod-identity", "karpenter-node-access"),
        skip_crds=True,
        upstream="karpenter",
        lifecycle="karpenter-provider-aws",
        icon="karpenter",
    ),
    Addon(
        release="kube-prometheus-stack",
        source=UpstreamRepo("github.com/prometheus-community/helm-charts", "kube-prometheus-stack-{version}"),
        chart="kube-prometheus-stack",
        title="kube-prometheus-stack",
        namespace="monitoring",
        pod_security="baseline",
        installer="addons-stack",
        construct_id="Monitoring",
        # Prometheus waits for a Karpenter On-Demand node and its gp3 volume: the longest install. Pod Identity
        # credentials are injected when a pod starts, so Alertmanager's association comes first.
        after=("namespace-guards", "storage-class", "alertmanager-identity"),
        timeout_minutes=12,
        lifecycle="prometheus-community-helm-charts",
        icon="prometheus",
        crds=(
            CrdSource("monitoring.coreos.com_servicemonitors", (f"{KPS_CRDS}/crd-servicemonitors.yaml",)),
            CrdSource("monitoring.coreos.com_podmonitors", (f"{KPS_CRDS}/crd-podmonitors.yaml",)),
            CrdSource("monitoring.coreos.com_prometheusrules", (f"{KPS_CRDS}/crd-prometheusrules.yaml",)),
        ),
        # node-exporter needs hostNetwork, hostPID and hostPath mounts of /proc, /sys and /: it alone runs there.
        extra_namespaces=(("node-exporter", "privileged"),),
    ),
    Addon(
        release="kyverno",
        source=UpstreamRepo("github.com/kyverno/kyverno", "kyverno-chart-{version}"),
        chart="kyverno",
        title="Kyverno",
        namespace="kyverno",
        pod_security="baseline",
        installer="addons-stack",
        construct_id="Kyverno",
        after=("namespace-guards",),
        lifecycle="kyverno",
        icon="kyverno",
        crds=(
            CrdSource("kyverno.io_clusterpolicies", (f"{KYVERNO_CRDS}/kyverno/kyverno.io_clusterpolicies.yaml",)),
            CrdSource("kyverno.io_policies", (f"{KYVERNO_CRDS}/kyverno/kyverno.io_policies.yaml",)),
            # The policies.kyverno.io kinds the guardrails use from chart 3.9 (Kyverno 1.19) on.
            *(
                CrdSource(
                    f"policies.kyverno.io_{plural}",
                    (f"{KYVERNO_CRDS}/policies.kyverno.io/policies.kyverno.io_{plural}.yaml",),
                    since="3.9.0",
                )
                for plural in (
                    "validatingpolicies",
                    "namespacedvalidatingpolicies",
                    "policyexceptions",
                    "imagevalidatingpolicies",
                )
            ),
        ),
    ),
    Addon(
        release="argocd",
        source=UpstreamRepo("github.com/argoproj/argo-helm", "argo-cd-{version}"),
        chart="argo-cd",
        title="Argo CD",
        namespace="argocd",
        pod_security="baseline",
        installer="addons-stack",
        construct_id="ArgoCd",
        after=("namespace-guards",),
        network_policies_from_chart=True,
        lifecycle="argo-cd",
        icon="argocd",
        crds=(
            CrdSource("argoproj.io_applications", (f"{ARGOCD_CRDS}/crd-application.yaml",)),
            # argo-helm renamed crd-project.yaml to crd-appproject.yaml; ApplicationSet is unused here.
            CrdSource(
                "argoproj.io_appprojects", (f"{ARGOCD_CRDS}/crd-appproject.yaml", f"{ARGOCD_CRDS}/crd-project.yaml")
            ),
        ),
    ),
    Addon(
        release="aws-load-balancer-controller",
        chart="aws-load-balancer-controller",
        title="AWS Load Balancer Controller",
        namespace="aws-load-balancer-controller",
        pod_security="restricted",
        installer="addons-stack",
        construct_id="LoadBalancerController",
        # Its ServiceMonitor needs the CRD; Pod Identity credentials are injected when a pod starts.
        after=("namespace-guards", "kube-prometheus-stack", "lb-controller-identity"),
        # Its folder holds two repositories: the chart of aws/eks-charts (no per-chart tags: a new pin resolves
        # master, so check the commit that set the version) and the IAM policy at the controller's tag (chart 3.x
        # carries the controller of its own version; seed's 1.11.0 / v2.11.0 is locked from ../shared).
        source=UpstreamRepo("github.com/aws/eks-charts", "master", folder="eks-charts"),
        more_sources=(
            UpstreamRepo(
                "github.com/kubernetes-sigs/aws-load-balancer-controller",
                "v{version}",
                folder="aws-load-balancer-controller",
            ),
        ),
        upstream="aws-load-balancer-controller",
        chart_path=LBC_CHART,
        lifecycle="eks-charts",
        icon="elb",
        crds=(
            CrdSource("elbv2.k8s.aws_ingressclassparams", (LBC_CRDS,)),
            CrdSource("elbv2.k8s.aws_targetgroupbindings", (LBC_CRDS,)),
        ),
    ),
    Addon(
        release="otel-collector",
        source=UpstreamRepo(OTEL_SOURCE, "opentelemetry-collector-{version}"),
        chart="opentelemetry-collector",
        title="OpenTelemetry Collector",
        namespace="observability",
        pod_security="restricted",
        installer="argocd",
        application="infra/observability/otel-collector.yaml",
        placement="spot",
        lifecycle="opentelemetry-helm-charts",
        icon="otel",
    ),
    Addon(
        release="jaeger",
        source=UpstreamRepo("github.com/jaegertracing/helm-charts", "jaeger-{version}"),
        chart="jaeger",
        title="Jaeger",
        namespace="observability",
        pod_security="restricted",
        installer="argocd",
        application="infra/observability/jaeger.yaml",
        placement="spot",
        lifecycle="jaegertracing-helm-charts",
        icon="jaeger",
    ),
    Addon(
        release="astronomy-shop",
        source=UpstreamRepo(OTEL_SOURCE, "opentelemetry-demo-{version}"),
        chart="opentelemetry-demo",
        title="Astronomy Shop (OpenTelemetry demo)",
        namespace="astronomy-shop",
        pod_security="baseline",
        installer="argocd",
        application="apps/astronomy-shop/application.yaml",
        placement="split",
        lifecycle="opentelemetry-helm-charts",
    ),
)


class UnknownAddon(KeyError):
    """A release name the registry does not hold."""


def addons(profile: str | None = None, *, installer: Installer | None = None) -> tuple[Addon, ...]:
    """The registry's records, in order: those `profile` installs (every one when None), of one installer."""
    return tuple(
        a
        for a in ADDONS
        if (profile is None or not a.profiles or profile in a.profiles)
        and (installer is None or a.installer == installer)
    )


def addon(release: str) -> Addon:
    """The record of one release; UnknownAddon naming the accepted releases otherwise."""
    for record in ADDONS:
        if record.release == release:
            return record
    raise UnknownAddon(f"no add-on '{release}' in platform_config/addons.py; accepted: {[a.release for a in ADDONS]}")


def charts_of(profile: str) -> tuple[str, ...]:
    """The charts the profile's add-ons install, in registry order (each once)."""
    return tuple(dict.fromkeys(a.chart for a in addons(profile)))


def cdk_namespaces(profile: str | None = None) -> dict[str, PodSecurity]:
    """Every namespace CDK creates for its add-ons (kube-system exists already), with its Pod Security level."""
    out: dict[str, PodSecurity] = {}
    for record in addons(profile):
        if record.by_cdk and record.namespace != "kube-system":
            out[record.namespace] = record.pod_security
        if record.by_cdk:
            out.update(dict(record.extra_namespaces))
    return dict(sorted(out.items()))


def default_deny_namespaces(profile: str | None = None) -> tuple[str, ...]:
    """The CDK add-on namespaces the namespace guards close to ingress by default (sorted)."""
    return tuple(
        sorted(
            {
                a.namespace
                for a in addons(profile)
                if a.by_cdk and a.namespace != "kube-system" and not a.network_policies_from_chart
            }
        )
    )


def check_registry() -> list[str]:
    """Rules every record keeps; one line per broken rule (tests/test_addon_registry.py asserts none)."""
    errors = []
    releases = [a.release for a in ADDONS]
    for record in ADDONS:
        where = f"platform_config/addons.py: {record.release}"
        if releases.count(record.release) > 1:
            errors.append(f"{where}: release named twice")
        if record.installer not in INSTALLERS:
            errors.append(f"{where}: installer {record.installer!r}; accepted: {list(INSTALLERS)}")
        if record.by_cdk and not record.construct_id:
            errors.append(f"{where}: a CDK add-on needs its construct_id (it decides the logical ids)")
        folder = record.upstream or record.chart
        if not any(a.source for a in ADDONS if (a.upstream or a.chart) == folder):
            # One record per upstream folder says where it comes from (a second release of a chart inherits it).
            errors.append(
                f"{where}: needs its upstream source (repository and tag) for tools/generate/derive_upstream.py"
            )
        if not record.by_cdk and not record.application:
            errors.append(f"{where}: an Argo CD add-on names the Application file that installs it")
        for name, profile in PROFILES.items():
            if record.profiles and name not in record.profiles:
                continue
            if record.chart not in profile.charts:
                errors.append(f"{where}: chart {record.chart} has no pin in the {name} profile (versions.py)")
        for dep in record.after:
            other = next((a for a in ADDONS if a.release == dep), None)
            if other is not None and other.installer != record.installer:
                errors.append(f"{where}: waits for {dep}, which {other.installer} installs, not {record.installer}")
            if other is not None and releases.index(dep) > releases.index(record.release):
                errors.append(f"{where}: waits for {dep}, which comes later in the registry")
    for name in PROFILES:
        pinned, installed = set(PROFILES[name].charts), set(charts_of(name))
        for chart in sorted(pinned - installed):
            errors.append(f"versions.py: the {name} profile pins {chart}, which no add-on in addons.py installs")
    return errors

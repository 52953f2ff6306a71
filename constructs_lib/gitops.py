"""GitOpsBootstrap: two AppProjects (the root's and the child charts'), the emptied `default` project, and the root
app that syncs the release profile's overlays of infra/ and apps/."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from platform_config.addons import addons
from platform_config.config import PlatformConfig
from platform_config.guardrails import GUARDRAIL_KIND
from platform_config.versions import ReleaseProfile

ARGOCD_NAMESPACE = "argocd"
# The root app syncs this repo's infra/ and apps/; child Applications install third-party charts.
ROOT_PROJECT = "platform-root"
PROJECT = "platform"
ROOT_APP = "platform-root"
IN_CLUSTER = "https://kubernetes.default.svc"
# Child Applications in infra/ and apps/ install the registry's argocd records; the child project admits their
# charts and namespaces and nothing else.
GITOPS_ROOTS = ("infra", "apps")


def child_chart_repos(profile: ReleaseProfile) -> list[str]:
    """The Helm repositories of the charts the profile's child Applications install."""
    return sorted({a.pin(profile).repository for a in addons(profile.name, installer="argocd")})


def overlay_paths(release: str) -> list[str]:
    """The kustomize directories the root app syncs for a release profile: each GitOps root's overlay."""
    return [f"{root}/overlays/{release}" for root in GITOPS_ROOTS]


# Namespaces the synced content may write to. Never kube-system, kyverno or argocd (Kyverno's webhooks skip
# the first two, argocd holds the cluster-admin controller); the root may add Applications in argocd only.
CONTENT_NAMESPACES = ("astronomy-shop", "monitoring", "observability")
CHILD_NAMESPACES = tuple(sorted({a.namespace for a in addons(installer="argocd")}))
# What the built infra/ and apps/ create, by (group, kind); tests derive both lists from the content. The
# guardrails' kind is the profile's (ClusterPolicy on seed, ValidatingPolicy on current).
ROOT_CLUSTER_KINDS = (("", "Namespace"),)
ROOT_NAMESPACED_KINDS = (
    ("", "ConfigMap"),
    ("argoproj.io", "Application"),
    # The shop's frontend-proxy drain (apps/astronomy-shop/frontend-proxy-drain.yaml): a namespaced mutate policy.
    ("kyverno.io", "Policy"),
    ("monitoring.coreos.com", "PrometheusRule"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
)
# Synced charts never touch Argo CD's own objects (Applications, AppProjects, ApplicationSets).
ARGOPROJ_BLACKLIST = [{"group": "argoproj.io", "kind": "*"}]


def _kinds(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"group": group, "kind": kind} for group, kind in pairs]


def _destinations(namespaces: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"server": IN_CLUSTER, "namespace": ns} for ns in namespaces]


def root_project(config: PlatformConfig) -> dict[str, Any]:
    """The root app's project: this repo only, the content namespaces plus Applications in argocd."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": ROOT_PROJECT, "namespace": ARGOCD_NAMESPACE},
        "spec": {
            "description": f"GitOps root of {config.cluster_name}: {config.git_repo_url} only",
            "sourceRepos": [config.git_repo_url],
            "destinations": _destinations((ARGOCD_NAMESPACE, *CONTENT_NAMESPACES)),
            "clusterResourceWhitelist": _kinds((*ROOT_CLUSTER_KINDS, GUARDRAIL_KIND[config.release])),
            # A whitelist, so an AppProject, ApplicationSet, Role or Secret in Git is refused by Argo CD.
            "namespaceResourceWhitelist": _kinds(ROOT_NAMESPACED_KINDS),
            "orphanedResources": {"warn": True},
        },
    }


def app_project(config: PlatformConfig) -> dict[str, Any]:
    """The child Applications' project: the pinned chart repos, their namespaces, no cluster-scoped kinds."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": PROJECT, "namespace": ARGOCD_NAMESPACE},
        "spec": {
            "description": f"Third-party charts on {config.cluster_name}",
            "sourceRepos": child_chart_repos(config.profile),
            "destinations": _destinations(CHILD_NAMESPACES),
            # The rendered charts create only namespaced objects (tests/test_gitops_boundary.py).
            "clusterResourceWhitelist": [],
            # Nor an Ingress: the platform applies the shop's one from cdk.json (constructs_lib/shop_ingress.py); a
            # chart's own Ingress would open a second load balancer outside those settings.
            "namespaceResourceBlacklist": [*ARGOPROJ_BLACKLIST, {"group": "networking.k8s.io", "kind": "Ingress"}],
            "orphanedResources": {"warn": True},
        },
    }


def default_project() -> dict[str, Any]:
    """Argo CD recreates `default` if deleted, so it is emptied: no sources, no destinations, no kinds."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "default", "namespace": ARGOCD_NAMESPACE},
        "spec": {
            "description": "Emptied on purpose: every Application names platform-root or platform",
            "sourceRepos": [],
            "destinations": [],
            "clusterResourceWhitelist": [],
            "namespaceResourceBlacklist": [{"group": "*", "kind": "*"}],
        },
    }


def root_application(config: PlatformConfig) -> dict[str, Any]:
    """App of apps: the profile's infra/ and apps/ overlays as kustomize directories, automated sync with
    prune, self-heal and retry."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": ROOT_APP,
            "namespace": ARGOCD_NAMESPACE,
            # Deleting the root app deletes what it created (make destroy relies on it).
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": ROOT_PROJECT,
            "sources": [
                {"repoURL": config.git_repo_url, "targetRevision": config.git_revision, "path": path}
                for path in overlay_paths(config.release)
            ],
            "destination": {"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
                "retry": {"limit": 10, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}},
            },
        },
    }


class GitOpsBootstrap(Construct):
    """Exposes `manifests` (three AppProjects, root Application) and `resource` (the KubernetesManifest)."""

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig, cluster: eks.ICluster) -> None:
        super().__init__(scope, id_)
        self.manifests = [
            default_project(),
            root_project(config),
            app_project(config),
            root_application(config),
        ]
        self.resource = eks.KubernetesManifest(self, "RootApp", cluster=cluster, manifest=self.manifests)

"""GitOpsBootstrap: the AppProject `platform` and the root app-of-apps Application that syncs the release
profile's overlays of infra/ and apps/."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from platform_config.config import PlatformConfig
from platform_config.guardrails import GUARDRAIL_KIND
from platform_config.versions import ReleaseProfile

ARGOCD_NAMESPACE = "argocd"
PROJECT = "platform"
ROOT_APP = "platform-root"
IN_CLUSTER = "https://kubernetes.default.svc"
# Child Applications in infra/ and apps/ install these charts; the project admits them and nothing else.
CHILD_CHARTS = ("opentelemetry-collector", "jaeger", "opentelemetry-demo")


def child_chart_repos(profile: ReleaseProfile) -> list[str]:
    """The Helm repositories of the charts the profile's child Applications install."""
    return sorted({profile.charts[c].repository for c in CHILD_CHARTS})


GITOPS_ROOTS = ("infra", "apps")


def overlay_paths(release: str) -> list[str]:
    """The kustomize directories the root app syncs for a release profile: each GitOps root's overlay."""
    return [f"{root}/overlays/{release}" for root in GITOPS_ROOTS]


def app_project(config: PlatformConfig) -> dict[str, Any]:
    """Limited to this repo (plus the chart repos its child apps name) and to this cluster."""
    policy_group, policy_kind = GUARDRAIL_KIND[config.release]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": PROJECT, "namespace": ARGOCD_NAMESPACE},
        "spec": {
            "description": f"Platform content of {config.cluster_name} from {config.git_repo_url}",
            "sourceRepos": [config.git_repo_url, *child_chart_repos(config.profile)],
            "destinations": [{"server": IN_CLUSTER, "namespace": "*"}],
            # The guardrails (the profile's policy kind) and namespaces are cluster-scoped; everything else
            # is namespaced.
            "clusterResourceWhitelist": [
                {"group": "", "kind": "Namespace"},
                {"group": policy_group, "kind": policy_kind},
                {"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"},
                {"group": "rbac.authorization.k8s.io", "kind": "ClusterRoleBinding"},
                {"group": "apiextensions.k8s.io", "kind": "CustomResourceDefinition"},
                {"group": "admissionregistration.k8s.io", "kind": "MutatingWebhookConfiguration"},
                {"group": "admissionregistration.k8s.io", "kind": "ValidatingWebhookConfiguration"},
            ],
            "orphanedResources": {"warn": True},
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
            "project": PROJECT,
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
    """Exposes `manifests` (AppProject, root Application) and `resource` (the KubernetesManifest)."""

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig, cluster: eks.ICluster) -> None:
        super().__init__(scope, id_)
        self.manifests = [app_project(config), root_application(config)]
        self.resource = eks.KubernetesManifest(self, "RootApp", cluster=cluster, manifest=self.manifests)

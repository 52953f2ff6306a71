"""GitOpsBootstrap: the AppProjects (root, content, child charts, the emptied `default`), the CDK-owned
Applications that sync this repo (the root's Applications-only half and each content half), and on profiles
whose Argo CD impersonates, the ServiceAccounts and RBAC each project syncs as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from platform_checks.upstream_facts import app_version
from platform_config.addons import addons, version_key
from platform_config.config import PlatformConfig
from platform_config.guardrails import GUARDRAIL_KIND
from platform_config.versions import ReleaseProfile

ARGOCD_NAMESPACE = "argocd"
# platform-root syncs this repo's Applications into argocd; child Applications install third-party charts
# (project `platform`); platform-infra and platform-apps sync the rest of infra/ and apps/.
ROOT_PROJECT = "platform-root"
PROJECT = "platform"
ROOT_APP = "platform-root"
IN_CLUSTER = "https://kubernetes.default.svc"
# The content trees of this repo; gitops/<profile>/<root> is each tree's overlay without its Applications and
# gitops/<profile>/applications is both trees' Applications only (kustomize components).
GITOPS_ROOTS = ("infra", "apps")
GITOPS_DIR = "gitops"
# Argo CD syncs as the project's destinationServiceAccounts from 2.13 on (application.sync.impersonation).
IMPERSONATION_SINCE = (2, 13)


def child_chart_repos(profile: ReleaseProfile) -> list[str]:
    """The Helm repositories of the charts the profile's child Applications install."""
    return sorted({a.pin(profile).repository for a in addons(profile.name, installer="argocd")})


def overlay_paths(release: str) -> list[str]:
    """The kustomize overlays of infra/ and apps/ for a release profile: everything Git holds for the cluster."""
    return [f"{root}/overlays/{release}" for root in GITOPS_ROOTS]


def root_path(release: str) -> str:
    """What platform-root syncs: the Applications of both overlays, nothing else."""
    return f"{GITOPS_DIR}/{release}/applications"


def content_path(root: str, release: str) -> str:
    """What a content project syncs: its tree's overlay without the Applications."""
    return f"{GITOPS_DIR}/{release}/{root}"


def can_impersonate(argocd_version: str) -> bool:
    """Whether an Argo CD release (v2.10.9, 3.4.4) syncs as a project's destinationServiceAccounts."""
    return version_key(argocd_version)[:2] >= IMPERSONATION_SINCE


def impersonates(profile: ReleaseProfile) -> bool:
    """Whether the profile's Argo CD (its chart's appVersion, from the upstream facts) can impersonate."""
    return can_impersonate(app_version("argo-cd", profile.files_profile("argo-cd")))


@dataclass(frozen=True)
class ContentProject:
    """One content tree of this repo (infra/ or apps/): its namespaces and the kinds it creates."""

    root: str
    namespaces: tuple[str, ...]
    cluster_kinds: tuple[tuple[str, str], ...]
    namespaced_kinds: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        return f"platform-{self.root}"

    def cluster_whitelist(self, release: str) -> tuple[tuple[str, str], ...]:
        # The guardrails (infra/overlays/<profile>/policies) are of the profile's kind.
        return (*self.cluster_kinds, GUARDRAIL_KIND[release]) if self.root == "infra" else self.cluster_kinds


# Never kube-system, kyverno or argocd (Kyverno's webhooks skip the first two, argocd holds the cluster-admin
# controller). Tests derive the kinds from the built content and refuse a namespace outside the list.
CONTENT = (
    ContentProject(
        root="infra",
        namespaces=("monitoring", "observability"),
        cluster_kinds=(("", "Namespace"),),
        namespaced_kinds=(
            ("", "ConfigMap"),
            ("monitoring.coreos.com", "PrometheusRule"),
            ("networking.k8s.io", "NetworkPolicy"),
        ),
    ),
    ContentProject(
        root="apps",
        namespaces=("astronomy-shop",),
        cluster_kinds=(("", "Namespace"),),
        # The shop's frontend-proxy drain (apps/astronomy-shop/frontend-proxy-drain.yaml) is a namespaced
        # Kyverno Policy.
        # The shop's ServiceAccount (apps/astronomy-shop/service-account.yaml) mounts no token.
        namespaced_kinds=(
            ("", "ServiceAccount"),
            ("kyverno.io", "Policy"),
            ("networking.k8s.io", "NetworkPolicy"),
            ("policy", "PodDisruptionBudget"),
        ),
    ),
)
CONTENT_NAMESPACES = tuple(sorted(ns for c in CONTENT for ns in c.namespaces))
CHILD_NAMESPACES = tuple(sorted({a.namespace for a in addons(installer="argocd")}))
# The only kind Git writes into argocd, and the only project those Applications may name.
ROOT_NAMESPACED_KINDS = (("argoproj.io", "Application"),)
ROOT_APPLICATION_PROJECTS = (PROJECT,)
# Synced charts never touch Argo CD's own objects (Applications, AppProjects, ApplicationSets).
ARGOPROJ_BLACKLIST = [{"group": "argoproj.io", "kind": "*"}]
# What the child charts render into their namespaces (tests/test_gitops_boundary.py compares it with the
# render of every profile); their sync identity may write these kinds and nothing cluster-scoped.
CHART_NAMESPACED_KINDS = (
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("monitoring.coreos.com", "PodMonitor"),
    ("monitoring.coreos.com", "ServiceMonitor"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
)


def _kinds(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"group": group, "kind": kind} for group, kind in pairs]


def _destinations(namespaces: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"server": IN_CLUSTER, "namespace": ns} for ns in namespaces]


def sync_account(project: str) -> str:
    """The ServiceAccount (in argocd) a project syncs as where Argo CD impersonates."""
    return f"argocd-sync-{project.removeprefix('platform-') if project != PROJECT else 'charts'}"


def _identity(config: PlatformConfig, project: str, namespaces: tuple[str, ...]) -> dict[str, Any]:
    """destinationServiceAccounts for the profiles whose Argo CD impersonates; nothing on the others."""
    if not impersonates(config.profile):
        return {}
    account = f"{ARGOCD_NAMESPACE}:{sync_account(project)}"
    return {
        "destinationServiceAccounts": [
            {"server": IN_CLUSTER, "namespace": ns, "defaultServiceAccount": account} for ns in namespaces
        ]
    }


def _signed(config: PlatformConfig) -> dict[str, Any]:
    """signatureKeys when the config names GPG keys: Argo CD then syncs only commits signed by one of them."""
    keys = config.gitops_signature_keys
    return {"signatureKeys": [{"keyID": key} for key in keys]} if keys else {}


def root_project(config: PlatformConfig) -> dict[str, Any]:
    """The root app's project: this repo only, Applications in argocd only."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": ROOT_PROJECT, "namespace": ARGOCD_NAMESPACE},
        "spec": {
            "description": f"Applications of {config.cluster_name}: {config.git_repo_url} only",
            "sourceRepos": [config.git_repo_url],
            "destinations": _destinations((ARGOCD_NAMESPACE,)),
            "clusterResourceWhitelist": [],
            # A whitelist of one kind: a ConfigMap (argocd-cm, argocd-rbac-cm), Secret, AppProject or
            # ApplicationSet in Git is refused by Argo CD.
            "namespaceResourceWhitelist": _kinds(ROOT_NAMESPACED_KINDS),
            **_identity(config, ROOT_PROJECT, (ARGOCD_NAMESPACE,)),
            **_signed(config),
            "orphanedResources": {"warn": True},
        },
    }


def content_project(config: PlatformConfig, content: ContentProject) -> dict[str, Any]:
    """A content tree's project: this repo only, its own namespaces and the kinds it creates."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": content.name, "namespace": ARGOCD_NAMESPACE},
        "spec": {
            "description": f"{content.root}/ of {config.git_repo_url} on {config.cluster_name}",
            "sourceRepos": [config.git_repo_url],
            "destinations": _destinations(content.namespaces),
            "clusterResourceWhitelist": _kinds(content.cluster_whitelist(config.profile.gitops_profile)),
            "namespaceResourceWhitelist": _kinds(content.namespaced_kinds),
            **_identity(config, content.name, content.namespaces),
            **_signed(config),
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
            **_identity(config, PROJECT, CHILD_NAMESPACES),
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
            "description": "Emptied on purpose: every Application names a platform project",
            "sourceRepos": [],
            "destinations": [],
            "clusterResourceWhitelist": [],
            "namespaceResourceBlacklist": [{"group": "*", "kind": "*"}],
        },
    }


def _application(config: PlatformConfig, name: str, project: str, path: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": ARGOCD_NAMESPACE,
            # Deleting the app deletes what it created (make destroy relies on it).
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": project,
            "source": {"repoURL": config.git_repo_url, "targetRevision": config.git_revision, "path": path},
            "destination": {"server": IN_CLUSTER, "namespace": namespace},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["ServerSideApply=true"],
                "retry": {"limit": 10, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}},
            },
        },
    }


def root_application(config: PlatformConfig) -> dict[str, Any]:
    """App of apps: the Applications of the profile's infra/ and apps/ overlays, automated sync with prune,
    self-heal and retry."""
    return _application(config, ROOT_APP, ROOT_PROJECT, root_path(config.profile.gitops_profile), ARGOCD_NAMESPACE)


def content_applications(config: PlatformConfig) -> list[dict[str, Any]]:
    """One Application per content tree, in its own project (Git cannot change which: CDK renders them)."""
    return [
        _application(config, c.name, c.name, content_path(c.root, config.profile.gitops_profile), c.namespaces[0])
        for c in CONTENT
    ]


def projects(config: PlatformConfig) -> list[dict[str, Any]]:
    """Every AppProject, `default` first."""
    return [
        default_project(),
        root_project(config),
        *(content_project(config, c) for c in CONTENT),
        app_project(config),
    ]


def resource_of(kind: str) -> str:
    """The API resource (lower-case plural) of a kind, for RBAC rules."""
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


def _rules(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    groups = sorted({g for g, _ in pairs})
    return [
        {
            "apiGroups": [group],
            "resources": sorted(resource_of(k) for g, k in pairs if g == group),
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        }
        for group in groups
    ]


def _bound(name: str, rules: list[dict[str, Any]], namespace: str | None) -> list[dict[str, Any]]:
    """A ServiceAccount in argocd and its (Cluster)Role; `namespace` None binds cluster-wide (the project's
    destinations keep it to its namespaces, RBAC keeps it to its kinds)."""
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": ARGOCD_NAMESPACE},
        # Only impersonated by the application controller; nothing mounts its token.
        "automountServiceAccountToken": False,
    }
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    role_kind = "Role" if namespace else "ClusterRole"
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": role_kind, "metadata": meta, "rules": rules}
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": f"{role_kind}Binding",
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ARGOCD_NAMESPACE}],
    }
    return [account, role, binding]


def sync_identities(config: PlatformConfig) -> list[dict[str, Any]]:
    """The ServiceAccounts the projects sync as, with RBAC for exactly their kinds (empty where Argo CD cannot
    impersonate: there the project whitelists are the line, docs/security-model.md)."""
    if not impersonates(config.profile):
        return []
    out = _bound(sync_account(ROOT_PROJECT), _rules(ROOT_NAMESPACED_KINDS), ARGOCD_NAMESPACE)
    for c in CONTENT:
        out += _bound(
            sync_account(c.name),
            _rules((*c.cluster_whitelist(config.profile.gitops_profile), *c.namespaced_kinds)),
            None,
        )
    # Binding a Role needs the permissions it grants: the charts' Roles stay within these kinds.
    out += _bound(sync_account(PROJECT), _rules(CHART_NAMESPACED_KINDS), None)
    return out


def root_guard(config: PlatformConfig) -> list[dict[str, Any]]:
    """Where Argo CD impersonates, the API server refuses an Application written by platform-root's identity
    that names another project than the child charts' (a Git commit naming platform-root or a content project)."""
    if not impersonates(config.profile):
        return []
    name = "platform-root-application-projects"
    allowed = ", ".join(f"'{p}'" for p in ROOT_APPLICATION_PROJECTS)
    user = f"system:serviceaccount:{ARGOCD_NAMESPACE}:{sync_account(ROOT_PROJECT)}"
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["argoproj.io"],
                        "apiVersions": ["*"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["applications"],
                    }
                ]
            },
            "matchConditions": [{"name": "synced-from-git", "expression": f"request.userInfo.username == '{user}'"}],
            "validations": [
                {
                    "expression": f"object.spec.project in [{allowed}]",
                    "message": f"an Application from Git may name only project(s) {allowed}",
                }
            ],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {"policyName": name, "validationActions": ["Deny"]},
    }
    return [policy, binding]


class GitOpsBootstrap(Construct):
    """Exposes `manifests` (sync identities, guard, AppProjects, the CDK-owned Applications) and `resource`."""

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig, cluster: eks.ICluster) -> None:
        super().__init__(scope, id_)
        self.manifests = [
            *sync_identities(config),
            *root_guard(config),
            *projects(config),
            root_application(config),
            *content_applications(config),
        ]
        self.resource = eks.KubernetesManifest(self, "RootApp", cluster=cluster, manifest=self.manifests)

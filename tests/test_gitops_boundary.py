"""The AppProjects are a boundary: Git writes only Applications into argocd, each content tree only its own
namespaces and kinds, no Argo CD object; where Argo CD impersonates, RBAC and the API server hold the same line."""

from __future__ import annotations

import copy
from typing import Any

import celpy
import pytest

from constructs_lib.gitops import (
    ARGOCD_NAMESPACE,
    CHART_NAMESPACED_KINDS,
    CONTENT,
    CONTENT_NAMESPACES,
    GITOPS_ROOTS,
    PROJECT,
    ROOT_APPLICATION_PROJECTS,
    ROOT_PROJECT,
    app_project,
    can_impersonate,
    child_chart_repos,
    content_applications,
    content_path,
    content_project,
    default_project,
    impersonates,
    projects,
    resource_of,
    root_application,
    root_guard,
    root_path,
    root_project,
    sync_account,
    sync_identities,
)
from constructs_lib.helm_addon import resolved_values
from platform_checks import validate_manifest
from platform_checks.gitops import application_admitted, group_kind, project_admits, sync_refusals
from platform_checks.k8s_cel import eval_cel
from platform_checks.kustomize import kustomize_build
from platform_config.config import ConfigError
from platform_config.versions import PROFILES
from platform_stacks.platform_app import build_app
from tests.conftest import PROFILE_NAMES, ROOT
from tests.fixed_context import fixed_context
from tests.gitops_overlays import built_overlays
from tests.stack_fixtures import config

FORBIDDEN = {"kube-system", "kyverno", "argocd", "*"}
REPO = "https://github.com/acme/platform.git"
KEY = "4AEE18F83AFDEB23"


def cfg(profile: str, **overrides: Any) -> Any:
    return config(git_repo_url=REPO, release=profile, **overrides)


def built(path: str, profile: str) -> list[dict[str, Any]]:
    return kustomize_build(ROOT / path, profile)


def obj(api: str, kind: str, namespace: str | None = None, name: str = "x") -> dict[str, Any]:
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": name, **({"namespace": namespace} if namespace else {})},
    }


def kinds(entries: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(e["group"], e["kind"]) for e in entries}


def key(o: dict[str, Any]) -> tuple[str, str, str, str]:
    return (*group_kind(o), o["metadata"].get("namespace", ""), o["metadata"]["name"])


def git_syncs(profile: str) -> list[tuple[dict[str, Any], str, list[dict[str, Any]]]]:
    """(project, destination namespace, objects) of every Application CDK renders over this repository."""
    c = cfg(profile)
    by_name = {p["metadata"]["name"]: p for p in projects(c)}
    apps = [root_application(c), *content_applications(c)]
    return [
        (
            by_name[a["spec"]["project"]],
            a["spec"]["destination"]["namespace"],
            built(a["spec"]["source"]["path"], profile),
        )
        for a in apps
    ]


def application(project: str, repo: str = REPO, namespace: str = "astronomy-shop") -> dict[str, Any]:
    return {
        **obj("argoproj.io/v1alpha1", "Application", ARGOCD_NAMESPACE, "planted"),
        "spec": {
            "project": project,
            "source": {"repoURL": repo, "path": "apps", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
        },
    }


# The escalations one bad commit could try: Argo CD's RBAC or settings, a new project, cluster-admin, a
# repository credential, and an Application that borrows a wider project.
PLANTED = {
    "ConfigMap argocd-rbac-cm": obj("v1", "ConfigMap", ARGOCD_NAMESPACE, "argocd-rbac-cm"),
    "AppProject": obj("argoproj.io/v1alpha1", "AppProject", ARGOCD_NAMESPACE),
    "ClusterRoleBinding": obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    "Secret in argocd": obj("v1", "Secret", ARGOCD_NAMESPACE, "repo-creds"),
    "Application naming platform-root": application(ROOT_PROJECT),
}


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_project_and_application_validates_against_the_argocd_crd(profile: str) -> None:
    c = cfg(profile, gitops_signature_keys=[KEY])
    for manifest in (*projects(c), root_application(c), *content_applications(c)):
        assert validate_manifest(manifest, profile=profile) == [], manifest["metadata"]["name"]


def test_root_project_writes_only_applications_into_argocd() -> None:
    spec = root_project(cfg("current"))["spec"]
    assert [d["namespace"] for d in spec["destinations"]] == [ARGOCD_NAMESPACE]
    assert spec["clusterResourceWhitelist"] == []
    assert kinds(spec["namespaceResourceWhitelist"]) == {("argoproj.io", "Application")}


def test_no_content_or_chart_project_may_deploy_to_system_namespaces_or_everywhere() -> None:
    c = cfg("current")
    child = {d["namespace"] for d in app_project(c)["spec"]["destinations"]}
    content = [{d["namespace"] for d in content_project(c, p)["spec"]["destinations"]} for p in CONTENT]
    assert child and not child & FORBIDDEN
    assert all(ns and not ns & FORBIDDEN for ns in content)
    # Each namespace belongs to one content project.
    assert sorted(ns for namespaces in content for ns in namespaces) == sorted(CONTENT_NAMESPACES)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_synced_halves_are_the_overlays_split_by_kind(profile: str) -> None:
    applications = built(root_path(profile), profile)
    content = [o for root in GITOPS_ROOTS for o in built(content_path(root, profile), profile)]
    assert applications and {group_kind(o) for o in applications} == {("argoproj.io", "Application")}
    assert not any(group_kind(o) == ("argoproj.io", "Application") for o in content)
    # Nothing lost, nothing added: the halves are exactly what infra/ and apps/ hold.
    assert sorted(map(key, [*applications, *content])) == sorted(map(key, built_overlays(profile)))


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_each_content_project_whitelists_exactly_the_kinds_its_half_creates(profile: str) -> None:
    c = cfg(profile)
    for content in CONTENT:
        spec = content_project(c, content)["spec"]
        objects = built(content_path(content.root, profile), profile)
        assert kinds(spec["clusterResourceWhitelist"]) == {
            group_kind(o) for o in objects if not o["metadata"].get("namespace")
        }
        assert kinds(spec["namespaceResourceWhitelist"]) == {
            group_kind(o) for o in objects if o["metadata"].get("namespace")
        }


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_git_content_stays_inside_its_projects(profile: str) -> None:
    for project, namespace, objects in git_syncs(profile):
        assert (
            sync_refusals(project, objects, namespace=namespace, application_projects=ROOT_APPLICATION_PROJECTS) == []
        )


@pytest.mark.parametrize("planted", sorted(PLANTED))
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_planted_escalation_is_refused_by_every_project_syncing_git(profile: str, planted: str) -> None:
    for project, namespace, objects in git_syncs(profile):
        refused = sync_refusals(
            project, [*objects, copy.deepcopy(PLANTED[planted])], namespace=namespace,
            application_projects=ROOT_APPLICATION_PROJECTS,
        )  # fmt: skip
        assert len(refused) == 1, (project["metadata"]["name"], refused)


def test_an_application_naming_a_content_project_or_default_is_refused_and_the_chart_project_is_not() -> None:
    root = root_project(cfg("current"))
    for other in ("default", *(c.name for c in CONTENT)):
        assert sync_refusals(
            root, [application(other)], namespace=ARGOCD_NAMESPACE, application_projects=ROOT_APPLICATION_PROJECTS
        )
    assert (
        sync_refusals(
            root, [application(PROJECT)], namespace=ARGOCD_NAMESPACE, application_projects=ROOT_APPLICATION_PROJECTS
        )
        == []
    )


def test_the_chart_project_refuses_an_application_sourcing_this_repo_or_a_system_namespace() -> None:
    project = app_project(cfg("current"))
    chart_repo = child_chart_repos(PROFILES["current"])[0]
    assert application_admitted(project, application(PROJECT, chart_repo))
    assert not application_admitted(project, application(PROJECT, REPO))
    assert not application_admitted(project, application(PROJECT, chart_repo, "kube-system"))


def test_child_project_admits_no_cluster_kind_and_no_argoproj_kind() -> None:
    spec = app_project(config())["spec"]
    assert spec["clusterResourceWhitelist"] == []
    assert {"group": "argoproj.io", "kind": "*"} in spec["namespaceResourceBlacklist"]
    assert not project_admits(app_project(config()), obj("argoproj.io/v1alpha1", "Application", "observability"))


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_child_applications_use_the_child_project_its_repos_and_namespaces(profile: str) -> None:
    spec = app_project(cfg(profile))["spec"]
    apps = built(root_path(profile), profile)
    assert apps
    for app in apps:
        assert app["spec"]["project"] == PROJECT, app["metadata"]["name"]
        assert application_admitted(app_project(cfg(profile)), app), app["metadata"]["name"]
    # Every destination is used: the list is the child apps' namespaces, nothing more.
    assert {d["namespace"] for d in spec["destinations"]} >= {a["spec"]["destination"]["namespace"] for a in apps}
    assert spec["sourceRepos"] == child_chart_repos(PROFILES[profile])


def test_cdk_renders_every_application_over_this_repo_each_in_its_own_project() -> None:
    c = cfg("current")
    apps = [root_application(c), *content_applications(c)]
    assert [a["spec"]["project"] for a in apps] == [ROOT_PROJECT, *(p.name for p in CONTENT)]
    assert all(a["spec"]["source"]["repoURL"] == REPO for a in apps)
    assert all(
        p["spec"]["sourceRepos"] == [REPO]
        for p in projects(c)
        if p["metadata"]["name"] != PROJECT and p["metadata"]["name"] != "default"
    )


def test_default_project_is_emptied() -> None:
    spec = default_project()["spec"]
    assert spec["sourceRepos"] == [] and spec["destinations"] == [] and spec["clusterResourceWhitelist"] == []
    assert spec["namespaceResourceBlacklist"] == [{"group": "*", "kind": "*"}]
    assert not project_admits(default_project(), obj("v1", "ConfigMap", "observability"))


def test_bootstrap_applies_identities_and_projects_before_the_applications(synthesized: Any) -> None:
    manifests = synthesized.platform.addons.gitops.manifests
    order = [m["kind"] for m in manifests]
    first_app = order.index("Application")
    assert "AppProject" not in order[first_app:]
    assert all(
        k not in order[first_app:] for k in ("ServiceAccount", "ClusterRoleBinding", "ValidatingAdmissionPolicy")
    )
    assert [m["metadata"]["name"] for m in manifests if m["kind"] == "Application"] == [
        ROOT_PROJECT,
        *(c.name for c in CONTENT),
    ]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_projects_impersonate_exactly_where_the_profiles_argocd_can(profile: str) -> None:
    c = cfg(profile)
    can = impersonates(PROFILES[profile])
    values = resolved_values(chart="argo-cd", release="argocd", computed={}, profile=profile)
    assert values.get("configs", {}).get("cm", {}).get("application.sync.impersonation.enabled", False) is can
    identities = {(o["kind"], o["metadata"]["name"]) for o in sync_identities(c)}
    for project in projects(c)[1:]:
        accounts = project["spec"].get("destinationServiceAccounts", [])
        if not can:
            assert accounts == []
            continue
        destinations = {d["namespace"] for d in project["spec"]["destinations"]}
        assert {a["namespace"] for a in accounts} == destinations, project["metadata"]["name"]
        name = sync_account(project["metadata"]["name"])
        assert {a["defaultServiceAccount"] for a in accounts} == {f"{ARGOCD_NAMESPACE}:{name}"}
        assert ("ServiceAccount", name) in identities
    assert bool(root_guard(c)) is can


def test_impersonation_starts_with_argocd_2_13() -> None:
    assert [can_impersonate(v) for v in ("v2.12.9", "v2.13.0", "3.4.4")] == [False, True, True]
    assert not impersonates(PROFILES["seed"])  # Argo CD 2.10: the whitelists are the line there


def rbac_kinds(identities: list[dict[str, Any]], name: str) -> set[tuple[str, str]]:
    role = next(o for o in identities if o["kind"] in ("Role", "ClusterRole") and o["metadata"]["name"] == name)
    return {(rule["apiGroups"][0], resource) for rule in role["rules"] for resource in rule["resources"]}


def test_each_sync_identity_may_write_exactly_its_projects_whitelist() -> None:
    c = cfg("current")
    identities = sync_identities(c)
    for project in projects(c)[1:]:
        spec, name = project["spec"], project["metadata"]["name"]
        whitelisted = kinds(spec["clusterResourceWhitelist"]) | kinds(spec.get("namespaceResourceWhitelist", []))
        expected = set(CHART_NAMESPACED_KINDS) if name == PROJECT else whitelisted
        assert rbac_kinds(identities, sync_account(name)) == {(g, resource_of(k)) for g, k in expected}, name
    # The root's identity is a Role in argocd: it cannot write anywhere else.
    root = [o for o in identities if o["metadata"]["name"] == sync_account(ROOT_PROJECT)]
    assert {o["kind"] for o in root} == {"ServiceAccount", "Role", "RoleBinding"}
    assert all(o["metadata"]["namespace"] == ARGOCD_NAMESPACE for o in root)


def test_resource_names_are_the_api_servers_plurals() -> None:
    assert [resource_of(k) for k in ("NetworkPolicy", "Ingress", "ConfigMap")] == [
        "networkpolicies",
        "ingresses",
        "configmaps",
    ]


def test_the_child_charts_render_only_the_kinds_their_sync_identity_may_write(platform_render: Any) -> None:
    rendered = {
        group_kind(o)
        for key, objects in platform_render.rendered.items()
        if platform_render.releases[key].origin.startswith("argocd Application")
        for o in objects
    }
    assert rendered and rendered <= set(CHART_NAMESPACED_KINDS)


def test_root_guard_refuses_an_application_from_git_naming_another_project() -> None:
    policy = root_guard(cfg("current"))[0]["spec"]
    user = f"system:serviceaccount:{ARGOCD_NAMESPACE}:{sync_account(ROOT_PROJECT)}"
    condition = policy["matchConditions"][0]["expression"]
    rule = policy["validations"][0]["expression"]

    def admitted(project: str, username: str = user) -> bool:
        request = celpy.json_to_cel({"userInfo": {"username": username}})
        if not eval_cel(condition, {"request": request}):
            return True
        return bool(eval_cel(rule, {"object": celpy.json_to_cel(application(project)), "request": request}))

    assert admitted(PROJECT)
    assert not admitted(ROOT_PROJECT) and not admitted("platform-infra") and not admitted("default")
    assert admitted(ROOT_PROJECT, "system:serviceaccount:kube-system:kubectl-handler")  # CDK's own root app


def test_signature_keys_bind_every_project_syncing_git() -> None:
    c = cfg("current", gitops_signature_keys=[KEY])
    signed = {p["metadata"]["name"] for p in projects(c) if p["spec"].get("signatureKeys") == [{"keyID": KEY}]}
    assert signed == {ROOT_PROJECT, *(p.name for p in CONTENT)}
    assert not any("signatureKeys" in p["spec"] for p in projects(cfg("current")))
    with pytest.raises(ConfigError, match=r"config key 'gitops_signature_keys' = 'abc'.*16 upper-case hex"):
        cfg("current", gitops_signature_keys=["abc"])


def test_placeholder_repo_is_refused_against_an_account_and_warns_offline() -> None:
    context = fixed_context()  # the placeholder repo, whatever a fork's cdk.json says
    with pytest.raises(ConfigError, match=r"config key 'git_repo_url' = .*accepted is your fork's URL"):
        build_app(context, env={"CDK_DEFAULT_ACCOUNT": "222222222222"}, nag=False)
    offline = build_app(context, env={}, nag=False)
    assert any("placeholder" in str(m.data) for m in offline.addons.node.metadata if m.type == "aws:cdk:warning")
    build_app({**context, "git_repo_url": REPO}, env={"CDK_DEFAULT_ACCOUNT": "222222222222"}, nag=False)


def test_cluster_scoped_crd_kinds_need_the_cluster_whitelist() -> None:
    # A NodePool has no namespace: a project's destinations never admit it, only its clusterResourceWhitelist
    # (Argo CD's rule). Its scope comes from the CRD facts, not from a hand-kept list.
    nodepool = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "gpu"}}
    open_namespaces = {"spec": {"destinations": [{"server": "https://kubernetes.default.svc", "namespace": "*"}]}}
    assert not project_admits(open_namespaces, nodepool, "astronomy-shop")
    whitelisted = {
        "spec": {**open_namespaces["spec"], "clusterResourceWhitelist": [{"group": "karpenter.sh", "kind": "*"}]}
    }
    assert project_admits(whitelisted, nodepool)

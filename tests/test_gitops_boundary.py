"""The AppProjects are a boundary: listed namespaces, only the kinds the content creates, no Argo CD objects."""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.gitops import (
    CONTENT_NAMESPACES,
    PROJECT,
    ROOT_PROJECT,
    app_project,
    child_chart_repos,
    default_project,
    root_application,
    root_project,
)
from platform_checks import validate_manifest
from platform_checks.gitops import group_kind, project_admits
from platform_config.config import ConfigError
from platform_config.versions import PROFILES
from platform_stacks.platform_app import build_app
from tests.fixed_context import fixed_context
from tests.gitops_overlays import built_overlays
from tests.stack_fixtures import config

FORBIDDEN = {"kube-system", "kyverno", "argocd", "*"}
REPO = "https://github.com/acme/platform.git"


def built_content() -> list[dict[str, Any]]:
    return list(built_overlays())


def child_applications() -> list[dict[str, Any]]:
    """The Applications the root app syncs, for every release profile."""
    return [o for profile in PROFILES for o in built_overlays(profile) if o["kind"] == "Application"]


def obj(api: str, kind: str, namespace: str | None = None) -> dict[str, Any]:
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": "x", **({"namespace": namespace} if namespace else {})},
    }


def kinds(entries: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(e["group"], e["kind"]) for e in entries}


def test_every_project_validates_against_the_argocd_crd() -> None:
    cfg = config(git_repo_url=REPO)
    for manifest in (root_project(cfg), app_project(cfg), default_project()):
        assert validate_manifest(manifest, profile=cfg.release) == [], manifest["metadata"]["name"]


def test_no_project_may_deploy_to_system_namespaces_or_everywhere() -> None:
    cfg = config(git_repo_url=REPO)
    child = {d["namespace"] for d in app_project(cfg)["spec"]["destinations"]}
    root = {d["namespace"] for d in root_project(cfg)["spec"]["destinations"]}
    assert child and not child & FORBIDDEN
    # The root may write Applications (and nothing it does not list) to argocd, never kube-system or kyverno.
    assert root - {"argocd"} == set(CONTENT_NAMESPACES)
    assert not root & {"kube-system", "kyverno", "*"}


def test_root_project_whitelists_exactly_the_kinds_the_built_content_creates() -> None:
    spec = root_project(config(git_repo_url=REPO))["spec"]
    content = built_content()
    cluster = {group_kind(o) for o in content if not o["metadata"].get("namespace")}
    namespaced = {group_kind(o) for o in content if o["metadata"].get("namespace")}
    assert kinds(spec["clusterResourceWhitelist"]) == cluster
    assert kinds(spec["namespaceResourceWhitelist"]) == namespaced


def test_root_content_stays_inside_its_project() -> None:
    project = root_project(config(git_repo_url=REPO))
    refused = [f"{o['kind']}/{o['metadata']['name']}" for o in built_content() if not project_admits(project, o)]
    assert refused == []


def test_project_check_refuses_an_appproject_a_clusterrole_and_kube_system() -> None:
    project = root_project(config(git_repo_url=REPO))
    app_proj = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "x", "namespace": "argocd"},
    }
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "kube-system"}}
    assert [project_admits(project, o) for o in (app_proj, role, cm)] == [False, False, False]


def test_child_project_admits_no_cluster_kind_and_no_argoproj_kind() -> None:
    spec = app_project(config())["spec"]
    assert spec["clusterResourceWhitelist"] == []
    assert {"group": "argoproj.io", "kind": "*"} in spec["namespaceResourceBlacklist"]
    application = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "x", "namespace": "observability"},
    }
    assert not project_admits(app_project(config()), application)


def test_child_applications_use_the_child_project_its_repos_and_namespaces() -> None:
    spec = app_project(config())["spec"]
    destinations = {d["namespace"] for d in spec["destinations"]}
    apps = child_applications()
    assert apps
    for app in apps:
        name = app["metadata"]["name"]
        assert app["spec"]["project"] == PROJECT, name
        assert app["spec"]["source"]["repoURL"] in spec["sourceRepos"], name
        assert app["spec"]["destination"]["namespace"] in destinations, name
    # Every destination is used: the list is the child apps' namespaces, nothing more.
    assert destinations == {a["spec"]["destination"]["namespace"] for a in apps}
    assert spec["sourceRepos"] == child_chart_repos(config().profile)


def test_root_project_admits_only_this_repo_and_the_root_app_uses_it() -> None:
    cfg = config(git_repo_url=REPO)
    assert root_project(cfg)["spec"]["sourceRepos"] == [REPO]
    assert root_application(cfg)["spec"]["project"] == ROOT_PROJECT


def test_default_project_is_emptied() -> None:
    spec = default_project()["spec"]
    assert spec["sourceRepos"] == [] and spec["destinations"] == [] and spec["clusterResourceWhitelist"] == []
    assert spec["namespaceResourceBlacklist"] == [{"group": "*", "kind": "*"}]
    app = obj("v1", "ConfigMap", "observability")
    assert not project_admits(default_project(), app)


def test_bootstrap_applies_the_projects_before_the_root_app(synthesized: Any) -> None:
    manifests = synthesized.platform.addons.gitops.manifests
    assert [(m["kind"], m["metadata"]["name"]) for m in manifests] == [
        ("AppProject", "default"),
        ("AppProject", ROOT_PROJECT),
        ("AppProject", PROJECT),
        ("Application", "platform-root"),
    ]


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

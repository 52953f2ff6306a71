"""Add-ons by Helm: pinned charts in their namespaces, key values, independent installs, then the GitOps root."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.gitops import app_project, root_application, root_path
from constructs_lib.helm_addon import (
    HelmAddon,
    HelmValuesError,
    deep_merge,
    load_values_file,
    resolved_values,
    values_files,
)
from platform_checks import validate_manifest
from platform_checks.cfn_json import json_property
from platform_checks.helm_template import placeholder
from platform_config.addons import addon, addons
from platform_config.versions import PROFILES
from platform_stacks.platform_app import build_app
from tests.conftest import ROOT, Synthesized
from tests.fixed_context import fixed_context
from tests.gitops_overlays import built_overlays
from tests.stack_fixtures import config, stack


def charts(s: Synthesized) -> dict[str, dict[str, Any]]:
    out = {}
    for logical, res in s.resources("addons", "Custom::AWSCDK-EKS-HelmChart").items():
        props = res["Properties"]
        out[props["Release"]] = {
            **props,
            "_id": logical,
            "_deps": res.get("DependsOn", []),
            "_values": json_property(props["Values"], placeholder),
        }
    return out


def test_every_addons_stack_record_is_installed_at_the_profiles_pin_in_its_namespace(synthesized: Synthesized) -> None:
    profile = synthesized.config.profile
    found = charts(synthesized)
    expected = {a.release: a for a in addons(profile.name, installer="addons-stack")}
    assert set(found) == set(expected)
    for release, record in expected.items():
        pin = record.pin(profile)
        chart = found[release]
        assert (chart["Chart"], chart["Repository"], chart["Version"]) == (pin.chart, pin.repository, pin.version)
        assert chart["Namespace"] == record.namespace
        assert chart["Timeout"] == f"{record.timeout_minutes * 60}s"


def test_charts_wait_only_for_the_releases_their_record_names_and_less_than_the_handler(
    synthesized: Synthesized,
) -> None:
    found = charts(synthesized)
    ids = {c["_id"]: r for r, c in found.items()}
    for release, chart in found.items():
        waits_for = {ids[d] for d in chart["_deps"] if d in ids}
        assert waits_for == set(addon(release).after) & set(found), release
        assert int(chart["Timeout"].removesuffix("s")) < 15 * 60, release


def test_root_app_waits_for_every_chart_that_provides_crds(synthesized: Synthesized) -> None:
    found = charts(synthesized)
    manifests = synthesized.resources("addons", "Custom::AWSCDK-EKS-KubernetesResource")
    (root,) = [r for r in manifests.values() if "platform-root" in json.dumps(r["Properties"]["Manifest"])]
    providers = {r for r in found if addon(r).crds}
    assert providers, "the GitOps content uses CRDs of at least one add-on"
    assert {found[r]["_id"] for r in providers} <= set(root["DependsOn"])


def test_prometheus_waits_for_the_gp3_storage_class(synthesized: Synthesized) -> None:
    manifests = synthesized.resources("addons", "Custom::AWSCDK-EKS-KubernetesResource")
    (storage,) = [k for k, r in manifests.items() if "StorageClass" in json.dumps(r["Properties"]["Manifest"])]
    assert storage in charts(synthesized)["kube-prometheus-stack"]["_deps"]


def test_addons_stack_deploys_after_karpenter(synthesized: Synthesized) -> None:
    deps = {s.stack_name for s in synthesized.platform.addons.dependencies}
    assert "eks-platform-Karpenter" in deps


def test_argocd_values_no_admin_secret_metrics_on_system_nodes(synthesized: Synthesized) -> None:
    values = charts(synthesized)["argocd"]["_values"]
    assert "argocdServerAdminPassword" not in json.dumps(values)
    assert values["global"]["nodeSelector"] == {"eks-platform.io/node-role": "system"}
    for component in ("controller", "server", "repoServer", "applicationSet"):
        assert values[component]["metrics"]["enabled"] is True, component


def test_kyverno_is_highly_available_and_accepts_exceptions_only_from_its_namespace(synthesized: Synthesized) -> None:
    values = charts(synthesized)["kyverno"]["_values"]
    admission = values["admissionController"]
    assert admission["replicas"] == 3
    assert admission["podDisruptionBudget"]["enabled"] is True
    assert admission["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    assert values["features"]["policyExceptions"] == {"enabled": True, "namespace": "kyverno"}
    # Chart 3.2.9 (seed) takes a list of webhook overrides, chart 3.9.0 (current) one object for all webhooks.
    webhooks = values["config"]["webhooks"]
    selector = (webhooks[0] if synthesized.config.release == "seed" else webhooks)["namespaceSelector"]
    assert selector["matchExpressions"][0]["values"] == ["kube-system", "kyverno"]


def test_prometheus_on_demand_with_gp3_volume_and_all_rule_selectors_open(synthesized: Synthesized) -> None:
    values = charts(synthesized)["kube-prometheus-stack"]["_values"]
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["nodeSelector"] == {"eks-platform.io/workload-class": "stateful"}
    assert spec["tolerations"][0]["key"] == "eks-platform.io/workload-class"
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["storageClassName"] == "gp3"
    assert spec["retention"] == "15d"
    for key in ("rule", "serviceMonitor", "podMonitor", "probe"):
        assert spec[f"{key}SelectorNilUsesHelmValues"] is False, key


def sidecar_scope_errors(grafana: dict[str, Any], dashboard_namespaces: set[str]) -> list[str]:
    """The dashboard sidecar reads only the namespaces holding dashboards, through a namespaced Role."""
    errors = []
    searched = grafana["sidecar"]["dashboards"].get("searchNamespace")
    if searched == "ALL" or "ALL" in (searched or []):
        errors.append("searchNamespace ALL needs a ClusterRole reading every Secret and ConfigMap")
    elif set(searched or ["monitoring"]) != dashboard_namespaces:
        errors.append(f"searchNamespace {searched} is not {sorted(dashboard_namespaces)}")
    if not grafana.get("rbac", {}).get("namespaced"):
        errors.append("rbac.namespaced is not true")
    return errors


def test_grafana_generates_its_admin_secret_and_reads_dashboards_only_where_they_live(
    synthesized: Synthesized,
) -> None:

    grafana = charts(synthesized)["kube-prometheus-stack"]["_values"]["grafana"]
    assert grafana["adminPassword"] == ""
    sidecar = grafana["sidecar"]["dashboards"]
    assert (sidecar["label"], sidecar["labelValue"]) == ("grafana_dashboard", "1")
    dashboards = {
        o["metadata"]["namespace"]
        for o in built_overlays()
        if o["kind"] == "ConfigMap" and o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    }
    assert sidecar_scope_errors(grafana, dashboards | {"monitoring"}) == []
    everywhere = {**grafana, "rbac": {}, "sidecar": {"dashboards": {"searchNamespace": "ALL"}}}
    assert sidecar_scope_errors(everywhere, {"monitoring"}) == [
        "searchNamespace ALL needs a ClusterRole reading every Secret and ConfigMap",
        "rbac.namespaced is not true",
    ]


def test_karpenter_argocd_and_kyverno_metrics_are_scraped(synthesized: Synthesized) -> None:
    prometheus = charts(synthesized)["kube-prometheus-stack"]["_values"]["prometheus"]
    assert [m["name"] for m in prometheus["additionalPodMonitors"]] == ["karpenter"]
    assert {m["name"] for m in prometheus["additionalServiceMonitors"]} == {"argocd", "kyverno"}


def test_app_project_and_root_application_validate_against_argocd_crds(profile: str) -> None:
    cfg = config(git_repo_url="https://github.com/acme/platform.git", release=profile)
    assert validate_manifest(app_project(cfg), profile=profile) == []
    assert validate_manifest(root_application(cfg), profile=profile) == []


def test_argocd_schema_check_catches_a_typo(profile: str) -> None:
    app = root_application(config())
    app["spec"]["syncPolicy"]["automated"]["selfheal"] = True
    assert validate_manifest(app, profile=profile) != []


def test_root_application_syncs_the_profiles_overlays_with_prune_self_heal_and_retry(profile: str) -> None:
    spec = root_application(
        config(git_repo_url="https://github.com/acme/platform.git", git_revision="v1.2.0", release=profile)
    )["spec"]
    source = spec["source"]
    assert (source["repoURL"], source["targetRevision"]) == ("https://github.com/acme/platform.git", "v1.2.0")
    assert source["path"] == root_path(profile)
    assert (ROOT / source["path"] / "kustomization.yaml").is_file()
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert spec["syncPolicy"]["retry"]["limit"] > 0
    assert spec["project"] == "platform-root"


def test_placeholder_repo_url_warns_until_configured() -> None:
    def warnings(**overrides: Any) -> list[str]:
        platform = build_app(fixed_context(**overrides), env={}, nag=False)
        return [str(m.data) for m in platform.addons.node.metadata if m.type == "aws:cdk:warning"]

    assert any("placeholder" in w for w in warnings())
    assert not any("placeholder" in w for w in warnings(git_repo_url="https://github.com/acme/platform.git"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"release": "r" * 54}, "release 'rrrr"),
        ({"namespace": "n" * 64}, "accepted is at most 63"),
        ({"timeout_minutes": 20}, "accepted is at most 14 min"),
    ],
)
def test_helm_addon_rejects_records_whose_names_or_timeouts_helm_or_the_handler_cannot_take(
    change: dict[str, Any], message: str
) -> None:
    s = stack()
    from aws_cdk import aws_eks_v2 as eks

    cluster = eks.Cluster.from_cluster_attributes(s, "C", cluster_name="c")
    record = dataclasses.replace(addon("kyverno"), **change)
    with pytest.raises(HelmValuesError, match=message):
        HelmAddon(s, addon=record, cluster=cluster, profile=PROFILES["seed"])


def test_profile_values_file_merges_over_the_shared_one(tmp_path: Path) -> None:
    (tmp_path / "kyverno.yaml").write_text(
        "admissionController:\n  replicas: 3\nconfig:\n  excludeKyvernoNamespace: true\n"
    )
    (tmp_path / "current").mkdir()
    (tmp_path / "current" / "kyverno.yaml").write_text("config:\n  webhooks:\n    namespaceSelector: {}\n")
    values = resolved_values(chart="kyverno", release="kyverno", computed={}, values_dir=tmp_path, profile="current")
    assert values == {
        "admissionController": {"replicas": 3},
        "config": {"excludeKyvernoNamespace": True, "webhooks": {"namespaceSelector": {}}},
    }
    # The seed profile has no override here: only the shared file applies.
    seed = resolved_values(chart="kyverno", release="kyverno", computed={}, values_dir=tmp_path, profile="seed")
    assert seed == {"admissionController": {"replicas": 3}, "config": {"excludeKyvernoNamespace": True}}


def test_a_value_of_the_wrong_shape_for_the_profiles_chart_names_the_files_and_profile(tmp_path: Path) -> None:
    (tmp_path / "kyverno.yaml").write_text("admissionController:\n  replicas: 3\n")
    (tmp_path / "current").mkdir()
    # chart 3.2.9's list form of config.webhooks is a type error against chart 3.9.0
    (tmp_path / "current" / "kyverno.yaml").write_text("config:\n  webhooks:\n    - namespaceSelector: {}\n")
    expected = r"kyverno.yaml \+ .*current/kyverno.yaml: current profile: kyverno: config.webhooks: is a list"
    with pytest.raises(HelmValuesError, match=expected):
        resolved_values(chart="kyverno", release="kyverno", computed={}, values_dir=tmp_path, profile="current")


def _file_values(release: str, profile: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for path in values_files(release, profile):
        values = deep_merge(values, load_values_file(path))
    return values


def test_argo_cd_3_keeps_its_default_exclusions_and_network_policies_that_admit_metrics() -> None:
    """Argo CD 3 extends resource.exclusions with defaults that setting the key would replace; chart 10's
    NetworkPolicies admit each component's metrics port from every namespace, so they stay on."""
    for profile in ("seed", "current"):
        values = _file_values("argocd", profile)
        assert "resource.exclusions" not in values.get("configs", {}).get("cm", {}), profile
        assert "repositories" not in values.get("configs", {}), "repositories are Secrets in Argo CD 3"
    # Chart 10's per-component policies (argocd-server's own replaced by one admitting only Prometheus, issue 23),
    # plus the shared default deny (issue 13).
    current = _file_values("argocd", "current")
    assert all(current[c]["networkPolicy"] == {"create": True} for c in ("controller", "repoServer", "redis"))
    assert current["server"]["networkPolicy"] == {"create": False}
    denies = [o for o in current["extraObjects"] if o["kind"] == "NetworkPolicy" and o["spec"]["podSelector"] == {}]
    assert denies and not denies[0]["spec"].get("ingress")
    # The ServiceMonitor scrapes the port the chart's metrics Services name http-metrics (targetPort metrics,
    # which the NetworkPolicies admit).
    kps = _file_values("kube-prometheus-stack", "current")["prometheus"]["additionalServiceMonitors"]
    (argocd,) = [m for m in kps if m["name"] == "argocd"]
    assert argocd["endpoints"] == [{"port": "http-metrics"}]

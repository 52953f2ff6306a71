"""The add-on registry keeps its own rules, and every other list of add-ons in the project is read from it."""

from __future__ import annotations

import dataclasses

import pytest

from constructs_lib.gitops import CHILD_NAMESPACES, app_project
from constructs_lib.karpenter_iam import SERVICE_ACCOUNT
from constructs_lib.namespace_guards import CDK_NAMESPACES, addon_network_policies, guard_manifests
from platform_config import addons as registry
from platform_config import yaml_load
from platform_config.addons import ADDONS, CrdSource, addon, addons, check_registry, version_key
from platform_config.versions import PROFILES
from tests.conftest import ROOT, Synthesized
from tests.gitops_overlays import built_overlays
from tests.stack_fixtures import config


def test_every_record_keeps_the_registry_rules() -> None:
    assert check_registry() == []


def test_a_pin_no_add_on_installs_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = tuple(a for a in ADDONS if a.chart != "jaeger")
    monkeypatch.setattr(registry, "ADDONS", kept)
    assert [e for e in check_registry() if "jaeger" in e] == [
        f"versions.py: the {name} profile pins jaeger, which no add-on in addons.py installs" for name in PROFILES
    ]


def test_a_record_that_waits_for_a_later_or_other_installers_release_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, *rest = ADDONS
    late = dataclasses.replace(first, after=(rest[0].release, "jaeger"))
    monkeypatch.setattr(registry, "ADDONS", (late, *rest))
    errors = check_registry()
    assert any(f"waits for {rest[0].release}, which comes later" in e for e in errors)
    assert any("waits for jaeger, which argocd installs" in e for e in errors)


def test_a_record_without_its_installers_handle_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    cdk, gitops = addon("kyverno"), addon("jaeger")
    broken = (dataclasses.replace(cdk, construct_id=""), dataclasses.replace(gitops, application=""))
    monkeypatch.setattr(registry, "ADDONS", (*broken, *(a for a in ADDONS if a not in (cdk, gitops))))
    errors = check_registry()
    assert any("kyverno: a CDK add-on needs its construct_id" in e for e in errors)
    assert any("jaeger: an Argo CD add-on names the Application file" in e for e in errors)


def test_an_upstream_folder_no_record_sources_is_reported_and_a_second_release_inherits_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jaeger, collector = addon("jaeger"), addon("otel-collector")
    second = dataclasses.replace(collector, release="second-collector", source=None)
    changed = (dataclasses.replace(jaeger, source=None), second)
    monkeypatch.setattr(registry, "ADDONS", (*(a for a in ADDONS if a is not jaeger), *changed))
    assert [e for e in check_registry() if "upstream source" in e] == [
        "platform_config/addons.py: jaeger: needs its upstream source (repository and tag) for "
        "tools/generate/derive_upstream.py"
    ]


def test_an_unknown_release_names_the_accepted_ones() -> None:
    with pytest.raises(registry.UnknownAddon, match=r"no add-on 'metrics-servr'.*accepted:.*'kyverno'"):
        addon("metrics-servr")


def test_a_crd_is_provided_from_the_first_chart_version_that_has_it() -> None:
    crd = CrdSource("x_ys", ("y.yaml",), since="1.14.0")
    assert not crd.provided_at("1.13.9") and crd.provided_at("1.14.0") and crd.provided_at("v1.20.1")
    assert version_key("2.10.0") > version_key("2.9.0"), "numeric, not lexical"


def test_namespace_guards_create_every_cdk_add_on_namespace_with_its_records_pod_security_level() -> None:
    for record in addons():
        if record.by_cdk and record.namespace != "kube-system":
            assert CDK_NAMESPACES[record.namespace] == record.pod_security, record.release
        for name, level in record.extra_namespaces if record.by_cdk else ():
            assert CDK_NAMESPACES[name] == level, record.release
    assert "kube-system" not in CDK_NAMESPACES, "kube-system exists already; the guards never relabel it"


def test_karpenters_pod_identity_names_the_namespace_its_record_installs_into() -> None:
    assert SERVICE_ACCOUNT[0] == addon("karpenter").namespace


def test_the_child_project_admits_exactly_the_argocd_add_ons_repositories_and_namespaces(profile: str) -> None:
    spec = app_project(config(release=profile))["spec"]
    argocd = addons(profile, installer="argocd")
    assert sorted(spec["sourceRepos"]) == sorted({a.pin(PROFILES[profile]).repository for a in argocd})
    assert {d["namespace"] for d in spec["destinations"]} == set(CHILD_NAMESPACES) == {a.namespace for a in argocd}


def test_every_argocd_add_on_is_installed_by_its_application_at_the_profiles_pin(profile: str) -> None:
    synced = {o["metadata"]["name"]: o for o in built_overlays(profile) if o["kind"] == "Application"}
    for record in addons(profile, installer="argocd"):
        (doc,) = [d for d in yaml_load.safe_load_all((ROOT / record.application).read_text()) if d]
        app = synced[doc["metadata"]["name"]]
        source, pin = app["spec"]["source"], record.pin(PROFILES[profile])
        assert (source["repoURL"], source["chart"], source["targetRevision"]) == (
            pin.repository,
            pin.chart,
            pin.version,
        ), record.release
        assert source["helm"].get("releaseName", app["metadata"]["name"]) == record.release
        assert app["spec"]["destination"]["namespace"] == record.namespace


def test_every_application_with_a_chart_is_a_registry_add_on(profile: str) -> None:
    charted = {
        o["spec"]["source"]["helm"].get("releaseName", o["metadata"]["name"])
        for o in built_overlays(profile)
        if o["kind"] == "Application" and o["spec"].get("source", {}).get("chart")
    }
    assert charted == {a.release for a in addons(profile, installer="argocd")}


def test_the_addons_stack_description_names_every_add_on_it_installs(synthesized: Synthesized) -> None:
    description = synthesized.templates["addons"]["Description"]
    for record in addons(synthesized.config.release, installer="addons-stack"):
        assert record.title in description, record.release


def test_every_cdk_add_on_namespace_is_closed_to_ingress_by_default_unless_its_chart_closes_it() -> None:
    # Which namespaces get policies does not depend on the API server's CIDRs: a documentation range stands in.
    cidrs = ("192.0.2.0/28",)
    denies = {
        p["metadata"]["namespace"]
        for p in guard_manifests(api_server_cidrs=cidrs)
        if p["kind"] == "NetworkPolicy" and p["spec"]["podSelector"] == {} and not p["spec"]["ingress"]
    }
    for record in addons():
        if record.by_cdk and record.namespace != "kube-system":
            assert (record.namespace in denies) != record.network_policies_from_chart, record.release
    assert set(addon_network_policies(api_server_cidrs=cidrs)) <= denies, "extra flows only where a default deny exists"

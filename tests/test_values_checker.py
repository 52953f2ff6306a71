"""check_values rejects values keys a chart does not have, shape mismatches and values-schema violations."""

from __future__ import annotations

import pytest

from platform_checks import check_values
from platform_checks.values import coalesce
from platform_config.addons import addons

# Every chart an add-on installs with values (the registry's records).
CHARTS = sorted({a.chart for a in addons() if a.takes_values})


@pytest.mark.parametrize("chart", CHARTS)
def test_empty_values_are_valid_for_every_derived_chart(profile: str, chart: str) -> None:
    assert check_values(chart, {}, profile=profile) == []


def test_typoed_key_is_rejected_with_nearest_existing_key(profile: str) -> None:
    errors = check_values("argo-cd", {"configs": {"paramz": {"server.insecure": True}}}, profile=profile)
    assert len(errors) == 1
    assert errors[0].startswith("argo-cd: configs.paramz: unknown key (Helm would silently ignore it); ")
    assert "did you mean params?" in errors[0]
    assert "accepted under configs: clusterCredentials, cm, cmp," in errors[0]


def test_existing_keys_including_dotted_ones_are_accepted(profile: str) -> None:
    values = {
        "configs": {"params": {"server.insecure": True}, "cm": {"admin.enabled": False}},
        "server": {"replicas": 2},
    }
    assert check_values("argo-cd", values, profile=profile) == []


def test_keys_under_free_form_and_allowlisted_maps_are_accepted(profile: str) -> None:
    # podAnnotations defaults to {}; nodeSelector is passed verbatim into the pod spec; settings.* is known
    karpenter = {
        "podAnnotations": {"example.com/any": "x"},
        "nodeSelector": {"eks-platform.io/node-role": "system"},
        "settings": {"clusterName": "platform", "interruptionQueue": "platform"},
    }
    assert check_values("karpenter", karpenter, profile=profile) == []
    # kube-prometheus-stack's grafana subchart is not vendored, so its keys cannot be checked
    assert (
        check_values("kube-prometheus-stack", {"grafana": {"sidecar": {"dashboards": {"x": 1}}}}, profile=profile) == []
    )
    # argocd-cm is ConfigMap data: any key is legitimate
    assert (
        check_values("argo-cd", {"configs": {"cm": {"resource.exclusions": "- kinds: [Event]"}}}, profile=profile) == []
    )


def test_type_mismatch_against_a_non_null_default_is_rejected(profile: str) -> None:
    errors = check_values(
        "argo-cd", {"server": {"replicas": {"count": 2}}, "configs": {"params": ["x"]}}, profile=profile
    )
    assert errors == [
        "argo-cd: server.replicas: is a map but the chart default is a int",
        "argo-cd: configs.params: is a list but the chart default is a map",
    ]
    # null (Helm's "delete this default") and any value under a null default are fine
    assert check_values("karpenter", {"terminationGracePeriodSeconds": 30, "affinity": None}, profile=profile) == []


def test_otel_collector_schema_rejects_a_bad_mode(profile: str) -> None:
    assert check_values("opentelemetry-collector", {"mode": "deployment"}, profile=profile) == []
    assert check_values("opentelemetry-collector", {"mode": "deploymnt"}, profile=profile) == [
        "opentelemetry-collector: values.schema.json of opentelemetry-collector: "
        "mode: 'deploymnt' is not one of ['daemonset', 'deployment', 'statefulset', '']"
    ]


def test_demo_subcharts_are_checked_against_their_vendored_key_trees_and_schema() -> None:
    # The checker is profile-independent; this case uses the seed demo's Jaeger v1 subchart (allInOne).
    profile = "seed"
    values = {
        "opentelemetry-collector": {
            "mode": "bogus",
            "modez": 1,
            "config": {"exporters": {"otlp/jaeger": {}}},
        },
        # jaeger 3.x (seed) and 4.x (current) share no key below the top level but `enabled`.
        "jaeger": {"enabledd": True},
        "prometheus": {"server": {"anything": 1}},
    }
    errors = check_values("opentelemetry-demo", values, profile=profile)
    assert errors[0].startswith(
        "opentelemetry-demo (subchart opentelemetry-collector): opentelemetry-collector.modez: unknown key"
    )
    assert errors[1].startswith("opentelemetry-demo (subchart jaeger): jaeger.enabledd: unknown key")
    collector = "opentelemetry-collector"
    schema = f"opentelemetry-demo (subchart {collector}): values.schema.json of {collector}"
    modes = "['daemonset', 'deployment', 'statefulset', '']"
    assert errors[2:] == [
        f"{schema}: {collector}: Additional properties are not allowed ('modez' was unexpected)",
        f"{schema}: {collector}.mode: 'bogus' is not one of {modes}",
    ]


def test_unknown_chart_is_an_error(profile: str) -> None:
    with pytest.raises(ValueError, match=r"unknown chart 'argocd'; derived charts: argo-cd, .*jaeger"):
        check_values("argocd", {}, profile=profile)


def test_coalesce_follows_helm_merge_semantics() -> None:
    defaults = {"a": {"b": 1, "c": 2}, "l": [1, 2], "d": 4}
    assert coalesce(defaults, {"a": {"b": 9}, "l": [3], "d": None}) == {"a": {"b": 9, "c": 2}, "l": [3]}


def test_keys_declared_only_by_the_charts_schema_are_accepted(profile: str) -> None:
    # Component.replicas and an open `ports` entry exist in the schema but in no default.
    assert check_values("opentelemetry-demo", {"components": {"frontend": {"replicas": 2}}}, profile=profile) == []
    ports = {"ports": {"prom-exporter": {"enabled": True, "containerPort": 8889, "servicePort": 8889}}}
    assert check_values("opentelemetry-collector", {"mode": "deployment", **ports}, profile=profile) == []


def test_schema_declared_keys_still_catch_typos_inside_them(profile: str) -> None:
    errors = check_values("opentelemetry-demo", {"components": {"frontend": {"replicaz": 2}}}, profile=profile)
    assert any("components.frontend.replicaz: unknown key" in e for e in errors)


def test_keys_documented_only_in_comments_are_accepted_by_name(profile: str) -> None:
    # The all-in-one Deployment's resources: allInOne.resources in jaeger 3.x, jaeger.resources in 4.x.
    parent = {"seed": "allInOne", "current": "jaeger"}[profile]
    assert check_values("jaeger", {parent: {"resources": {"limits": {"memory": "1Gi"}}}}, profile=profile) == []
    assert check_values("jaeger", {parent: {"resourcez": {}}}, profile=profile) != []
    other = {"seed": "jaeger", "current": "allInOne"}[profile]
    assert check_values("jaeger", {other: {"resources": {}}}, profile=profile) != [], "only the profile's chart key"


def test_kyverno_32_cleanup_job_keys_belong_to_the_seed_file_only() -> None:
    """Chart 3.2 tolerates each cleanup job per key; 3.9 dropped policyReportsCleanup and cleanupJobs (it uses
    global.tolerations), so those keys live in helm_values/seed/ and the current profile rejects them by name."""
    from constructs_lib.helm_addon import load_values_file, values_files

    shared, seed_file = (load_values_file(p) for p in values_files("kyverno", "seed"))
    seed_only = {"policyReportsCleanup", "cleanupJobs"}
    assert seed_only <= set(seed_file) and not seed_only & set(shared)
    assert check_values("kyverno", seed_file, profile="seed") == []
    errors = check_values("kyverno", seed_file, profile="current")
    assert [e.split(":")[1].strip() for e in errors if "unknown key" in e] == ["policyReportsCleanup", "cleanupJobs"]

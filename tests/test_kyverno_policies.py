"""Guardrail policies: valid Kyverno 1.12 CEL that passes pass fixtures and fails only its own fail ones."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import kyverno_cel as kc
import pytest
import yaml

from platform_checks import load_yaml_documents
from platform_checks.kustomize import kustomize_build

POLICIES = kc.load_policies()
POLICY_NAMES = [p["metadata"]["name"] for p in POLICIES]
FIXTURES = kc.load_fixtures()
PASS = [f for f in FIXTURES if f.outcome == "pass"]
FAIL = [f for f in FIXTURES if f.outcome == "fail"]

# Add-on namespaces each policy leaves alone, beyond kube-system and kyverno (reasons in README.md).
ADDON_EXCLUDES = {
    "disallow-privileged-containers": set(),
    # Only node-exporter's own namespace: monitoring stays covered (issue 13).
    "disallow-host-access": {"node-exporter"},
    "disallow-latest-tag": set(),
    "require-requests-limits": {"argocd", "monitoring", "node-exporter"},
    "require-run-as-non-root": {"argocd", "monitoring", "node-exporter"},
    "restrict-image-registries": set(),
    "restrict-container-requests": set(),
    "restrict-expensive-instances": set(),
    "require-stateful-placement": {"argocd", "monitoring", "node-exporter"},
    "restrict-loadbalancer-services": set(),
    "restrict-pvc-size": set(),
}
ACTIONS = {
    "disallow-privileged-containers": "Enforce",
    "disallow-host-access": "Enforce",
    "disallow-latest-tag": "Enforce",
    "require-requests-limits": "Audit",
    "require-run-as-non-root": "Audit",
    "restrict-image-registries": "Enforce",
    "restrict-container-requests": "Enforce",
    "restrict-expensive-instances": "Enforce",
    "require-stateful-placement": "Audit",
    "restrict-loadbalancer-services": "Enforce",
    "restrict-pvc-size": "Enforce",
}
SETTINGS = load_yaml_documents(kc.POLICY_DIR / "settings.yaml")[0]
KUSTOMIZATION = load_yaml_documents(kc.POLICY_DIR / "kustomization.yaml")[0]


def _ids(fixtures: list[kc.Fixture]) -> list[str]:
    return [f"{f.policy}/{f.path.stem}" for f in fixtures]


def _kinds(rule: dict[str, Any]) -> list[str]:
    return [k for entry in rule["match"]["any"] for k in entry["resources"]["kinds"]]


# --- the policies themselves -------------------------------------------------------------------------


def test_kustomization_lists_every_policy_file_and_the_settings() -> None:
    on_disk = {p.name for p in kc.POLICY_DIR.glob("*.yaml")} - {"kustomization.yaml", "kyverno-test.yaml"}
    assert set(KUSTOMIZATION["resources"]) == on_disk
    assert sorted(POLICY_NAMES) == sorted(ACTIONS)


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_NAMES)
def test_policy_is_a_kyverno_1_12_cel_cluster_policy(policy: dict[str, Any]) -> None:
    assert (policy["apiVersion"], policy["kind"]) == ("kyverno.io/v1", "ClusterPolicy")
    assert policy["spec"]["background"] is True
    for rule in policy["spec"]["rules"]:
        validate = rule["validate"]
        assert set(validate) == {"message", "cel"}, f"{rule['name']} must be CEL only"
        assert "paramKind" not in validate["cel"], "configuration comes from settings.yaml, not params"
        for check in validate["cel"]["expressions"]:
            # Kyverno requires a message when an expression has line breaks; we always give one.
            assert check["message"] and "\n" not in check["message"] and "\n" not in check["expression"]


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_NAMES)
def test_failure_action_is_the_documented_one(policy: dict[str, Any]) -> None:
    action = ACTIONS[policy["metadata"]["name"]]
    assert policy["spec"]["validationFailureAction"] == action
    assert f"Failure action {action}" in policy["metadata"]["annotations"]["policies.kyverno.io/description"]
    readme = (kc.POLICY_DIR / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith(f"| `{policy['metadata']['name']}`"))
    assert f"| {action} |" in row


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_NAMES)
def test_policy_validates_against_the_kyverno_3_2_9_crd_schema(policy: dict[str, Any]) -> None:
    from platform_checks.manifests import validate_manifest

    assert validate_manifest(policy) == []


def test_crd_schema_check_rejects_a_misspelt_field() -> None:
    from platform_checks.manifests import validate_manifest

    broken = yaml.safe_load(yaml.safe_dump(POLICIES[0]))
    broken["spec"]["validationFailureActon"] = "Enforce"
    assert any("validationFailureActon" in e for e in validate_manifest(broken))


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_NAMES)
def test_every_rule_excludes_system_namespaces_and_the_documented_add_ons(policy: dict[str, Any]) -> None:
    expected = {"kube-system", "kyverno"} | ADDON_EXCLUDES[policy["metadata"]["name"]]
    for rule in policy["spec"]["rules"]:
        (entry,) = rule["exclude"]["any"]
        assert set(entry["resources"]["namespaces"]) == expected, rule["name"]
        assert set(entry["resources"]) == {"namespaces"}


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_NAMES)
def test_pod_rules_get_autogen_copies_for_controllers_and_cronjobs(policy: dict[str, Any]) -> None:
    pod_rules = [r["name"] for r in policy["spec"]["rules"] if _kinds(r) == ["Pod"]]
    names = [r["name"] for r in kc.effective_rules(policy)]
    for rule in pod_rules:
        assert f"autogen-{rule}" in names and f"autogen-cronjob-{rule}" in names
    for rule in kc.effective_rules(policy):
        text = yaml.safe_dump(rule["validate"])
        # Autogen rewrites object.metadata to the template, which carries no namespace.
        assert "object.metadata.namespace" not in text and "metadata.namespace" not in text
        if rule["name"].startswith("autogen-cronjob-"):
            assert "object.spec.jobTemplate.spec.template.spec" in text
        elif rule["name"].startswith("autogen-"):
            assert "object.spec.template.spec" in text and "jobTemplate" not in text


# --- fixtures ---------------------------------------------------------------------------------------


def test_every_policy_has_pass_and_fail_fixtures() -> None:
    for name in POLICY_NAMES:
        assert {f.outcome for f in FIXTURES if f.policy == name} == {"pass", "fail"}, name
    assert {f.policy for f in FIXTURES} == set(POLICY_NAMES)
    names = [f.obj["metadata"]["name"] for f in FIXTURES]
    assert len(names) == len(set(names)), "the Kyverno CLI test identifies fixtures by name"


@pytest.mark.parametrize("fixture", FIXTURES, ids=_ids(FIXTURES))
def test_fixture_is_a_valid_kubernetes_1_29_object(fixture: kc.Fixture) -> None:
    from platform_checks.manifests import validate_manifest

    assert validate_manifest(fixture.obj) == []


@pytest.mark.parametrize("fixture", PASS, ids=_ids(PASS))
def test_pass_fixture_passes_every_policy(fixture: kc.Fixture) -> None:
    results = kc.evaluate(POLICIES, fixture.obj)
    # A pass fixture either reaches its own policy or demonstrates one of its add-on exclusions.
    excluded = fixture.obj["metadata"]["namespace"] in ADDON_EXCLUDES[fixture.policy]
    assert excluded != any(r.policy == fixture.policy for r in results)
    assert [r for r in results if not r.passed] == []


@pytest.mark.parametrize("fixture", FAIL, ids=_ids(FAIL))
def test_fail_fixture_fails_only_its_own_policy_with_its_message(fixture: kc.Fixture) -> None:
    failed = [r for r in kc.evaluate(POLICIES, fixture.obj) if not r.passed]
    assert failed, "the fixture must fail"
    assert {r.policy for r in failed} == {fixture.policy}
    assert fixture.expected_message
    assert all(r.message.startswith(fixture.expected_message) for r in failed), [r.message for r in failed]


def test_every_cel_expression_fails_for_some_fail_fixture() -> None:
    every = {
        (p["metadata"]["name"], r["name"], i)
        for p in POLICIES
        for r in p["spec"]["rules"]
        for i in range(len(r["validate"]["cel"]["expressions"]))
    }
    failed = [r for f in FAIL for r in kc.evaluate(POLICIES, f.obj) if not r.passed]
    seen = {(r.policy, r.base_rule, r.failed_expression) for r in failed}
    assert seen == every


@pytest.mark.parametrize("fixture", FAIL, ids=_ids(FAIL))
def test_fail_fixture_is_skipped_in_system_namespaces(fixture: kc.Fixture) -> None:
    for namespace in ("kube-system", "kyverno"):
        moved = yaml.safe_load(yaml.safe_dump(fixture.obj))
        moved["metadata"]["namespace"] = namespace
        assert kc.evaluate(POLICIES, moved) == []


def test_add_on_namespace_exclusion_is_honoured() -> None:
    (fixture,) = [f for f in FAIL if f.path.stem == "pod-host-network"]
    moved = yaml.safe_load(yaml.safe_dump(fixture.obj))
    moved["metadata"]["namespace"] = "node-exporter"
    assert not any(r.policy == "disallow-host-access" for r in kc.evaluate(POLICIES, moved))
    moved["metadata"]["namespace"] = "monitoring"
    assert any(not r.passed and r.policy == "disallow-host-access" for r in kc.evaluate(POLICIES, moved))
    moved["metadata"]["namespace"] = "argocd"
    assert any(not r.passed and r.policy == "disallow-host-access" for r in kc.evaluate(POLICIES, moved))


def _pod(image: str) -> dict[str, Any]:
    (fixture,) = [f for f in PASS if f.path.stem == "pod-unprivileged"]
    pod = yaml.safe_load(yaml.safe_dump(fixture.obj))
    pod["spec"]["containers"][0]["image"] = image
    return pod


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("public.ecr.aws/nginx/nginx:1.27.3", True),
        ("public.ecr.aws/nginx/nginx@sha256:" + "ab" * 32, True),
        ("localhost:5000/app:2.1", True),
        ("localhost:5000/app", False),  # a registry port is not a tag
        ("public.ecr.aws/nginx/nginx", False),
        ("public.ecr.aws/nginx/nginx:latest", False),
    ],
)
def test_image_tag_rule_parses_registry_ports_and_digests(image: str, pinned: bool) -> None:
    (policy,) = [p for p in POLICIES if p["metadata"]["name"] == "disallow-latest-tag"]
    (result,) = kc.evaluate([policy], _pod(image))
    assert result.passed is pinned


@pytest.mark.parametrize(
    ("image", "allowed"),
    [
        ("busybox:1.36.1", True),  # docker.io/busybox
        ("otel/opentelemetry-collector-contrib:0.114.0", True),  # docker.io/otel/...
        ("docker.io/library/redis:7.2", True),
        ("quay.io/prometheus/prometheus:v2.55.0", True),
        ("quay.io.attacker.example/app:1.0", False),
        ("localhost/app:1.0", False),
        ("gcr.io/distroless/static:nonroot", False),
    ],
)
def test_registry_rule_normalises_docker_hub_short_names(image: str, allowed: bool) -> None:
    (policy,) = [p for p in POLICIES if p["metadata"]["name"] == "restrict-image-registries"]
    (result,) = kc.evaluate([policy], _pod(image))
    assert result.passed is allowed


# --- the CEL harness itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4", Fraction(4)),
        ("4000m", Fraction(4)),
        ("0.5", Fraction(1, 2)),
        (".5", Fraction(1, 2)),
        ("+250m", Fraction(1, 4)),
        ("-1k", Fraction(-1000)),
        ("8Gi", Fraction(8 * 2**30)),
        ("1.5Mi", Fraction(3 * 2**19)),
        ("9G", Fraction(9 * 10**9)),
        ("1e3", Fraction(1000)),
        ("1E-3", Fraction(1, 1000)),
        ("0.1Ti", Fraction(2**40, 10)),
        ("0.5n", Fraction(1, 10**9)),  # below nano precision rounds up, as ParseQuantity does
        ("1u", Fraction(1, 10**6)),
    ],
)
def test_quantity_parsing_follows_kubernetes(text: str, value: Fraction) -> None:
    assert kc.parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "1K", "1Gb", "Gi1", "1.2.3", "1 Gi", "one", "1e", "--1"])
def test_invalid_quantities_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        kc.parse_quantity(text)
    assert kc.eval_cel(f"isQuantity('{text}')", {}) is not True
    with pytest.raises(kc.CelEvaluationError):
        kc.eval_cel(f"quantity('{text}')", {})


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("quantity('4000m').compareTo(quantity('4')) == 0", True),
        ("quantity('4500m').compareTo(quantity('4')) == 1", True),
        ("quantity('9G').isGreaterThan(quantity('8Gi'))", True),  # 9e9 > 8589934592
        ("quantity('8589934592').compareTo(quantity('8Gi')) == 0", True),
        ("quantity('100Mi').isLessThan(quantity('0.1Gi'))", True),
        ("quantity('0.1Ti').isGreaterThan(quantity('100Gi'))", True),
        ("quantity('1n').compareTo(quantity('0.5n')) == 0", True),
        ("quantity('-1').sign() == -1 && quantity('0').sign() == 0", True),
        ("quantity('1.5').isInteger()", False),
        ("quantity('2k').asInteger() == 2000", True),
        ("quantity('1Ki').add(quantity('1Ki')).compareTo(quantity('2Ki')) == 0", True),
        ("quantity('1').sub(1).compareTo(quantity('0')) == 0", True),
        ("quantity('250m').asApproximateFloat() == 0.25", True),
        ("isQuantity('100Gi') && !isQuantity('100GB')", True),
    ],
)
def test_cel_quantity_library(expression: str, expected: bool) -> None:
    assert bool(kc.eval_cel(expression, {})) is expected


def test_quantity_as_integer_rejects_fractions() -> None:
    with pytest.raises(kc.CelEvaluationError):
        kc.eval_cel("quantity('1.5').asInteger()", {})


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("'a,b,,c'.split(',')", ["a", "b", "", "c"]),
        ("''.split(',')", [""]),
        ("'abc'.split('')", ["a", "b", "c"]),
        ("'a,b,c'.split(',', 2)", ["a", "b,c"]),
        ("'a,b'.split(',', 0)", []),
    ],
)
def test_cel_split_follows_go_strings_split(expression: str, expected: list[str]) -> None:
    assert [str(x) for x in kc.eval_cel(expression, {})] == expected


def test_cel_errors_are_reported_not_treated_as_pass() -> None:
    rule = {
        "name": "broken",
        "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
        "validate": {"message": "m", "cel": {"expressions": [{"expression": "object.spec.nope == 1"}]}},
    }
    with pytest.raises(kc.CelEvaluationError, match="nope"):
        kc.evaluate_rule(rule, PASS[0].obj)


def test_harness_uses_the_rule_message_when_an_expression_has_none() -> None:
    rule = {"validate": {"message": "fallback", "cel": {"expressions": [{"expression": "false"}]}}}
    assert kc.evaluate_rule(rule, PASS[0].obj) == (False, "fallback", 0)


# --- kustomize build and settings -------------------------------------------------------------------


def _replacement_targets() -> list[tuple[str, str, str, str]]:
    """(settings key, policy, rule, variable) for every replacement in kustomization.yaml."""
    targets = []
    for replacement in KUSTOMIZATION["replacements"]:
        key = replacement["source"]["fieldPath"].removeprefix("data.")
        for target in replacement["targets"]:
            assert target["options"] == {"delimiter": "'", "index": 1}
            for path in target["fieldPaths"]:
                rule = path.split("[name=")[1].split("]")[0]
                variable = path.split("[name=")[2].split("]")[0]
                targets.append((key, target["select"]["name"], rule, variable))
    return targets


def _variable(policy: dict[str, Any], rule: str, variable: str) -> str:
    (r,) = [r for r in policy["spec"]["rules"] if r["name"] == rule]
    (v,) = [v for v in r["validate"]["cel"]["variables"] if v["name"] == variable]
    return str(v["expression"])


def test_every_setting_is_wired_and_source_defaults_equal_the_settings() -> None:
    targets = _replacement_targets()
    assert {t[0] for t in targets} == set(SETTINGS["data"])
    by_name = dict(zip(POLICY_NAMES, POLICIES, strict=True))
    for key, policy, rule, variable in targets:
        assert _variable(by_name[policy], rule, variable) == f"'{SETTINGS['data'][key]}'"


def test_settings_values_are_safe_cel_string_literals() -> None:
    assert SETTINGS["metadata"]["annotations"]["config.kubernetes.io/local-config"] == "true"
    for key, value in SETTINGS["data"].items():
        assert "'" not in value and "\\" not in value and value.strip() == value, key
    for key in ("maxContainerCpuRequest", "maxContainerMemoryRequest", "maxPvcStorage"):
        kc.parse_quantity(SETTINGS["data"][key])
    assert all(r.endswith("/") for r in SETTINGS["data"]["allowedRegistries"].split(","))


def test_kustomize_build_emits_exactly_the_policies_as_written() -> None:
    built = kustomize_build(kc.POLICY_DIR)
    assert [d["kind"] for d in built] == ["ClusterPolicy"] * len(POLICIES)  # settings.yaml is local-config
    by_name = {d["metadata"]["name"]: d for d in built}
    assert by_name == dict(zip(POLICY_NAMES, POLICIES, strict=True))


def test_changed_settings_reach_the_cel_of_the_built_policies(tmp_path: Path) -> None:
    work = tmp_path / "policies"
    shutil.copytree(kc.POLICY_DIR, work)
    settings = yaml.safe_load((work / "settings.yaml").read_text())
    settings["data"].update(
        maxContainerCpuRequest="250m",
        allowedRegistries="public.ecr.aws/",
        acceleratorNamespaces="team-a,ml-workloads",
        maxPvcStorage="10Gi",
    )
    (work / "settings.yaml").write_text(yaml.safe_dump(settings))
    built = kustomize_build(work)

    def failures(stem: str, policy: str) -> list[str]:
        (fixture,) = [f for f in FIXTURES if f.path.stem == stem]
        return [r.message for r in kc.evaluate(built, fixture.obj) if not r.passed and r.policy == policy]

    assert failures("pod-at-cap", "restrict-container-requests") == [
        "cpu request too large: every container and initContainer must request at most 250m cpu"
    ]
    registry_message = "Images must come from an allowed registry: every container image must start with"
    assert failures("pod-docker-hub-short-name", "restrict-image-registries") == [
        f"{registry_message} one of public.ecr.aws/"
    ]
    # team-a is now an accelerator namespace
    assert failures("pod-gpu-limit", "restrict-expensive-instances") == []
    assert failures("pvc-at-bound", "restrict-pvc-size") == [
        "PVC too large: spec.resources.requests.storage must be at most 10Gi"
    ]


# --- Kyverno CLI test file and exception mechanism -----------------------------------------------------


def test_kyverno_cli_test_file_covers_every_policy_fixture_and_result() -> None:
    (test,) = load_yaml_documents(kc.POLICY_DIR / "kyverno-test.yaml")
    assert (test["apiVersion"], test["kind"]) == ("cli.kyverno.io/v1alpha1", "Test")
    assert test["policies"] == [p.name for p in kc.policy_files()]
    listed = sorted((kc.POLICY_DIR / r).resolve() for r in test["resources"])
    assert listed == sorted(f.path for f in FIXTURES)
    assert test["results"] == kc.cli_test_results(POLICIES, FIXTURES)
    assert {r["result"] for r in test["results"]} == {"pass", "fail"}


def test_policy_exception_chart_keys_exist_in_kyverno_3_2_9() -> None:
    from platform_checks.values import check_values

    values = {"features": {"policyExceptions": {"enabled": True, "namespace": "kyverno"}}}
    assert check_values("kyverno", values) == []
    readme = (kc.POLICY_DIR / "README.md").read_text()
    for text in (
        "kyverno.io/v2beta1",
        "features.policyExceptions.enabled: true",
        "features.policyExceptions.namespace: kyverno",
    ):
        assert text in readme

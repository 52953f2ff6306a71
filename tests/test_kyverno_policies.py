"""Guardrail policies, for every release profile: the generated kind (Kyverno 1.12 ClusterPolicy, Kyverno 1.19
ValidatingPolicy) passes pass fixtures and fails only its own fail ones, offline."""

from __future__ import annotations

import shutil
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_checks import kyverno_cel as kc
from platform_checks import load_yaml_documents
from platform_checks.kustomize import kustomize_build
from platform_checks.upstream_facts import app_version
from platform_config import versions, yaml_load
from platform_config.guardrails import EPHEMERAL_KIND, EPHEMERAL_SUFFIX
from tests.conftest import PROFILE_NAMES
from tools.generate import build_policies

FIXTURES = kc.load_fixtures()
PASS = [f for f in FIXTURES if f.outcome == "pass"]
FAIL = [f for f in FIXTURES if f.outcome == "fail"]
POLICY_SOURCE = kc.ROOT / "infra" / "policies"

# Add-on namespaces each policy leaves alone, beyond kube-system and kyverno (reasons in README.md).
ADDON_EXCLUDES = {
    "disallow-privileged-containers": set(),
    # Only node-exporter's own namespace: monitoring stays covered (issue 13).
    "disallow-host-access": {"node-exporter"},
    "disallow-baseline-escalations": {"node-exporter"},
    "disallow-latest-tag": set(),
    "require-requests-limits": {"argocd", "monitoring", "node-exporter"},
    "require-run-as-non-root": {"argocd", "monitoring", "node-exporter"},
    "restrict-image-registries": set(),
    "restrict-container-requests": set(),
    "restrict-expensive-instances": set(),
    "require-stateful-placement": {"argocd", "monitoring", "node-exporter"},
    "restrict-loadbalancer-services": set(),
    "restrict-pvc-size": set(),
    "require-pod-security-label": set(),
}
ACTIONS = {
    "disallow-privileged-containers": "Enforce",
    "disallow-host-access": "Enforce",
    "disallow-baseline-escalations": "Enforce",
    "disallow-latest-tag": "Enforce",
    "require-requests-limits": "Audit",
    "require-run-as-non-root": "Audit",
    "restrict-image-registries": "Enforce",
    "restrict-container-requests": "Enforce",
    "restrict-expensive-instances": "Enforce",
    "require-stateful-placement": "Audit",
    "restrict-loadbalancer-services": "Enforce",
    "restrict-pvc-size": "Enforce",
    "require-pod-security-label": "Enforce",
}
# The fixture namespaces' labels (tests/fixtures/policies/namespaces.yaml); any other namespace is unlabelled.
NAMESPACES = kc.fixture_namespaces()
SETTINGS = load_yaml_documents(POLICY_SOURCE / "settings" / "settings.yaml")[0]


@cache
def policies(profile: str) -> list[dict[str, Any]]:
    return kc.load_policies(profile)


def kustomization(profile: str) -> dict[str, Any]:
    return load_yaml_documents(build_policies.out_dir(profile) / "kustomization.yaml")[0]


PROFILE_POLICIES = [(profile, p) for profile in PROFILE_NAMES for p in policies(profile)]
PROFILE_POLICY_IDS = [f"{profile}-{p['metadata']['name']}" for profile, p in PROFILE_POLICIES]


def _ids(fixtures: list[kc.Fixture]) -> list[str]:
    return [f"{f.policy}/{f.path.stem}" for f in fixtures]


def _by_profile(fixtures: list[kc.Fixture]) -> tuple[list[tuple[str, kc.Fixture]], list[str]]:
    params = [(profile, f) for profile in PROFILE_NAMES for f in fixtures]
    return params, [f"{profile}-{f.policy}/{f.path.stem}" for profile, f in params]


PASS_BY_PROFILE, PASS_IDS = _by_profile(PASS)
FAIL_BY_PROFILE, FAIL_IDS = _by_profile(FAIL)


def _kinds(rule: dict[str, Any]) -> list[str]:
    return [k for entry in rule["match"]["any"] for k in entry["resources"]["kinds"]]


def _only(profile: str, guardrail: str) -> list[dict[str, Any]]:
    return [p for p in policies(profile) if kc.guardrail(p) == guardrail]


# --- the policies themselves -------------------------------------------------------------------------


def test_every_profile_has_a_guardrail_kind_and_committed_policies_match_the_generator() -> None:
    assert set(build_policies.KIND_BY_PROFILE) == set(versions.PROFILES)
    assert build_policies.main(["--check"]) == 0


def test_generator_check_fails_on_a_hand_edited_policy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for profile in PROFILE_NAMES:
        shutil.copytree(build_policies.out_dir(profile), tmp_path / profile / "policies")
    monkeypatch.setattr(build_policies, "out_dir", lambda profile: tmp_path / profile / "policies")
    edited = tmp_path / "current" / "policies" / "disallow-latest-tag.yaml"
    edited.write_text(edited.read_text().replace("Deny", "Audit"))
    assert build_policies.main(["--check"]) == 1


def test_definition_errors_name_the_guardrail_and_what_is_accepted(tmp_path: Path) -> None:
    bad = yaml_load.safe_load((POLICY_SOURCE / "guardrails.yaml").read_text())
    bad[0]["rules"][0]["kinds"] = ["Ingress"]
    path = tmp_path / "guardrails.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(build_policies.DefinitionError, match=r"disallow-privileged-containers.*Ingress.*accepted"):
        build_policies.load_definitions(path)
    bad[0]["rules"][0]["kinds"] = ["Pod"]
    bad[0]["action"] = "Warn"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(build_policies.DefinitionError, match="action 'Warn'; accepted is Enforce or Audit"):
        build_policies.load_definitions(path)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_kustomization_lists_the_settings_and_every_policy_file(profile: str) -> None:
    directory = build_policies.out_dir(profile)
    on_disk = {p.name for p in directory.glob("*.yaml")} - {
        "kustomization.yaml",
        "kyverno-test.yaml",
        build_policies.VALUES_FILE,
    }
    resources = kustomization(profile)["resources"]
    assert resources[0] == "../../../policies/settings"
    assert set(resources[1:]) == on_disk
    assert {kc.guardrail(p) for p in policies(profile)} == set(ACTIONS)
    assert {p["kind"] for p in policies(profile)} == {build_policies.KIND_BY_PROFILE[profile]}


@pytest.mark.parametrize(("profile", "policy"), PROFILE_POLICIES, ids=PROFILE_POLICY_IDS)
def test_policy_is_cel_only_in_the_kind_its_kyverno_runs(profile: str, policy: dict[str, Any]) -> None:
    kyverno = app_version("kyverno", profile).lstrip("v")
    assert policy["metadata"]["annotations"]["kyverno.io/kyverno-version"] == kyverno
    if policy["kind"] == "ClusterPolicy":
        assert policy["apiVersion"] == "kyverno.io/v1"
        assert policy["spec"]["background"] is True
        checks = []
        for rule in policy["spec"]["rules"]:
            validate = rule["validate"]
            assert set(validate) == {"message", "cel"}, f"{rule['name']} must be CEL only"
            assert "paramKind" not in validate["cel"], "configuration comes from settings.yaml, not params"
            checks += validate["cel"]["expressions"]
    else:
        assert policy["apiVersion"] == "policies.kyverno.io/v1"
        assert policy["spec"]["evaluation"] == {"background": {"enabled": True}}
        assert "paramKind" not in policy["spec"], "configuration comes from settings.yaml, not params"
        checks = policy["spec"]["validations"]
    for check in checks:
        # Kyverno requires a message when an expression has line breaks; we always give one.
        assert check["message"] and "\n" not in check["message"] and "\n" not in check["expression"]


@pytest.mark.parametrize(("profile", "policy"), PROFILE_POLICIES, ids=PROFILE_POLICY_IDS)
def test_failure_action_is_the_documented_one(profile: str, policy: dict[str, Any]) -> None:
    action = ACTIONS[kc.guardrail(policy)]
    assert kc.action(policy) == action
    if policy["kind"] == "ValidatingPolicy":
        assert policy["spec"]["validationActions"] == [{"Enforce": "Deny", "Audit": "Audit"}[action]]
    assert f"Failure action {action}" in policy["metadata"]["annotations"]["policies.kyverno.io/description"]
    readme = (POLICY_SOURCE / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith(f"| `{kc.guardrail(policy)}`"))
    assert f"| {action} |" in row


@pytest.mark.parametrize(("profile", "policy"), PROFILE_POLICIES, ids=PROFILE_POLICY_IDS)
def test_policy_validates_against_the_profiles_kyverno_crd_schema(profile: str, policy: dict[str, Any]) -> None:
    from platform_checks.manifests import validate_manifest

    assert validate_manifest(policy, profile=profile) == []


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_crd_schema_check_rejects_a_misspelt_field(profile: str) -> None:
    from platform_checks.manifests import validate_manifest

    broken = yaml_load.safe_load(yaml.safe_dump(policies(profile)[0]))
    broken["spec"]["validationFailureActon"] = "Enforce"
    assert any("validationFailureActon" in e for e in validate_manifest(broken, profile=profile))


@pytest.mark.parametrize(("profile", "policy"), PROFILE_POLICIES, ids=PROFILE_POLICY_IDS)
def test_every_rule_excludes_system_namespaces_and_the_documented_add_ons(profile: str, policy: dict[str, Any]) -> None:
    expected = {"kube-system", "kyverno"} | ADDON_EXCLUDES[kc.guardrail(policy)]
    if policy["kind"] == "ValidatingPolicy":
        selector = policy["spec"]["matchConstraints"]["namespaceSelector"]
        expression, *by_label = selector["matchExpressions"]
        assert set(selector) == {"matchExpressions"}
        assert (expression["key"], expression["operator"]) == ("kubernetes.io/metadata.name", "NotIn")
        assert set(expression["values"]) == expected
        assert all(e["key"] != "kubernetes.io/metadata.name" for e in by_label)
    for rule in kc.rule_view(policy):
        (entry,) = rule["exclude"]["any"]
        assert set(entry["resources"]["namespaces"]) == expected, rule["name"]
        assert set(entry["resources"]) == {"namespaces"}


def test_every_excluded_namespace_of_the_label_guardrail_has_a_written_reason() -> None:
    (entry,) = [e for e in build_policies.load_definitions() if e["name"] == "require-pod-security-label"]
    assert set(entry["excludeReasons"]) == set(entry["excludeNamespaces"])
    assert all(len(reason.split()) >= 8 for reason in entry["excludeReasons"].values())


def test_definition_error_names_an_excluded_namespace_without_a_reason(tmp_path: Path) -> None:
    bad = yaml_load.safe_load((POLICY_SOURCE / "guardrails.yaml").read_text())
    (entry,) = [e for e in bad if e["name"] == "require-pod-security-label"]
    entry["excludeNamespaces"].append("team-a")
    path = tmp_path / "guardrails.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(build_policies.DefinitionError, match=r"require-pod-security-label.*\['team-a'\].*reason"):
        build_policies.load_definitions(path)


@pytest.mark.parametrize(("profile", "policy"), PROFILE_POLICIES, ids=PROFILE_POLICY_IDS)
def test_pod_rules_get_autogen_copies_for_controllers_and_cronjobs(profile: str, policy: dict[str, Any]) -> None:
    pod_rules = [r["name"] for r in kc.rule_view(policy) if _kinds(r) == ["Pod"]]
    names = [r["name"] for r in kc.effective_rules(policy)]
    for rule in pod_rules:
        assert f"autogen-{rule}" in names and f"autogen-cronjob-{rule}" in names
    for rule in kc.effective_rules(policy):
        text = yaml.safe_dump(rule["validate"])
        # Autogen rewrites object.metadata to the template, which carries no namespace.
        assert "object.metadata.namespace" not in text and "metadata.namespace" not in text
        if "object.spec" not in text:
            continue  # reads no pod field (the label guardrail reads namespaceObject): nothing to rewrite
        if rule["name"].startswith("autogen-cronjob-"):
            assert "object.spec.jobTemplate.spec.template.spec" in text
        elif rule["name"].startswith("autogen-"):
            assert "object.spec.template.spec" in text and "jobTemplate" not in text


def test_validating_policy_autogen_follows_kyverno_1_19() -> None:
    # The Pod policy (its ephemeral copy is a policy of its own on Kyverno 1.19).
    (policy,) = [p for p in _only("current", "disallow-latest-tag") if p["metadata"]["name"] == "disallow-latest-tag"]
    kinds = {k for r in kc.effective_rules(policy) for k in _kinds(r)}
    # Kyverno 1.19's autogen targets (pkg/cel/autogen): no ReplicationController, unlike 1.12.
    assert kinds == {"Pod", "DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "CronJob"}
    # ...and it leaves object.metadata.namespace alone where 1.12 rewrote it.
    rule = {"validate": {"cel": {"expressions": [{"expression": "object.metadata.namespace == object.spec.x"}]}}}
    shifted = kc._shift(rule, "Pod", protect_namespace=True)
    assert shifted["validate"]["cel"]["expressions"][0]["expression"] == (
        "object.metadata.namespace == object.spec.template.spec.x"
    )


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_policies_of_both_kinds_hold_the_same_checks(profile: str) -> None:
    """The generator's promise: every profile enforces the same expressions with the same messages."""
    seen = {
        (kc.guardrail(p), r["name"], c["expression"], c["message"])
        for p in policies(profile)
        for r in kc.rule_view(p)
        for c in r["validate"]["cel"]["expressions"]
    }
    reference = {
        (kc.guardrail(p), r["name"], c["expression"], c["message"])
        for p in policies("seed")
        for r in kc.rule_view(p)
        for c in r["validate"]["cel"]["expressions"]
    }
    assert seen == reference and len(seen) > 11


# --- fixtures ---------------------------------------------------------------------------------------


def test_every_policy_has_pass_and_fail_fixtures() -> None:
    for name in ACTIONS:
        assert {f.outcome for f in FIXTURES if f.policy == name} == {"pass", "fail"}, name
    assert {f.policy for f in FIXTURES} == set(ACTIONS)
    names = [f.obj["metadata"]["name"] for f in FIXTURES]
    assert len(names) == len(set(names)), "the Kyverno CLI test identifies fixtures by name"


@pytest.mark.parametrize("fixture", FIXTURES, ids=_ids(FIXTURES))
def test_fixture_is_a_valid_object_for_every_profiles_kubernetes(fixture: kc.Fixture) -> None:
    from platform_checks.manifests import validate_manifest

    for profile in PROFILE_NAMES:
        assert validate_manifest(fixture.obj, profile=profile) == [], profile


@pytest.mark.parametrize(("profile", "fixture"), PASS_BY_PROFILE, ids=PASS_IDS)
def test_pass_fixture_passes_every_policy(profile: str, fixture: kc.Fixture) -> None:
    results = kc.evaluate(policies(profile), fixture.obj, namespaces=NAMESPACES, subresource=fixture.subresource)
    # A pass fixture either reaches its own policy or demonstrates one of its add-on exclusions.
    namespace = fixture.obj["metadata"]["namespace"]
    excluded = namespace in ADDON_EXCLUDES[fixture.policy]
    # The label guardrail selects only pods of unlabelled namespaces: its pass fixture is one it never reaches.
    selected_out = fixture.policy == "require-pod-security-label" and namespace in NAMESPACES
    assert (excluded or selected_out) != any(r.policy == fixture.policy for r in results)
    assert [r for r in results if not r.passed] == []


@pytest.mark.parametrize(("profile", "fixture"), FAIL_BY_PROFILE, ids=FAIL_IDS)
def test_fail_fixture_fails_only_its_own_policy_with_its_message(profile: str, fixture: kc.Fixture) -> None:
    results = kc.evaluate(policies(profile), fixture.obj, namespaces=NAMESPACES, subresource=fixture.subresource)
    failed = [r for r in results if not r.passed]
    assert failed, "the fixture must fail"
    assert {r.policy for r in failed} == {fixture.policy}
    assert fixture.expected_message
    assert all(r.message.startswith(fixture.expected_message) for r in failed), [r.message for r in failed]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_cel_expression_fails_for_some_fail_fixture(profile: str) -> None:
    every = {
        (kc.guardrail(p), r["name"], i)
        for p in policies(profile)
        for r in kc.rule_view(p)
        for i in range(len(r["validate"]["cel"]["expressions"]))
    }
    failed = [
        r
        for f in FAIL
        for r in kc.evaluate(policies(profile), f.obj, namespaces=NAMESPACES, subresource=f.subresource)
        if not r.passed
    ]
    # An ephemeral copy holds its Pod rule's expressions (test_ephemeral_rules_copy_their_pod_rule): one fixture
    # through the subresource per guardrail shows the copies match it.
    seen = {(r.policy, r.base_rule.removesuffix(EPHEMERAL_SUFFIX), r.failed_expression) for r in failed}
    assert {(p, r.removesuffix(EPHEMERAL_SUFFIX), i) for p, r, i in every} == seen
    ephemeral = {r.policy for r in failed if r.base_rule.endswith(EPHEMERAL_SUFFIX)}
    assert ephemeral == {p for p, r, _ in every if r.endswith(EPHEMERAL_SUFFIX)}


@pytest.mark.parametrize(("profile", "fixture"), FAIL_BY_PROFILE, ids=FAIL_IDS)
def test_fail_fixture_is_skipped_in_system_namespaces(profile: str, fixture: kc.Fixture) -> None:
    for namespace in ("kube-system", "kyverno"):
        moved = yaml_load.safe_load(yaml.safe_dump(fixture.obj))
        moved["metadata"]["namespace"] = namespace
        assert kc.evaluate(policies(profile), moved, namespaces=NAMESPACES, subresource=fixture.subresource) == []


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_add_on_namespace_exclusion_is_honoured(profile: str) -> None:
    (fixture,) = [f for f in FAIL if f.path.stem == "pod-host-network"]
    moved = yaml_load.safe_load(yaml.safe_dump(fixture.obj))
    moved["metadata"]["namespace"] = "node-exporter"
    results = kc.evaluate(policies(profile), moved, namespaces=NAMESPACES)
    assert not any(r.policy == "disallow-host-access" for r in results)
    for namespace in ("monitoring", "argocd"):
        moved["metadata"]["namespace"] = namespace
        results = kc.evaluate(policies(profile), moved, namespaces=NAMESPACES)
        assert any(not r.passed and r.policy == "disallow-host-access" for r in results)


def _pod(image: str) -> dict[str, Any]:
    (fixture,) = [f for f in PASS if f.path.stem == "pod-unprivileged"]
    pod = yaml_load.safe_load(yaml.safe_dump(fixture.obj))
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
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_image_tag_rule_parses_registry_ports_and_digests(profile: str, image: str, pinned: bool) -> None:
    (result,) = kc.evaluate(_only(profile, "disallow-latest-tag"), _pod(image), namespaces=NAMESPACES)
    assert result.passed is pinned


@pytest.mark.parametrize(
    ("image", "allowed"),
    [
        ("busybox:1.36.1", True),  # docker.io/library/busybox
        ("docker.io/busybox:1.36.1", True),  # the same official image
        ("otel/opentelemetry-collector-contrib:0.114.0", True),  # docker.io/otel/...
        ("docker.io/library/redis:7.2", True),
        ("quay.io/prometheus/prometheus:v2.55.0", True),
        ("quay.io.attacker.example/app:1.0", False),
        ("localhost/app:1.0", False),
        ("gcr.io/distroless/static:nonroot", False),
        # Organisation-scoped: a registry the platform uses admits only the publishers it uses there.
        ("docker.io/attacker/app:1.0", False),
        ("attacker/app:1.0", False),
        ("ghcr.io/attacker/app:1.0", False),
        ("quay.io/attacker/app:1.0", False),
        ("public.ecr.aws/attacker/app:1.0", False),
        ("quay.io/argoprojx/argocd:v3.4.4", False),
        # Kyverno 1.19's default registry (its own images, and any chart that follows its default).
        ("reg.kyverno.io/kyverno/kyverno:v1.19.0", True),
        ("ecr-public.aws.com/docker/library/redis:8.2.3-alpine", True),  # Argo CD 3.4's redis
        ("ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib:0.158.0", True),
    ],
)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_registry_rule_normalises_docker_hub_short_names(profile: str, image: str, allowed: bool) -> None:
    (result,) = kc.evaluate(_only(profile, "restrict-image-registries"), _pod(image), namespaces=NAMESPACES)
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


def _cel_policy(variables: dict[str, str], expressions: list[str], kinds: tuple[str, ...] = ("Pod",)) -> dict[str, Any]:
    rule = {
        "name": "r",
        "match": {"any": [{"resources": {"kinds": list(kinds)}}]},
        "validate": {
            "message": "m",
            "cel": {
                "variables": [{"name": n, "expression": e} for n, e in variables.items()],
                "expressions": [{"expression": e} for e in expressions],
            },
        },
    }
    return {"kind": "ClusterPolicy", "metadata": {"name": "t"}, "spec": {"rules": [rule]}}


def test_a_variable_no_expression_names_is_not_evaluated_and_a_named_one_that_errors_is_reported() -> None:
    """Kyverno evaluates variables lazily; one that an expression names is evaluated even where CEL short-circuits."""
    pod = PASS[0].obj
    unnamed = _cel_policy({"broken": "object.spec.nope", "fine": "1"}, ["variables.fine == 1"])
    assert [r.passed for r in kc.evaluate([unnamed], pod)] == [True]
    for expressions in (["variables.broken == 1"], ["true || variables.broken == 1"], ["false", "variables.broken"]):
        with pytest.raises(kc.CelEvaluationError, match="nope"):
            kc.evaluate([_cel_policy({"broken": "object.spec.nope"}, expressions)], pod)
    # Any other use of `variables` reads all of them.
    with pytest.raises(kc.CelEvaluationError, match="nope"):
        kc.evaluate([_cel_policy({"broken": "object.spec.nope", "fine": "1"}, ["'fine' in variables"])], pod)


def test_an_object_evaluated_again_is_judged_by_its_new_namespace_and_subresource() -> None:
    pod = PASS[0].obj
    namespace = pod["metadata"]["namespace"]
    policy = _cel_policy({}, ["has(namespaceObject.metadata.labels) && 'x' in namespaceObject.metadata.labels"])
    subresource = _cel_policy({}, ["request.subResource == ''"], ("Pod", "Pod/ephemeralcontainers"))
    for _ in range(2):
        assert [r.passed for r in kc.evaluate([policy], pod, namespaces={namespace: {"x": "y"}})] == [True]
        assert [r.passed for r in kc.evaluate([policy], pod, namespaces={})] == [False]
        assert [r.passed for r in kc.evaluate([subresource], pod)] == [True]
        assert [r.passed for r in kc.evaluate([subresource], pod, subresource="ephemeralcontainers")] == [False]
        assert [
            r.passed
            for r in kc.evaluate(
                [policy], {**pod, "metadata": {**pod["metadata"], "namespace": "o"}}, namespaces={namespace: {"x": "y"}}
            )
        ] == [False]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_null_fields_are_absent_as_the_api_server_decodes_them(profile: str) -> None:
    """A rendered chart's `volumes: null` is no volume at all, not a CEL error."""
    (fixture,) = [f for f in PASS if f.path.stem == "pod-unprivileged"]
    pod = yaml_load.safe_load(yaml.safe_dump(fixture.obj))
    pod["spec"]["volumes"] = None
    pod["spec"]["containers"][0]["volumeMounts"] = None
    assert [r for r in kc.evaluate(policies(profile), pod, namespaces=NAMESPACES) if not r.passed] == []


def test_harness_uses_the_rule_message_when_an_expression_has_none() -> None:
    rule = {"validate": {"message": "fallback", "cel": {"expressions": [{"expression": "false"}]}}}
    assert kc.evaluate_rule(rule, PASS[0].obj) == (False, "fallback", 0)


# --- kustomize build and settings -------------------------------------------------------------------


def _replacement_targets(profile: str) -> list[tuple[str, str, str]]:
    """(settings key, policy object name, field path) for every replacement in a profile's kustomization."""
    targets = []
    for replacement in kustomization(profile)["replacements"]:
        key = replacement["source"]["fieldPath"].removeprefix("data.")
        for target in replacement["targets"]:
            assert target["options"] == {"delimiter": "'", "index": 1}
            assert target["select"]["kind"] == build_policies.KIND_BY_PROFILE[profile]
            targets += [(key, target["select"]["name"], path) for path in target["fieldPaths"]]
    return targets


def _field(policy: dict[str, Any], path: str) -> str:
    """The value at a kustomize fieldPath such as spec.rules.[name=r].validate.cel.variables.[name=v].expression."""
    node: Any = policy
    for part in path.split("."):
        if part.startswith("[name="):
            (node,) = [item for item in node if item["name"] == part.removeprefix("[name=").removesuffix("]")]
        else:
            node = node[part]
    return str(node)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_setting_is_wired_and_source_defaults_equal_the_settings(profile: str) -> None:
    targets = _replacement_targets(profile)
    assert {t[0] for t in targets} == set(SETTINGS["data"])
    by_name = {p["metadata"]["name"]: p for p in policies(profile)}
    for key, name, path in targets:
        assert _field(by_name[name], path) == f"'{SETTINGS['data'][key]}'"


def test_settings_values_are_safe_cel_string_literals() -> None:
    assert SETTINGS["metadata"]["annotations"]["config.kubernetes.io/local-config"] == "true"
    for key, value in SETTINGS["data"].items():
        assert "'" not in value and "\\" not in value and value.strip() == value, key
    for key in ("maxContainerCpuRequest", "maxContainerMemoryRequest", "maxPvcStorage"):
        kc.parse_quantity(SETTINGS["data"][key])
    assert all(r.endswith("/") for r in SETTINGS["data"]["allowedRegistries"].split(","))


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_kustomize_build_emits_exactly_the_policies_as_written(profile: str) -> None:
    built = kustomize_build(build_policies.out_dir(profile))
    kind = build_policies.KIND_BY_PROFILE[profile]
    assert [d["kind"] for d in built] == [kind] * len(policies(profile))  # settings.yaml is local-config
    assert {d["metadata"]["name"]: d for d in built} == {p["metadata"]["name"]: p for p in policies(profile)}


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_changed_settings_reach_the_cel_of_the_built_policies(profile: str, tmp_path: Path) -> None:
    work = tmp_path / "infra"
    shutil.copytree(POLICY_SOURCE, work / "policies")
    shutil.copytree(build_policies.out_dir(profile), work / "overlays" / profile / "policies")
    settings_file = work / "policies" / "settings" / "settings.yaml"
    settings = yaml_load.safe_load(settings_file.read_text())
    settings["data"].update(
        maxContainerCpuRequest="250m",
        allowedRegistries="public.ecr.aws/",
        acceleratorNamespaces="team-a,ml-workloads",
        maxPvcStorage="10Gi",
    )
    settings_file.write_text(yaml.safe_dump(settings))
    built = kustomize_build(work / "overlays" / profile / "policies")

    def failures(stem: str, policy: str) -> list[str]:
        (fixture,) = [f for f in FIXTURES if f.path.stem == stem]
        results = kc.evaluate(built, fixture.obj, namespaces=NAMESPACES)
        return [r.message for r in results if not r.passed and r.policy == policy]

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


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_kyverno_cli_test_file_covers_every_policy_fixture_and_result(profile: str) -> None:
    directory = build_policies.out_dir(profile)
    (test,) = load_yaml_documents(directory / "kyverno-test.yaml")
    assert (test["apiVersion"], test["kind"]) == ("cli.kyverno.io/v1alpha1", "Test")
    assert test["policies"] == [p.name for p in kc.policy_files(profile)]
    listed = sorted((directory / r).resolve() for r in test["resources"])
    assert listed == sorted(f.path for f in FIXTURES)
    assert test["results"] == kc.cli_test_results(policies(profile), FIXTURES)
    assert {r["result"] for r in test["results"]} == {"pass", "fail"}
    # The CLI names a ValidatingPolicy result by the policy alone (isValidatingPolicy, no rule).
    if build_policies.KIND_BY_PROFILE[profile] == "ValidatingPolicy":
        assert all(r["isValidatingPolicy"] is True and "rule" not in r for r in test["results"])
    else:
        assert all(r["rule"] for r in test["results"])


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_policy_exception_chart_keys_exist_in_the_profiles_kyverno(profile: str) -> None:
    from platform_checks.values import check_values

    values = {"features": {"policyExceptions": {"enabled": True, "namespace": "kyverno"}}}
    assert check_values("kyverno", values, profile=profile) == []
    readme = (POLICY_SOURCE / "README.md").read_text()
    for text in (
        "kyverno.io/v2beta1",
        "policies.kyverno.io/v1",
        "policyRefs",
        "features.policyExceptions.enabled: true",
        "features.policyExceptions.namespace: kyverno",
    ):
        assert text in readme


# --- Pod Security everywhere: namespace labels, every Baseline control, kubectl debug ----------------------------


def _enforced(profile: str) -> list[dict[str, Any]]:
    return [p for p in policies(profile) if kc.action(p) == "Enforce"]


def _planted(namespace: str = "team-a") -> dict[str, Any]:
    pod = _pod("public.ecr.aws/docker/library/nginx:1.27.3")
    pod["metadata"]["namespace"] = namespace
    return pod


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_a_pod_in_a_labelled_namespace_is_admitted_and_in_an_unlabelled_one_refused(profile: str) -> None:
    label = _only(profile, "require-pod-security-label")
    assert [r for r in kc.evaluate(label, _planted("team-a"), namespaces=NAMESPACES) if not r.passed] == []
    for namespace in ("default", "sandbox"):  # never labelled: `default`, and one created by hand
        (result,) = kc.evaluate(label, _planted(namespace), namespaces=NAMESPACES)
        assert not result.passed and result.message.startswith("The namespace needs a pod-security")
    # A label with any level counts; the level itself is Pod Security Admission's to enforce.
    labelled = {"sandbox": {"pod-security.kubernetes.io/enforce": "restricted"}}
    assert kc.evaluate(label, _planted("sandbox"), namespaces=labelled) == []


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_label_guardrails_written_exceptions_admit_their_unlabelled_namespaces(profile: str) -> None:
    (entry,) = [e for e in build_policies.load_definitions() if e["name"] == "require-pod-security-label"]
    for namespace in entry["excludeReasons"]:
        assert namespace not in NAMESPACES  # unlabelled here, admitted only by the exception
        assert kc.evaluate(_enforced(profile), _planted(namespace), namespaces=NAMESPACES) == []


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_label_guardrail_decides_on_the_namespace_object_too(profile: str) -> None:
    """The selector and the CEL agree: the expression reads namespaceObject's labels."""
    (policy,) = _only(profile, "require-pod-security-label")
    (rule,) = kc.rule_view(policy)
    pod = _planted("sandbox")
    unlabelled = kc.Request(namespace_labels={"kubernetes.io/metadata.name": "sandbox"})
    labelled = kc.Request(namespace_labels={"pod-security.kubernetes.io/enforce": "baseline"})
    assert kc.evaluate_rule(rule, pod, unlabelled)[0] is False
    assert kc.evaluate_rule(rule, pod, labelled)[0] is True


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_a_rule_selecting_namespaces_by_label_needs_their_labels(profile: str) -> None:
    with pytest.raises(ValueError, match="selects namespaces by label"):
        kc.evaluate(_only(profile, "require-pod-security-label"), _planted())


def _break(path: str, value: Any) -> Any:
    def apply(pod: dict[str, Any]) -> None:
        node = pod
        *parents, leaf = path.split(".")
        for key in parents:
            node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
        node[leaf] = value

    return apply


# Every Pod Security Baseline control, planted on an otherwise admitted pod: (control, how, the guardrail refusing it).
BASELINE_CONTROLS = [
    ("host-network", _break("spec.hostNetwork", True), "disallow-host-access"),
    ("host-pid", _break("spec.hostPID", True), "disallow-host-access"),
    ("host-ipc", _break("spec.hostIPC", True), "disallow-host-access"),
    ("host-path", _break("spec.volumes", [{"name": "h", "hostPath": {"path": "/"}}]), "disallow-host-access"),
    ("privileged", _break("spec.containers.0.securityContext.privileged", True), "disallow-privileged-containers"),
    (
        "capabilities",
        _break("spec.containers.0.securityContext.capabilities", {"add": ["NET_ADMIN"]}),
        "disallow-baseline-escalations",
    ),
    (
        "host-ports",
        _break("spec.containers.0.ports", [{"containerPort": 80, "hostPort": 80}]),
        "disallow-baseline-escalations",
    ),
    (
        "seccomp",
        _break("spec.securityContext.seccompProfile", {"type": "Unconfined"}),
        "disallow-baseline-escalations",
    ),
    (
        "apparmor",
        _break("spec.containers.0.securityContext.appArmorProfile", {"type": "Unconfined"}),
        "disallow-baseline-escalations",
    ),
    (
        "apparmor-annotation",
        _break("metadata.annotations", {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}),
        "disallow-baseline-escalations",
    ),
    ("proc-mount", _break("spec.containers.0.securityContext.procMount", "Unmasked"), "disallow-baseline-escalations"),
    (
        "sysctls",
        _break("spec.securityContext.sysctls", [{"name": "kernel.msgmax", "value": "1"}]),
        "disallow-baseline-escalations",
    ),
    (
        "selinux-type",
        _break("spec.securityContext.seLinuxOptions", {"type": "spc_t"}),
        "disallow-baseline-escalations",
    ),
    (
        "selinux-role",
        _break("spec.containers.0.securityContext.seLinuxOptions", {"role": "sysadm_r"}),
        "disallow-baseline-escalations",
    ),
]


@pytest.mark.parametrize(("control", "plant", "guardrail"), BASELINE_CONTROLS, ids=[c[0] for c in BASELINE_CONTROLS])
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_baseline_control_is_refused_by_an_enforced_guardrail(
    profile: str, control: str, plant: Any, guardrail: str
) -> None:
    pod = _planted()
    assert [r for r in kc.evaluate(_enforced(profile), pod, namespaces=NAMESPACES) if not r.passed] == []
    plant(pod)
    refused = {r.policy for r in kc.evaluate(_enforced(profile), pod, namespaces=NAMESPACES) if not r.passed}
    assert refused == {guardrail}
    # ...and the same control planted in a Deployment's template is refused through autogen.
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "planted", "namespace": "team-a"},
        "spec": {
            "selector": {"matchLabels": {"app": "planted"}},
            "template": {"metadata": {"labels": {"app": "planted"}, **pod["metadata"]}, "spec": pod["spec"]},
        },
    }
    deployment["spec"]["template"]["metadata"].pop("namespace")
    refused = {r.policy for r in kc.evaluate(_enforced(profile), deployment, namespaces=NAMESPACES) if not r.passed}
    assert refused == {guardrail}


def test_the_pss_reference_and_the_guardrails_know_the_same_baseline_controls() -> None:
    """platform_checks/pss.py (the render gate's Pod Security reference) breaks each planted pod too."""
    from platform_checks.pss import violations

    for control, plant, _guardrail in BASELINE_CONTROLS:
        pod = _planted()
        plant(pod)
        assert violations(pod["spec"], "baseline", pod["metadata"].get("annotations")), control


# Ephemeral containers (kubectl debug) can set every container-level control; the pod-level ones (host namespaces,
# volumes, sysctls, pod securityContext) cannot change through the subresource.
EPHEMERAL_CONTROLS = [
    ("privileged", {"privileged": True}, "disallow-privileged-containers"),
    ("capabilities", {"capabilities": {"add": ["SYS_ADMIN"]}}, "disallow-baseline-escalations"),
    ("seccomp", {"seccompProfile": {"type": "Unconfined"}}, "disallow-baseline-escalations"),
    ("proc-mount", {"procMount": "Unmasked"}, "disallow-baseline-escalations"),
    ("selinux", {"seLinuxOptions": {"type": "spc_t"}}, "disallow-baseline-escalations"),
]


@pytest.mark.parametrize(
    ("control", "context", "guardrail"), EPHEMERAL_CONTROLS, ids=[c[0] for c in EPHEMERAL_CONTROLS]
)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_kubectl_debug_cannot_add_an_ephemeral_container_past_the_baseline(
    profile: str, control: str, context: dict[str, Any], guardrail: str
) -> None:
    results = _debugged(profile, {"securityContext": context})
    assert {r.policy for r in results if not r.passed} == {guardrail}


def _debugged(profile: str, change: dict[str, Any]) -> list[kc.RuleResult]:
    """The enforced guardrails' results for a `kubectl debug` container added to a clean pod through the
    subresource, with `change` applied to it (the debugger as it is before the change is admitted)."""
    pod = _planted()
    debugger = {"name": "debugger", "image": "public.ecr.aws/docker/library/busybox:1.36.1"}
    pod["spec"]["ephemeralContainers"] = [debugger]
    through = {"namespaces": NAMESPACES, "subresource": "ephemeralcontainers"}
    assert [r for r in kc.evaluate(_enforced(profile), pod, **through) if not r.passed] == []
    debugger.update(change)
    results = kc.evaluate(_enforced(profile), pod, **through)
    # Only the ephemeral copies see the subresource; the Pod rules see only the pod itself.
    assert results and all(r.rule.endswith(EPHEMERAL_SUFFIX) for r in results)
    return results


# `kubectl debug --image=...`: the image guardrails judge the debugger's image through the subresource too.
EPHEMERAL_IMAGES = [
    ("latest tag", "public.ecr.aws/docker/library/busybox:latest", "disallow-latest-tag"),
    ("unlisted registry", "registry.example.com/tools/busybox:1.36.1", "restrict-image-registries"),
]


@pytest.mark.parametrize(("case", "image", "guardrail"), EPHEMERAL_IMAGES, ids=[c[0] for c in EPHEMERAL_IMAGES])
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_kubectl_debug_cannot_run_an_image_the_image_guardrails_refuse(
    profile: str, case: str, image: str, guardrail: str
) -> None:
    results = _debugged(profile, {"image": image})
    assert {r.policy for r in results if not r.passed} == {guardrail}, case


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_ephemeral_rules_copy_their_pod_rule_and_match_only_the_subresource(profile: str) -> None:
    for guardrail in ACTIONS:
        rules = {r["name"]: r for p in _only(profile, guardrail) for r in kc.rule_view(p)}
        for name, rule in rules.items():
            if not name.endswith(EPHEMERAL_SUFFIX):
                continue
            assert _kinds(rule) == [EPHEMERAL_KIND]
            original = rules[name.removesuffix(EPHEMERAL_SUFFIX)]
            assert _kinds(original) == ["Pod"]
            assert rule["validate"]["cel"] == original["validate"]["cel"]
    guardrails = {kc.guardrail(p) for p in policies(profile) for r in kc.rule_view(p) if EPHEMERAL_KIND in _kinds(r)}
    source = yaml_load.safe_load((POLICY_SOURCE / "guardrails.yaml").read_text())
    asked = {g["name"] for g in source if g.get("ephemeralContainers")}
    assert asked and guardrails == asked
    if build_policies.KIND_BY_PROFILE[profile] == "ValidatingPolicy":
        # Kyverno 1.19 autogen only for a policy on `pods` alone: the subresource needs policies of its own.
        for policy in policies(profile):
            (resource_rule,) = policy["spec"]["matchConstraints"]["resourceRules"]
            assert resource_rule["resources"] in (["pods"], ["pods/ephemeralcontainers"]) or "pods" not in str(
                resource_rule["resources"]
            )

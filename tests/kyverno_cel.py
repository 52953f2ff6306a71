"""Offline evaluator of the platform's Kyverno 1.12 validate.cel policies: match, exclude, autogen, CEL."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import celpy
from celpy import celtypes

from platform_checks import load_yaml_documents
from platform_checks.k8s_cel import CelEvaluationError, eval_cel
from platform_checks.quantity import parse_quantity

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "infra" / "policies"
FIXTURE_DIR = ROOT / "tests" / "fixtures" / "policies"

__all__ = ["CelEvaluationError", "eval_cel", "parse_quantity"]  # re-exported for the policy tests

# Kyverno 1.12 autogen (pkg/autogen): a rule that matches only Pod is copied for these controllers
# (rule "autogen-<name>") and for CronJob (rule "autogen-cronjob-<name>").
POD_CONTROLLERS = ("DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController")
POD_KINDS = frozenset((*POD_CONTROLLERS, "CronJob", "Pod"))


# ---------------------------------------------------------------------------------------------------
# Policies, autogen and matching.
# ---------------------------------------------------------------------------------------------------


def policy_files() -> list[Path]:
    """The ClusterPolicy files listed in infra/policies/kustomization.yaml, in its order."""
    kustomization = load_yaml_documents(POLICY_DIR / "kustomization.yaml")[0]
    files = [POLICY_DIR / name for name in kustomization["resources"]]
    return [f for f in files if load_yaml_documents(f)[0]["kind"] == "ClusterPolicy"]


def load_policies() -> list[dict[str, Any]]:
    return [load_yaml_documents(path)[0] for path in policy_files()]


def _descriptions(block: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not block:
        return []
    filters = [*block.get("any", []), *block.get("all", [])]
    return [f.get("resources", {}) for f in filters] + ([block["resources"]] if "resources" in block else [])


def _can_autogen(policy: dict[str, Any]) -> bool:
    """Kyverno's CanAutoGen: no names/selectors/annotations, no rule mixing Pod with other kinds."""
    needed = False
    for rule in policy["spec"]["rules"]:
        for desc in _descriptions(rule.get("match")) + _descriptions(rule.get("exclude")):
            kinds = desc.get("kinds", [])
            if desc.get("name") or desc.get("names") or desc.get("selector") or desc.get("annotations"):
                return False
            if len(kinds) > 1 and "Pod" in kinds:
                return False
            needed = needed or any(k in POD_KINDS for k in kinds)
    return needed


def _shift(rule: dict[str, Any], kind: str) -> dict[str, Any]:
    """Kyverno's updateCELFields: plain text replacement over the rule's JSON, in Kyverno's order."""
    text = json.dumps(rule)
    prefix = "spec.template" if kind == "Pod" else "spec.jobTemplate.spec.template"
    for old in ("object.spec", "oldObject.spec", "object.metadata", "oldObject.metadata"):
        root, field = old.split(".")
        text = text.replace(old, f"{root}.{prefix}.{field}")
    result: dict[str, Any] = json.loads(text)
    return result


def _retarget(rule: dict[str, Any], name: str, kinds: list[str], kind_from: str) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(rule))
    copy["name"] = name[:63]
    for block in ("match", "exclude"):
        for key in ("any", "all"):
            for entry in copy.get(block, {}).get(key, []):
                if kind_from in entry.get("resources", {}).get("kinds", []):
                    entry["resources"]["kinds"] = list(kinds)
    return copy


def effective_rules(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The policy's rules plus the autogen-* rules Kyverno 1.12 adds for Pod controllers."""
    rules: list[dict[str, Any]] = list(policy["spec"]["rules"])
    if not _can_autogen(policy):
        return rules
    generated = []
    for rule in rules:
        kinds = [k for d in _descriptions(rule.get("match")) for k in d.get("kinds", [])]
        if "Pod" not in kinds:
            continue
        controllers = _retarget(rule, "autogen-" + rule["name"], list(POD_CONTROLLERS), "Pod")
        cronjob = _retarget(controllers, "autogen-cronjob-" + rule["name"], ["CronJob"], "Job")
        generated += [_shift(controllers, "Pod"), _shift(cronjob, "Cronjob")]
    return rules + generated


def _kind_matches(kinds: Iterable[str], obj: dict[str, Any]) -> bool:
    return obj["kind"] in kinds or "*" in kinds


def _desc_matches(desc: dict[str, Any], obj: dict[str, Any]) -> bool:
    if "kinds" in desc and not _kind_matches(desc["kinds"], obj):
        return False
    namespace = obj.get("metadata", {}).get("namespace", "")
    return not ("namespaces" in desc and namespace not in desc["namespaces"])


def _block_matches(block: dict[str, Any], obj: dict[str, Any]) -> bool:
    if "any" in block:
        return any(_desc_matches(f.get("resources", {}), obj) for f in block["any"])
    if "all" in block:
        return all(_desc_matches(f.get("resources", {}), obj) for f in block["all"])
    return _desc_matches(block.get("resources", {}), obj)


def rule_applies(rule: dict[str, Any], obj: dict[str, Any]) -> bool:
    """match selects the object and no exclude filter does (namespaces and kinds, as Kyverno)."""
    if not _block_matches(rule["match"], obj):
        return False
    exclude = rule.get("exclude")
    return not (exclude and _block_matches(exclude, obj))


@dataclass(frozen=True)
class RuleResult:
    policy: str
    rule: str
    action: str
    passed: bool
    message: str
    failed_expression: int  # index into validate.cel.expressions, -1 when the rule passed

    @property
    def base_rule(self) -> str:
        """The policy's own rule name behind an autogen-* rule."""
        for prefix in ("autogen-cronjob-", "autogen-"):
            if self.rule.startswith(prefix):
                return self.rule.removeprefix(prefix)
        return self.rule


def evaluate_rule(rule: dict[str, Any], obj: dict[str, Any]) -> tuple[bool, str, int]:
    """Evaluate a rule's variables then expressions in order; first false expression gives the message."""
    cel = rule["validate"]["cel"]
    namespace = obj.get("metadata", {}).get("namespace", "")
    activation: dict[str, Any] = {
        "object": celpy.json_to_cel(obj),
        "request": celpy.json_to_cel(
            {
                "operation": "CREATE",
                "namespace": namespace,
                "name": obj.get("metadata", {}).get("name", ""),
                "kind": {"kind": obj["kind"]},
            }
        ),
        "namespaceObject": celpy.json_to_cel({"metadata": {"name": namespace}}),
    }
    variables: dict[str, Any] = {}
    for variable in cel.get("variables", []):
        activation["variables"] = celtypes.MapType(variables)
        variables[celtypes.StringType(variable["name"])] = eval_cel(variable["expression"], activation)
    activation["variables"] = celtypes.MapType(variables)
    for index, check in enumerate(cel["expressions"]):
        result = eval_cel(check["expression"], activation)
        if not isinstance(result, celtypes.BoolType):
            raise CelEvaluationError(f"{check['expression']!r} returned {result!r}, not a bool")
        if not result:
            message = check.get("message") or rule["validate"].get("message", "")
            if "messageExpression" in check:
                message = str(eval_cel(check["messageExpression"], activation))
            return False, message, index
    return True, "", -1


def evaluate(policies: list[dict[str, Any]], obj: dict[str, Any]) -> list[RuleResult]:
    """Every applicable rule (autogen included) of every policy, evaluated against obj."""
    results = []
    for policy in policies:
        action = policy["spec"].get("validationFailureAction", "Audit")
        for rule in effective_rules(policy):
            if rule_applies(rule, obj):
                passed, message, index = evaluate_rule(rule, obj)
                name = policy["metadata"]["name"]
                results.append(RuleResult(name, rule["name"], action, passed, message, index))
    return results


# ---------------------------------------------------------------------------------------------------
# Fixtures and the Kyverno CLI test file derived from them.
# ---------------------------------------------------------------------------------------------------

EXPECT_ANNOTATION = "policy-fixtures.eks-platform.io/expect-message"


@dataclass(frozen=True)
class Fixture:
    policy: str  # the policy directory the fixture belongs to
    outcome: str  # "pass" or "fail"
    path: Path
    obj: dict[str, Any]

    @property
    def expected_message(self) -> str:
        return str(self.obj["metadata"].get("annotations", {}).get(EXPECT_ANNOTATION, ""))


def load_fixtures() -> list[Fixture]:
    """tests/fixtures/policies/<policy>/<pass|fail>/*.yaml, one object per file."""
    fixtures = []
    for path in sorted(FIXTURE_DIR.glob("*/*/*.yaml")):
        (obj,) = load_yaml_documents(path)
        fixtures.append(Fixture(path.parent.parent.name, path.parent.name, path, obj))
    return fixtures


def cli_test_results(policies: list[dict[str, Any]], fixtures: list[Fixture]) -> list[dict[str, Any]]:
    """kyverno-test.yaml results: every rule of a fixture's own policy that applies to it, pass or fail."""
    grouped: dict[tuple[str, str, str, str], list[str]] = {}
    for fixture in fixtures:
        own = [p for p in policies if p["metadata"]["name"] == fixture.policy]
        for result in evaluate(own, fixture.obj):
            key = (result.policy, result.rule, fixture.obj["kind"], "pass" if result.passed else "fail")
            grouped.setdefault(key, []).append(fixture.obj["metadata"]["name"])
    return [
        {"policy": p, "rule": r, "kind": k, "result": res, "resources": sorted(names)}
        for (p, r, k, res), names in sorted(grouped.items())
    ]

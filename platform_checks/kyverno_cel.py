"""Offline evaluator of the guardrails in both kinds (Kyverno 1.12 ClusterPolicy CEL rules, Kyverno 1.19
ValidatingPolicy): match (kinds and subresources), namespace exclusion and namespace label selectors, autogen for
Pod controllers, CEL with the namespace object."""

from __future__ import annotations

import copy
import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import celpy
from celpy import celtypes

from platform_checks import load_yaml_documents
from platform_checks.k8s_cel import CelEvaluationError, eval_cel
from platform_checks.quantity import parse_quantity
from platform_checks.wiring import selector_matches
from platform_config.guardrails import GUARDRAIL, GUARDRAIL_RULE, RESOURCES, out_dir

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_DIR = ROOT / "tests" / "fixtures" / "policies"

# Kyverno 1.12 autogen (pkg/autogen): a rule that matches only Pod is copied for these controllers
# (rule "autogen-<name>") and for CronJob (rule "autogen-cronjob-<name>").
POD_CONTROLLERS = ("DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController")
POD_KINDS = frozenset((*POD_CONTROLLERS, "CronJob", "Pod"))
# Kyverno 1.19 ValidatingPolicy autogen (pkg/cel/autogen, data.go): no ReplicationController.
VPOL_CONTROLLERS = ("DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet")
KIND_OF_RESOURCE = {(group, version, resource): kind for kind, (group, version, resource) in RESOURCES.items()}
NAME_LABEL = "kubernetes.io/metadata.name"
# Namespace labels by namespace name: what a namespaceSelector and namespaceObject see.
Namespaces = Mapping[str, Mapping[str, str]]


def base_kind(kind: str) -> str:
    """Kyverno's ContainsKind: `Pod/ephemeralcontainers` is kind Pod (subresource ephemeralcontainers)."""
    return kind.split("/", 1)[0]


def namespace_labels(objects: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """The labels of every Namespace among objects, by name."""
    return {
        str(o["metadata"]["name"]): dict(o["metadata"].get("labels") or {})
        for o in objects
        if o.get("kind") == "Namespace"
    }


# The Kubernetes CEL environment (quantity, regex and strings libraries) is platform_checks.k8s_cel, shared with
# the CRD-rule evaluator of the render gate.
__all__ = ["CelEvaluationError", "eval_cel", "parse_quantity"]


# ---------------------------------------------------------------------------------------------------
# Policies, autogen and matching.
# ---------------------------------------------------------------------------------------------------


def policy_files(profile: str) -> list[Path]:
    """The policy files a profile's generated kustomization lists, in its order."""
    directory = out_dir(profile)
    kustomization = load_yaml_documents(directory / "kustomization.yaml")[0]
    return [directory / name for name in kustomization["resources"] if name.endswith(".yaml")]


def load_policies(profile: str) -> list[dict[str, Any]]:
    return [load_yaml_documents(path)[0] for path in policy_files(profile)]


def guardrail(policy: dict[str, Any]) -> str:
    """The guardrail (definition name) a policy object implements: a ValidatingPolicy names it."""
    return str(policy["metadata"].get("annotations", {}).get(GUARDRAIL, policy["metadata"]["name"]))


def rule_view(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """A policy's rules in the ClusterPolicy shape (match kinds, excluded namespaces, validate.cel);
    a ValidatingPolicy is one rule named by its guardrail-rule annotation."""
    if policy["kind"] == "ClusterPolicy":
        return list(policy["spec"]["rules"])
    spec = policy["spec"]
    constraints = spec["matchConstraints"]
    kinds = [
        KIND_OF_RESOURCE[(group, version, resource)]
        for rr in constraints["resourceRules"]
        for group in rr["apiGroups"]
        for version in rr["apiVersions"]
        for resource in rr["resources"]
    ]
    expressions = constraints.get("namespaceSelector", {}).get("matchExpressions", [])
    by_name = [e for e in expressions if e["key"] == NAME_LABEL and e["operator"] == "NotIn"]
    excluded = [value for expr in by_name for value in expr["values"]]
    resources: dict[str, Any] = {"kinds": kinds}
    if len(by_name) < len(expressions):
        resources["namespaceSelector"] = {"matchExpressions": [e for e in expressions if e not in by_name]}
    rule: dict[str, Any] = {
        "name": policy["metadata"]["annotations"].get(GUARDRAIL_RULE, policy["metadata"]["name"]),
        "match": {"any": [{"resources": resources}]},
        "validate": {
            "message": "",
            "cel": {"variables": list(spec.get("variables", [])), "expressions": list(spec["validations"])},
        },
    }
    if excluded:
        rule["exclude"] = {"any": [{"resources": {"namespaces": excluded}}]}
    return [rule]


def action(policy: dict[str, Any]) -> str:
    """Enforce or Audit, from either kind."""
    if policy["kind"] == "ClusterPolicy":
        return str(policy["spec"].get("validationFailureAction", "Audit"))
    return "Enforce" if "Deny" in policy["spec"]["validationActions"] else "Audit"


def _descriptions(block: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not block:
        return []
    filters = [*block.get("any", []), *block.get("all", [])]
    return [f.get("resources", {}) for f in filters] + ([block["resources"]] if "resources" in block else [])


def _can_autogen(policy: dict[str, Any]) -> bool:
    """Kyverno's CanAutoGen: no names/selectors/annotations, no rule mixing Pod with other kinds (1.12);
    exactly one resource rule, core/v1 pods, no object selector or excluded resources (1.19)."""
    if policy["kind"] == "ValidatingPolicy":
        constraints = policy["spec"]["matchConstraints"]
        rules = constraints["resourceRules"]
        return (
            len(rules) == 1
            and (rules[0]["apiGroups"], rules[0]["apiVersions"], rules[0]["resources"]) == ([""], ["v1"], ["pods"])
            and not rules[0].get("resourceNames")
            and not constraints.get("excludeResourceRules")
            and not constraints.get("objectSelector")
        )
    needed = False
    for rule in policy["spec"]["rules"]:
        for desc in _descriptions(rule.get("match")) + _descriptions(rule.get("exclude")):
            kinds = desc.get("kinds", [])
            if desc.get("name") or desc.get("names") or desc.get("selector") or desc.get("annotations"):
                return False
            if len(kinds) > 1 and "Pod" in map(base_kind, kinds):
                return False
            needed = needed or any(k in POD_KINDS for k in kinds)
    return needed


def _shift(rule: dict[str, Any], kind: str, protect_namespace: bool = False) -> dict[str, Any]:
    """Kyverno's updateCELFields (1.12) / autogen.Apply (1.19): plain text replacement over the rule's JSON,
    in Kyverno's order; 1.19 leaves `object.metadata.namespace` alone (its protected suffix)."""
    text = json.dumps(rule)
    prefix = "spec.template" if kind == "Pod" else "spec.jobTemplate.spec.template"
    for old in ("object.spec", "oldObject.spec", "object.metadata", "oldObject.metadata"):
        root, field = old.split(".")
        pattern = re.escape(old) + (r"(?!\.namespace(?![A-Za-z0-9_]))" if protect_namespace else "")
        text = re.sub(pattern, f"{root}.{prefix}.{field}", text)
    result: dict[str, Any] = json.loads(text)
    return result


def _retarget(rule: dict[str, Any], name: str, kinds: list[str], kind_from: str) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(rule))
    copy["name"] = name[:63]
    for block in ("match", "exclude"):
        for key in ("any", "all"):
            for entry in copy.get(block, {}).get(key, []):
                if kind_from in map(base_kind, entry.get("resources", {}).get("kinds", [])):
                    entry["resources"]["kinds"] = list(kinds)
    return copy


def effective_rules(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The policy's rules plus the autogen-* rules Kyverno adds for Pod controllers."""
    rules = rule_view(policy)
    if not _can_autogen(policy):
        return rules
    vpol = policy["kind"] == "ValidatingPolicy"
    generated = []
    for rule in rules:
        # Kyverno 1.12 copies a rule on the ephemeralcontainers subresource too (ContainsKind sees kind Pod).
        kinds = [base_kind(k) for d in _descriptions(rule.get("match")) for k in d.get("kinds", [])]
        if "Pod" not in kinds:
            continue
        controllers = _retarget(
            rule, "autogen-" + rule["name"], list(VPOL_CONTROLLERS if vpol else POD_CONTROLLERS), "Pod"
        )
        cronjob = _retarget(controllers, "autogen-cronjob-" + rule["name"], ["CronJob"], "Job")
        generated += [_shift(controllers, "Pod", vpol), _shift(cronjob, "Cronjob", vpol)]
    return rules + generated


@dataclass(frozen=True)
class Request:
    """What admission sees besides the object: the subresource written ("" for the resource itself) and the labels
    of the object's namespace (None: not known, and a rule that selects namespaces by label cannot be decided)."""

    subresource: str = ""
    namespace_labels: Mapping[str, str] | None = None


def _kind_matches(kinds: Iterable[str], obj: dict[str, Any], request: Request) -> bool:
    """A kind without a subresource matches only the resource itself, `Kind/sub` only that subresource."""
    wanted = obj["kind"] + (f"/{request.subresource}" if request.subresource else "")
    return wanted in kinds or "*" in kinds


def _desc_matches(desc: dict[str, Any], obj: dict[str, Any], request: Request) -> bool:
    if "kinds" in desc and not _kind_matches(desc["kinds"], obj, request):
        return False
    namespace = obj.get("metadata", {}).get("namespace", "")
    if "namespaces" in desc and namespace not in desc["namespaces"]:
        return False
    if "namespaceSelector" in desc:
        if request.namespace_labels is None:
            raise ValueError(f"{obj['kind']} in {namespace!r}: a rule selects namespaces by label; pass their labels")
        return selector_matches(desc["namespaceSelector"], request.namespace_labels)
    return True


def _block_matches(block: dict[str, Any], obj: dict[str, Any], request: Request) -> bool:
    if "any" in block:
        return any(_desc_matches(f.get("resources", {}), obj, request) for f in block["any"])
    if "all" in block:
        return all(_desc_matches(f.get("resources", {}), obj, request) for f in block["all"])
    return _desc_matches(block.get("resources", {}), obj, request)


def rule_applies(rule: dict[str, Any], obj: dict[str, Any], request: Request | None = None) -> bool:
    """match selects the object and no exclude filter does (kinds, subresources, namespaces, as Kyverno)."""
    request = request or Request()
    if not _block_matches(rule["match"], obj, request):
        return False
    exclude = rule.get("exclude")
    return not (exclude and _block_matches(exclude, obj, request))


@dataclass(frozen=True)
class RuleResult:
    policy: str  # the guardrail (ClusterPolicy name, or a ValidatingPolicy's guardrail annotation)
    rule: str
    action: str
    passed: bool
    message: str
    failed_expression: int  # index into validate.cel.expressions, -1 when the rule passed
    policy_object: str = ""  # metadata.name of the policy object (a ValidatingPolicy's own name)

    @property
    def base_rule(self) -> str:
        """The policy's own rule name behind an autogen-* rule."""
        for prefix in ("autogen-cronjob-", "autogen-"):
            if self.rule.startswith(prefix):
                return self.rule.removeprefix(prefix)
        return self.rule


# `variables.<name>` (not a call on the map); any other use of `variables` reads the whole map.
_VARIABLE_USE = re.compile(r"\bvariables\b(?:\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_]|\s*\())?")


def _reads(expression: str) -> frozenset[str] | None:
    """The variable names an expression reads (a superset: comments and strings count too); None: all of them."""
    names = set()
    for use in _VARIABLE_USE.finditer(expression):
        if use.group(1) is None:
            return None
        names.add(use.group(1))
    return frozenset(names)


# What a CEL expression's value depends on besides the object under admission: its text and, for each variable
# it reads, the name and that variable's own key.
ValueKey = tuple[str, tuple[tuple[str, Any], ...]]


@dataclass(frozen=True)
class _Read:
    """An expression with the variables (indices into the rule's variables) its evaluation gets, and its value key."""

    expression: str
    variables: tuple[int, ...]
    key: ValueKey


class _Plan:
    """What each variable and expression of a rule's validate.cel reads: variable i sees the variables before it, an
    expression all of them; a name defined twice is its last definition (at its first one's place, a dict update)."""

    def __init__(self, rule: dict[str, Any]) -> None:
        self.cel = rule["validate"]["cel"]
        self.visible: dict[str, int] = {}
        self.variables: list[tuple[str, _Read]] = []
        for variable in self.cel.get("variables", []):
            self.variables.append((variable["name"], self._read(variable["expression"])))
            self.visible[variable["name"]] = len(self.variables) - 1
        self.reads: dict[str, _Read] = {}
        # The variables the rule's expressions name, with the variables those name in turn, in definition order.
        named = {
            i
            for check in self.cel.get("expressions", [])
            for text in (check.get("expression"), check.get("messageExpression"))
            if isinstance(text, str)
            for i in self.read(text).variables
        }
        for i in reversed(range(len(self.variables))):
            if i in named:
                named.update(self.variables[i][1].variables)
        self.named = sorted(named)

    def _read(self, expression: str) -> _Read:
        names = _reads(expression)
        indices = tuple(i for name, i in self.visible.items() if names is None or name in names)
        key = (expression, tuple((self.variables[i][0], self.variables[i][1].key) for i in indices))
        return _Read(expression, indices, key)

    def read(self, expression: str) -> _Read:
        """An expression of the rule (it sees every variable)."""
        if expression not in self.reads:
            self.reads[expression] = self._read(expression)
        return self.reads[expression]


class _Admission:
    """One object under admission: its CEL activation, converted once, and the value of every expression evaluated
    against it by value key (the same expression reading the same variable definitions has the same value)."""

    def __init__(self, obj: dict[str, Any], request: Request) -> None:
        namespace = obj.get("metadata", {}).get("namespace", "")
        namespace_meta: dict[str, Any] = {"name": namespace}
        if request.namespace_labels:
            namespace_meta["labels"] = dict(request.namespace_labels)
        self.activation: dict[str, Any] = {
            "object": celpy.json_to_cel(obj),
            "request": celpy.json_to_cel(
                {
                    # A subresource (kubectl debug's ephemeralcontainers) is written by an UPDATE of an existing pod.
                    "operation": "UPDATE" if request.subresource else "CREATE",
                    "namespace": namespace,
                    "name": obj.get("metadata", {}).get("name", ""),
                    "kind": {"kind": obj["kind"]},
                    "subResource": request.subresource,
                }
            ),
            "namespaceObject": celpy.json_to_cel({"metadata": namespace_meta}),
        }
        self.values: dict[ValueKey, Any] = {}

    def value(self, read: _Read, variables: list[tuple[str, _Read]]) -> Any:
        """The expression's value, evaluating first (at most once per admission) each variable it names."""
        if read.key not in self.values:
            reads = celtypes.MapType(
                {celtypes.StringType(variables[i][0]): self.value(variables[i][1], variables) for i in read.variables}
            )
            self.values[read.key] = eval_cel(read.expression, {**self.activation, "variables": reads})
        return self.values[read.key]


def _evaluate_plan(rule: dict[str, Any], plan: _Plan, admission: _Admission) -> tuple[bool, str, int]:
    """As in Kyverno, a variable that no expression of the rule names is never evaluated (its error does not count).
    Every named one is evaluated first, in definition order: the first that errors makes the rule error, even where
    the expression naming it is not reached or short-circuits past it."""
    for i in plan.named:
        admission.value(plan.variables[i][1], plan.variables)
    for index, check in enumerate(plan.cel["expressions"]):
        result = admission.value(plan.read(check["expression"]), plan.variables)
        if not isinstance(result, celtypes.BoolType):
            raise CelEvaluationError(f"{check['expression']!r} returned {result!r}, not a bool")
        if not result:
            message = check.get("message") or rule["validate"].get("message", "")
            if "messageExpression" in check:
                message = str(admission.value(plan.read(check["messageExpression"]), plan.variables))
            return False, message, index
    return True, "", -1


def evaluate_rule(rule: dict[str, Any], obj: dict[str, Any], request: Request | None = None) -> tuple[bool, str, int]:
    """Evaluate the variables the rule's expressions name, then its expressions in order; the first false expression
    gives the message."""
    return _evaluate_plan(rule, _Plan(rule), _Admission(obj, request or Request()))


def without_nulls(value: Any) -> Any:
    """The object as admission sees it: the API server decodes `field: null` as an absent field (a rendered
    chart often has `volumes: null`), so CEL's has() is false for it rather than a null to iterate."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


class _PolicyPlan:
    """A policy's effective rules (a private copy), each with its plan once it applied to an object."""

    def __init__(self, policy: dict[str, Any]) -> None:
        self.rules = copy.deepcopy(effective_rules(policy))
        self.plans: dict[int, _Plan] = {}

    def plan(self, index: int) -> _Plan:
        if index not in self.plans:
            self.plans[index] = _Plan(self.rules[index])
        return self.plans[index]


# Policy plans by repr(policy) (repr tells apart every value YAML loads: 1, "1", 1.0, True); a process's policies
# are few, the bound only keeps a generator of policy variants from growing it.
_POLICY_PLANS: dict[str, _PolicyPlan] = {}


def _policy_plan(policy: dict[str, Any]) -> _PolicyPlan:
    key = repr(policy)
    if key not in _POLICY_PLANS:
        if len(_POLICY_PLANS) >= 1024:
            _POLICY_PLANS.clear()
        _POLICY_PLANS[key] = _PolicyPlan(policy)
    return _POLICY_PLANS[key]


# Admissions by repr(object) and request, most recently used last: the suite evaluates one fixture or rendered object
# against several policy lists, and a value depends only on its key and the admission (CEL values are immutable).
_ADMISSIONS: OrderedDict[tuple[str, str], _Admission] = OrderedDict()
_ADMISSIONS_KEPT = 256


def _admission(obj: dict[str, Any], request: Request) -> _Admission:
    key = (repr(obj), repr(request))
    if key in _ADMISSIONS:
        _ADMISSIONS.move_to_end(key)
    else:
        _ADMISSIONS[key] = _Admission(obj, request)
        if len(_ADMISSIONS) > _ADMISSIONS_KEPT:
            _ADMISSIONS.popitem(last=False)
    return _ADMISSIONS[key]


def evaluate(
    policies: list[dict[str, Any]],
    obj: dict[str, Any],
    *,
    namespaces: Namespaces | None = None,
    subresource: str = "",
) -> list[RuleResult]:
    """Every applicable rule (autogen included) of every policy, evaluated against obj as admission sees it: written
    through `subresource` ("" for the object itself), in a namespace whose labels `namespaces` holds (None: unknown;
    a namespace it does not list has only its name label, as an unlabelled namespace)."""
    obj = without_nulls(obj)
    namespace = obj.get("metadata", {}).get("namespace", "")
    labels = None if namespaces is None else {**namespaces.get(namespace, {}), NAME_LABEL: namespace}
    request = Request(subresource, labels)
    admission: _Admission | None = None  # built at the first rule that applies
    results = []
    for policy in policies:
        plan = _policy_plan(policy)
        for rule_index, rule in enumerate(plan.rules):
            if rule_applies(rule, obj, request):
                admission = admission or _admission(obj, request)
                passed, message, index = _evaluate_plan(rule, plan.plan(rule_index), admission)
                results.append(
                    RuleResult(
                        guardrail(policy),
                        rule["name"],
                        action(policy),
                        passed,
                        message,
                        index,
                        policy["metadata"]["name"],
                    )
                )
    return results


# ---------------------------------------------------------------------------------------------------
# Fixtures and the Kyverno CLI test file derived from them.
# ---------------------------------------------------------------------------------------------------

EXPECT_ANNOTATION = "policy-fixtures.eks-platform.io/expect-message"
# A fixture written through a subresource (kubectl debug: ephemeralcontainers) names it here.
SUBRESOURCE_ANNOTATION = "policy-fixtures.eks-platform.io/subresource"
# The namespaces the fixtures run in, with their labels (a namespace not listed there is unlabelled).
NAMESPACE_FIXTURES = FIXTURE_DIR / "namespaces.yaml"


def fixture_namespaces() -> dict[str, dict[str, str]]:
    return namespace_labels(load_yaml_documents(NAMESPACE_FIXTURES))


@dataclass(frozen=True)
class Fixture:
    policy: str  # the policy directory the fixture belongs to
    outcome: str  # "pass" or "fail"
    path: Path
    obj: dict[str, Any]

    @property
    def expected_message(self) -> str:
        return str(self.obj["metadata"].get("annotations", {}).get(EXPECT_ANNOTATION, ""))

    @property
    def subresource(self) -> str:
        return str(self.obj["metadata"].get("annotations", {}).get(SUBRESOURCE_ANNOTATION, ""))


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
    vpol = bool(policies) and policies[0]["kind"] == "ValidatingPolicy"
    # The CLI applies each fixture as a resource (never through a subresource), with the fixture namespaces'
    # labels (kyverno-values.yaml).
    namespaces = fixture_namespaces()
    for fixture in fixtures:
        own = [p for p in policies if guardrail(p) == fixture.policy]
        for result in evaluate(own, fixture.obj, namespaces=namespaces):
            # The CLI reports a ValidatingPolicy by its name alone (it has no rules).
            rule = "" if vpol else result.rule
            key = (result.policy_object, rule, fixture.obj["kind"], "pass" if result.passed else "fail")
            names = grouped.setdefault(key, [])
            if fixture.obj["metadata"]["name"] not in names:
                names.append(fixture.obj["metadata"]["name"])
    if vpol:
        return [
            {"isValidatingPolicy": True, "kind": k, "policy": p, "resources": sorted(names), "result": res}
            for (p, _, k, res), names in sorted(grouped.items())
        ]
    return [
        {"policy": p, "rule": r, "kind": k, "result": res, "resources": sorted(names)}
        for (p, r, k, res), names in sorted(grouped.items())
    ]

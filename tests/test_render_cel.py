"""Our own custom resources pass the CEL rules (x-kubernetes-validations) of the CRDs the render ships, evaluated as
the API server does on create, with the Kubernetes CEL library functions those rules call."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from celpy import celtypes

from platform_checks.crd_rules import (
    apply_defaults,
    cel_errors,
    functions_called,
    is_transition_rule,
    rules_at,
    unsupported_functions,
)
from platform_checks.k8s_cel import CEL_FUNCTIONS, eval_cel
from platform_checks.platform_render import PlatformRender

OUR_KINDS = {"NodePool", "EC2NodeClass", "Application", "AppProject"}
POLICY_KINDS = {"ClusterPolicy", "ValidatingPolicy"}  # Kyverno 1.12 (seed) or 1.19 (current) guardrails


def own_resources(render: PlatformRender) -> list[dict[str, Any]]:
    """Custom resources we write ourselves: the CDK manifests and the GitOps content (not the charts' own)."""
    return [o for o in render.manifests + render.gitops if render.schema_for(o) is not None]


def node_pool(render: PlatformRender, name: str) -> dict[str, Any]:
    return copy.deepcopy(next(o for o in render.manifests if o["kind"] == "NodePool" and o["metadata"]["name"] == name))


def errors_of(render: PlatformRender, obj: dict[str, Any]) -> list[str]:
    schema = render.schema_for(obj)
    assert schema is not None, f"no CRD for {obj['apiVersion']} {obj['kind']}"
    return cel_errors(schema, obj)


def test_our_custom_resources_pass_their_crds_cel_rules(platform_render: PlatformRender) -> None:
    resources = own_resources(platform_render)
    kinds = {o["kind"] for o in resources}
    assert kinds >= OUR_KINDS and kinds & POLICY_KINDS
    assert [e for o in resources for e in errors_of(platform_render, o)] == []


@pytest.mark.parametrize("kind", ["NodePool", "EC2NodeClass"])
def test_karpenter_rules_are_really_evaluated(platform_render: PlatformRender, kind: str) -> None:
    obj = next(o for o in own_resources(platform_render) if o["kind"] == kind)
    schema = platform_render.schema_for(obj)
    assert schema is not None
    evaluated = [r for _p, r, _v in rules_at(schema, apply_defaults(schema, obj)) if not is_transition_rule(r)]
    assert len(evaluated) >= 10


def test_every_function_the_rules_of_our_kinds_call_is_implemented(platform_render: PlatformRender) -> None:
    called: set[str] = set()
    missing: set[str] = set()
    for crd in platform_render.crds.values():
        if crd.kind not in OUR_KINDS | POLICY_KINDS:
            continue
        for _path, rule, _value in rules_at(crd.schema, _everything(crd.schema)):
            called |= functions_called(rule["rule"])
            missing |= unsupported_functions(rule["rule"])
    assert missing == set()
    # Not vacuous: the walk reached rules that call functions (Karpenter's rules use has() and self.all()).
    assert {"has", "all"} <= called, sorted(called)


def _everything(schema: dict[str, Any]) -> Any:
    """A value shaped so that rules_at visits every schema node (one item per list, one key per map)."""
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return [_everything(schema["items"])]
    if "properties" in schema or isinstance(schema.get("additionalProperties"), dict):
        out = {name: _everything(sub) for name, sub in (schema.get("properties") or {}).items()}
        if isinstance(schema.get("additionalProperties"), dict):
            out["k"] = _everything(schema["additionalProperties"])
        return out
    return "x"


def test_a_node_pool_requiring_the_hostname_label_breaks_a_cel_rule(platform_render: PlatformRender) -> None:
    pool = node_pool(platform_render, "spot")
    pool["spec"]["template"]["spec"]["requirements"].append(
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-1"]}
    )
    errors = errors_of(platform_render, pool)
    assert errors and all(e.startswith("NodePool/spot: spec.template.spec.requirements") for e in errors)
    assert any("hostname" in e for e in errors)


def test_a_node_pool_with_an_empty_in_requirement_breaks_a_cel_rule(platform_render: PlatformRender) -> None:
    pool = node_pool(platform_render, "on-demand")
    pool["spec"]["template"]["spec"]["requirements"][0]["values"] = []
    assert any("requirements" in e for e in errors_of(platform_render, pool))


def test_an_ec2_node_class_with_an_unknown_ami_alias_family_breaks_a_cel_rule(platform_render: PlatformRender) -> None:
    node_class = copy.deepcopy(next(o for o in platform_render.manifests if o["kind"] == "EC2NodeClass"))
    node_class["spec"]["amiSelectorTerms"] = [{"alias": "ubuntu@latest"}]
    assert any("amiSelectorTerms" in e for e in errors_of(platform_render, node_class))


def test_transition_rules_are_not_evaluated_on_create() -> None:
    schema = {"type": "object", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "immutable"}]}
    assert cel_errors(schema, {"kind": "X", "metadata": {"name": "a"}}) == []
    assert is_transition_rule({"rule": "self.a == oldSelf.a"})
    assert not is_transition_rule({"rule": "self.a == oldSelf.a", "optionalOldSelf": True})


def test_defaults_are_applied_before_rules() -> None:
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"policy": {"type": "string", "default": "A"}}}},
        "x-kubernetes-validations": [{"rule": "self.spec.policy == 'B'", "message": "policy must be B"}],
    }
    assert cel_errors(schema, {"kind": "X", "metadata": {"name": "a"}, "spec": {}}) == ["X/a: (root): policy must be B"]
    assert cel_errors(schema, {"kind": "X", "metadata": {"name": "a"}, "spec": {"policy": "B"}}) == []


def test_a_rule_calling_an_unknown_function_is_an_error_not_a_pass() -> None:
    schema = {"type": "object", "x-kubernetes-validations": [{"rule": "self.frobnicate()"}]}
    assert cel_errors(schema, {"kind": "X", "metadata": {"name": "a"}}) == [
        "X/a: (root): rule 'self.frobnicate()' calls unsupported ['frobnicate']"
    ]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("'karpenter.sh/nodepool'.find('^([^/]+)')", "karpenter.sh"),
        ("'no-match'.find('[0-9]+')", ""),
        ("'al2023@v20240807'.split('@')[0]", "al2023"),
        ("'a1b22c333'.findAll('[0-9]+').size() == 3", True),
        ("'ABC'.lowerAscii()", "abc"),
        ("quantity('1Gi').isGreaterThan(quantity('1000Mi'))", True),
    ],
)
def test_kubernetes_cel_library_functions(expression: str, expected: Any) -> None:
    result = eval_cel(expression, {})
    assert result == expected
    assert isinstance(result, celtypes.BoolType | celtypes.StringType)


def test_the_library_lists_what_it_implements() -> None:
    assert {"find", "findAll", "split", "quantity", "isQuantity", "lowerAscii"} <= set(CEL_FUNCTIONS)

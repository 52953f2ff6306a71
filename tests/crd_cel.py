"""Evaluate a CRD's CEL validation rules (x-kubernetes-validations) against an object, as the API server does
on create: each rule runs with `self` bound to the value at its schema node; transition rules (oldSelf) only
run on update and are not evaluated here."""

from __future__ import annotations

import re
from typing import Any

import celpy
from celpy import celtypes
from celpy.evaluation import CELEvalError

from platform_checks._facts import load_fact
from tests.kyverno_cel import CEL_FUNCTIONS


def _find(text: Any, pattern: Any) -> celtypes.StringType:
    """Kubernetes' regex library: the first match of `pattern` in `text`, or ''."""
    match = re.search(str(pattern), str(text))
    return celtypes.StringType(match.group(0) if match else "")


_ENV = celpy.Environment()
_FUNCTIONS = {**CEL_FUNCTIONS, "find": _find}
_PROGRAMS: dict[str, Any] = {}


def _holds(rule: str, value: Any) -> bool | str:
    """True or False; a string when the rule errors (the API server rejects the object then too)."""
    program = _PROGRAMS.get(rule)
    if program is None:
        program = _PROGRAMS[rule] = _ENV.program(_ENV.compile(rule), functions=_FUNCTIONS)
    try:
        result = program.evaluate({"self": celpy.json_to_cel(value)})
    except CELEvalError as err:
        return f"error: {err}"
    if isinstance(result, CELEvalError):
        return f"error: {result}"
    return bool(result)


def _walk(schema: dict[str, Any], value: Any, path: str, out: list[str], counted: list[int]) -> None:
    for validation in schema.get("x-kubernetes-validations") or []:
        rule = validation["rule"]
        if "oldSelf" in rule:
            continue  # a transition rule: evaluated on update only
        counted[0] += 1
        verdict = _holds(rule, value)
        if verdict is not True:
            reason = verdict if isinstance(verdict, str) else validation.get("message", "rule failed")
            out.append(f"{path or '(root)'}: {reason} ({rule})")
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name in value:
                _walk(sub, value[name], f"{path}.{name}" if path else name, out, counted)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name, sub_value in value.items():
                _walk(extra, sub_value, f"{path}.{name}" if path else name, out, counted)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _walk(schema["items"], item, f"{path}[{index}]", out, counted)


CRD_FACTS = {
    ("karpenter.sh", "NodePool"): "crds/karpenter.sh_nodepools.json",
    ("karpenter.k8s.aws", "EC2NodeClass"): "crds/karpenter.k8s.aws_ec2nodeclasses.json",
}


def cel_violations(obj: dict[str, Any], *, profile: str) -> tuple[list[str], int]:
    """(violations, number of rules evaluated) of `obj` against its CRD's CEL rules in the profile's facts."""
    group, _, version = obj["apiVersion"].rpartition("/")
    fact = load_fact(CRD_FACTS[(group, obj["kind"])], profile)
    out: list[str] = []
    counted = [0]
    _walk(fact["versions"][version]["schema"], obj, "", out, counted)
    return out, counted[0]

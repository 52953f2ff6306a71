"""A custom resource passes every CEL rule (x-kubernetes-validations) of its CRD schema, as the API server
evaluates them on create: defaults applied first, transition rules (oldSelf) skipped, errors never a pass."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import celpy
from celpy import celtypes

from platform_checks.k8s_cel import CEL_FUNCTIONS, CelEvaluationError, eval_cel

# Standard CEL (and cel-python) macros and functions; anything else a rule calls must be in CEL_FUNCTIONS.
STANDARD_FUNCTIONS = frozenset(
    {
        "has",
        "all",
        "exists",
        "exists_one",
        "filter",
        "map",
        "size",
        "matches",
        "startsWith",
        "endsWith",
        "contains",
        "int",
        "uint",
        "double",
        "string",
        "bool",
        "type",
        "duration",
        "timestamp",
        "dyn",
    }
)


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """Structural defaulting as the API server does before validation (a copy; the input is untouched)."""
    value = copy.deepcopy(value)
    _default(schema, value)
    return value


def _default(schema: dict[str, Any], value: Any) -> None:
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                _default(sub, value[name])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in value:
                if key not in (schema.get("properties") or {}):
                    _default(extra, value[key])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _default(schema["items"], item)


def rules_at(schema: dict[str, Any], value: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(path, rule, self) for every x-kubernetes-validations rule that applies to a value present in the object."""
    for rule in schema.get("x-kubernetes-validations") or []:
        yield path or "(root)", rule, value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for name, sub in props.items():
            if name in value and value[name] is not None:
                yield from rules_at(sub, value[name], f"{path}.{name}" if path else name)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, item in value.items():
                if key not in props:
                    yield from rules_at(extra, item, f"{path}[{key}]")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from rules_at(schema["items"], item, f"{path}[{index}]")


def is_transition_rule(rule: dict[str, Any]) -> bool:
    """Rules that read oldSelf run only on update (unless optionalOldSelf); a create never evaluates them."""
    return bool(re.search(r"\boldSelf\b", rule["rule"])) and not rule.get("optionalOldSelf")


def functions_called(rule: str) -> set[str]:
    """Names a CEL expression calls (receiver or global style)."""
    without_strings = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "''", rule)
    return set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", without_strings))


def unsupported_functions(rule: str) -> set[str]:
    return functions_called(rule) - STANDARD_FUNCTIONS - set(CEL_FUNCTIONS)


def cel_errors(schema: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    """`<kind>/<name>: <path>: <message>` for every CEL rule the (defaulted) object breaks or cannot evaluate."""
    return cel_report(schema, obj)[0]


def cel_report(schema: dict[str, Any], obj: dict[str, Any]) -> tuple[list[str], int]:
    """(cel_errors, number of rules evaluated): the count lets a test prove the rules were reached at all."""
    prefix = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
    errors = []
    evaluated = 0
    for path, rule, value in rules_at(schema, apply_defaults(schema, obj)):
        if is_transition_rule(rule):
            continue
        evaluated += 1
        missing = unsupported_functions(rule["rule"])
        if missing:
            errors.append(f"{prefix}: {path}: rule {rule['rule']!r} calls unsupported {sorted(missing)}")
            continue
        try:
            result = eval_cel(rule["rule"], {"self": celpy.json_to_cel(value)})
        except CelEvaluationError as err:
            errors.append(f"{prefix}: {path}: rule {rule['rule']!r} errored: {err}")
            continue
        if not isinstance(result, celtypes.BoolType):
            errors.append(f"{prefix}: {path}: rule {rule['rule']!r} returned {result!r}, not a bool")
        elif not result:
            message = rule.get("message") or f"failed rule: {rule['rule']}"
            errors.append(f"{prefix}: {path}: {message}")
    return errors, evaluated

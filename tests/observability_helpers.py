"""Helpers for the observability tests: Applications and rules from the repo, PromQL walking, Karpenter metric
facts and the astronomy shop's chart facts, per release profile."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_checks import load_yaml_documents
from platform_checks.quantity import parse_quantity
from tests.gitops_overlays import built_root

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "infra" / "observability" / "rules"
PROMTOOL_TESTS = ROOT / "tests" / "promtool"

# Metrics and labels Karpenter 1.0.14 exports (core sigs.k8s.io/karpenter v1.0.9 + the AWS provider), from
# website/content/en/v1.0/reference/metrics.md and the collectors' label constants (see infra/README.md).
# A rule or dashboard may read only these raw Karpenter metrics, and only these labels of each.
_NODE_LABELS = frozenset({"nodepool", "capacity_type", "instance_type", "zone", "region", "arch", "os"})
_KARPENTER_1_0: dict[str, frozenset[str]] = {
    "karpenter_nodes_allocatable": _NODE_LABELS | {"resource_type", "node_name"},
    "karpenter_nodepools_usage": frozenset({"nodepool", "resource_type"}),
    "karpenter_nodepools_limit": frozenset({"nodepool", "resource_type"}),
    "karpenter_cloudprovider_instance_type_offering_price_estimate": frozenset(
        {"instance_type", "capacity_type", "zone"}
    ),
    # A Summary without labels in 1.0.x: only the quantile label of the Summary itself.
    "karpenter_pods_startup_duration_seconds": frozenset({"quantile"}),
    "karpenter_nodeclaims_created_total": frozenset({"reason", "nodepool", "capacity_type"}),
    "karpenter_nodeclaims_disrupted_total": frozenset({"reason", "nodepool", "capacity_type"}),
    "karpenter_interruption_received_messages_total": frozenset({"message_type"}),
    "karpenter_cloudprovider_errors_total": frozenset({"controller", "method", "provider", "error"}),
}
# Karpenter 1.14.1 (core v1.14.1 + the AWS provider v1.14.1, docs/reference/metrics.md at the tag): every metric
# above keeps its name and type (the start-up Summary still has no labels); nodeclaims_created_total dropped
# capacity_type for min_values_relaxed, and node gauges gained phase and managed. Renamed or new metrics
# (pods_provisioning_*, nodes_drained_total, ...) are not read by the rules.
_KARPENTER_1_14 = {
    **_KARPENTER_1_0,
    "karpenter_nodes_allocatable": _KARPENTER_1_0["karpenter_nodes_allocatable"] | {"phase", "managed"},
    "karpenter_nodeclaims_created_total": frozenset({"reason", "nodepool", "min_values_relaxed"}),
}
# By Karpenter minor: metric names and labels change with minors (a patch bump keeps them; karpenter_metrics).
KARPENTER_METRICS: dict[str, dict[str, frozenset[str]]] = {"1.0": _KARPENTER_1_0, "1.14": _KARPENTER_1_14}


def karpenter_metrics(version: str) -> dict[str, frozenset[str]]:
    """The raw metrics (and their labels) a Karpenter version exports, by its minor."""
    minor = ".".join(version.split(".")[:2])
    assert minor in KARPENTER_METRICS, f"Karpenter {minor} has no metric facts; known: {sorted(KARPENTER_METRICS)}"
    return KARPENTER_METRICS[minor]


def synced(root: str, profile: str) -> list[dict[str, Any]]:
    """What the root Application syncs from `root` (infra or apps) for a release profile (shared build)."""
    return list(built_root(root, profile))


def application(root: str, profile: str, name: str) -> dict[str, Any]:
    """The ArgoCD Application called `name` that the profile's overlay of `root` builds."""
    found = [d for d in synced(root, profile) if d.get("kind") == "Application" and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one Application {name} in {root}/overlays/{profile}, found {len(found)}"
    return found[0]


def helm_values(root: str, profile: str, name: str) -> dict[str, Any]:
    """The valuesObject of an Application, as the profile's overlay builds it."""
    values: dict[str, Any] = application(root, profile, name)["spec"]["source"]["helm"]["valuesObject"]
    return values


@dataclass(frozen=True)
class DemoChart:
    """Facts of one opentelemetry-demo release that our values depend on."""

    stateful: frozenset[str]  # components that keep state (On-Demand by the placement contract)
    frontends: frozenset[str]  # components run highly available (2 replicas, zonal anti-affinity, PDB)
    disabled: frozenset[str]  # components we (or the chart) turn off
    pod_label: Callable[[str], str]  # the opentelemetry.io/name label of a component's pods


DEMO: dict[str, DemoChart] = {
    # 0.33.8 (demo 1.12): names are "<release>-<component lower-cased>"; no database component.
    "seed": DemoChart(
        stateful=frozenset({"kafka", "valkey"}),
        frontends=frozenset({"frontend", "frontendProxy"}),
        disabled=frozenset(),
        pod_label=lambda name: f"astronomy-shop-{name.lower()}",
    ),
    # 0.41.0 (demo 3.0): names are the bare component names; Postgres astronomy-db holds the catalog; the
    # AI components need an LLM endpoint and key (off), firepit is off in the chart.
    "current": DemoChart(
        stateful=frozenset({"kafka", "valkey-cart", "astronomy-db"}),
        frontends=frozenset({"frontend", "frontend-proxy"}),
        disabled=frozenset({"agent", "chatbot", "mcp", "firepit"}),
        pod_label=lambda name: name.lower(),
    ),
}


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


def label_problems(expr: Any, metrics: dict[str, frozenset[str]] = _KARPENTER_1_0) -> list[str]:
    """Raw Karpenter metrics read with a label (matcher or `by` over them) that the version does not export."""
    problems = []
    for sel in selectors(expr):
        allowed = metrics.get(sel.name or "")
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
        allowed = metrics.get(name or "")
        if allowed is None or "Without" in str(grouping.type):
            continue
        problems += [f"{name} has no label {label!r}" for label in grouping.labels if label not in allowed]
    return problems


def quantity(value: str | int | float) -> float:
    """A Kubernetes resource quantity ("250m", "512Mi", "1") as a number of base units."""
    return float(parse_quantity(str(value)))


def astronomy_shop_values(profile: str) -> dict[str, Any]:
    """The profile's demo chart defaults merged with our valuesObject, the way Helm merges them."""
    from platform_checks.upstream_facts import load_fact
    from platform_checks.values import coalesce

    values = helm_values("apps", profile, "astronomy-shop")
    merged: dict[str, Any] = coalesce(load_fact("values/opentelemetry-demo.defaults.json", profile), values)
    return merged

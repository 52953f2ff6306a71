"""The Karpenter PrometheusRules load in promtool, pass their unit tests and read only exported metrics."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from platform_config import versions, yaml_load
from tests.conftest import PROFILE_NAMES
from tests.observability_helpers import (
    KARPENTER_METRICS,
    PROMTOOL_TESTS,
    karpenter_metrics,
    label_problems,
    metric_names,
    prometheus_rules,
    recorded_names,
    rule_groups,
)
from tests.pinned_tools import promtool

# The promtool unit test files name this file in `rule_files`; the test writes it next to copies of them.
RULES_FILE_NAME = "karpenter-rules.yaml"


def _promtool() -> str:
    return promtool()


def _workdir(tmp_path: Path, groups: list[dict[str, Any]]) -> Path:
    """A directory holding the rule groups as a plain Prometheus rules file plus the promtool unit tests."""
    (tmp_path / RULES_FILE_NAME).write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    for test in PROMTOOL_TESTS.glob("*.yaml"):
        shutil.copy(test, tmp_path / test.name)
    return tmp_path


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)


def _all_rules() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"]]


def test_rules_are_prometheusrule_objects_that_match_the_crd(profile: str) -> None:
    from platform_checks.manifests import validate_documents

    rules = prometheus_rules()
    assert rules, "no PrometheusRule under infra/observability/rules/"
    assert all(r["apiVersion"] == "monitoring.coreos.com/v1" for r in rules)
    assert validate_documents(rules, profile=profile) == []


def test_promtool_check_rules_accepts_the_extracted_groups(tmp_path: Path) -> None:
    workdir = _workdir(tmp_path, rule_groups())
    result = _run([_promtool(), "check", "rules", RULES_FILE_NAME], workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_all_rules())} rules found" in result.stdout


def test_promtool_unit_tests_pass(tmp_path: Path) -> None:
    workdir = _workdir(tmp_path, rule_groups())
    tests = sorted(p.name for p in PROMTOOL_TESTS.glob("*.yaml"))
    assert len(tests) >= 3, f"promtool unit tests missing: {tests}"
    result = _run([_promtool(), "test", "rules", *tests], workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(tests), result.stdout


def test_promtool_unit_tests_fail_when_the_start_up_threshold_moves(tmp_path: Path) -> None:
    # Proves the unit tests pin the 45 s claim: the same tests against a 60 s threshold must fail.
    groups = yaml_load.safe_load(yaml.safe_dump(rule_groups()))
    for rule in (r for g in groups for r in g["rules"]):
        if rule.get("alert") == "KarpenterPodStartupSlow":
            rule["expr"] = rule["expr"].replace("> 45", "> 60")
    workdir = _workdir(tmp_path, groups)
    result = _run([_promtool(), "test", "rules", "startup_latency_test.yaml"], workdir)
    assert result.returncode != 0
    assert "alertname: KarpenterPodStartupSlow" in result.stdout + result.stderr


def test_unit_tests_cover_an_80_percent_fleet_and_both_sides_of_45_seconds() -> None:
    savings = yaml_load.safe_load((PROMTOOL_TESTS / "savings_and_capacity_test.yaml").read_text())
    expected = [
        s["value"]
        for case in savings["tests"]
        for t in case.get("promql_expr_test", [])
        if t["expr"] == "karpenter:fleet_savings:ratio"
        for s in t["exp_samples"]
    ]
    assert 0.8 in expected
    startup = yaml_load.safe_load((PROMTOOL_TESTS / "startup_latency_test.yaml").read_text())
    outcomes = [
        bool(a["exp_alerts"])
        for case in startup["tests"]
        for a in case.get("alert_rule_test", [])
        if a["alertname"] == "KarpenterPodStartupSlow"
    ]
    assert True in outcomes and False in outcomes


def test_every_expression_parses_with_promql_parser() -> None:
    for rule in _all_rules():
        name = rule.get("record") or rule.get("alert")
        try:
            promql_parser.parse(rule["expr"])
        except Exception as err:  # the parser raises a plain Exception subclass per syntax error
            pytest.fail(f"{name}: {err}")


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_rules_read_only_metrics_and_labels_the_profiles_karpenter_exports(profile: str) -> None:
    """One rule set serves both profiles: every metric and label it reads exists under the same name in
    Karpenter 1.0.14 and 1.14.1 (the 1.14 renames touch metrics the rules do not read)."""
    metrics = karpenter_metrics(versions.PROFILES[profile].karpenter_version)
    known = recorded_names() | set(metrics)
    for rule in _all_rules():
        name = rule.get("record") or rule.get("alert")
        expr = promql_parser.parse(rule["expr"])
        unknown = metric_names(expr) - known
        assert not unknown, f"{name} reads metrics that are neither recorded here nor exported: {unknown}"
        assert label_problems(expr, metrics) == [], name


def test_every_profiles_karpenter_minor_has_metric_facts() -> None:
    minors = {".".join(p.karpenter_version.split(".")[:2]) for p in versions.PROFILES.values()}
    assert minors <= set(KARPENTER_METRICS)


def test_label_check_rejects_a_label_karpenter_does_not_export() -> None:
    expr = promql_parser.parse('sum by (node) (karpenter_nodes_allocatable{capacity_type="spot"})')
    assert label_problems(expr) == ["karpenter_nodes_allocatable has no label 'node'"]
    # capacity_type left nodeclaims_created_total in 1.14.
    expr = promql_parser.parse("sum by (capacity_type) (karpenter_nodeclaims_created_total)")
    assert label_problems(expr, KARPENTER_METRICS["1.0"]) == []
    assert label_problems(expr, KARPENTER_METRICS["1.14"]) == [
        "karpenter_nodeclaims_created_total has no label 'capacity_type'"
    ]


def test_every_alert_has_severity_for_and_runbook_annotations() -> None:
    alerts = [r for r in _all_rules() if "alert" in r]
    assert len(alerts) >= 5
    for alert in alerts:
        name = alert["alert"]
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert alert.get("for"), f"{name} has no for:"
        assert alert["annotations"]["summary"], name
        assert "Runbook:" in alert["annotations"]["description"], f"{name} description has no runbook hint"


def test_alert_thresholds_are_the_platform_claims() -> None:
    exprs = {r["alert"]: r["expr"] for r in _all_rules() if "alert" in r}
    assert exprs["KarpenterPodStartupSlow"].strip() == "karpenter:pods_startup_duration_seconds:p90 > 45"
    assert exprs["KarpenterNodePoolNearLimit"].strip() == "karpenter:nodepool_usage:ratio > 0.9"


def test_savings_rule_is_one_minus_actual_over_on_demand_cost() -> None:
    rules = {r["record"]: r["expr"] for r in _all_rules() if "record" in r}
    savings = " ".join(rules["karpenter:fleet_savings:ratio"].split())
    assert savings == (
        "1 - ( karpenter:fleet_hourly_cost_dollars:sum / karpenter:fleet_on_demand_equivalent_hourly_cost_dollars:sum )"
    )
    assert (
        'capacity_type="on-demand"' in rules["karpenter:fleet_on_demand_equivalent_hourly_cost_dollars:sum_by_nodepool"]
    )

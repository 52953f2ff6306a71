"""Where users see the cost plan: the runbook's generated plans, the reference figures the savings alert, the
dashboard and README quote, the alert on series built from the plan (promtool), and the synth summary's line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_checks import cost_cache, pricing
from platform_checks.cost import CostPlan, plan_cost
from platform_checks.platform_render import PlatformRender
from tests.make_plan import make_dry_run
from tests.observability_helpers import rule_groups
from tests.test_prometheus_rules import RULES_FILE_NAME, _promtool, _run
from tools.report import cost_plan
from tools.report.synth_summary import cost_line

ALERT = "KarpenterSavingsBelowTarget"


@pytest.fixture(scope="session")
def plan(platform_render: PlatformRender) -> CostPlan:
    return plan_cost(platform_render, region="us-east-1")


def reference() -> dict[str, Any]:
    return dict(json.loads(cost_plan.REFERENCE.read_text()))


def test_the_runbook_shows_each_profiles_reference_plan_as_generated(plan: CostPlan) -> None:
    text = cost_plan.RUNBOOK.read_text()
    expected = cost_plan.runbook_block(plan.profile, cost_plan.brief(plan))
    assert expected in text, "stale: run `python -m tools.report.cost_plan --runbook`"


def test_the_runbook_cost_section_types_no_price_or_total_by_hand() -> None:
    text = cost_plan.RUNBOOK.read_text()
    section = text.split("## 13. What it costs", 1)[1].split("\n## ", 1)[0]
    for profile in reference()["profiles"]:
        start = section.index(f"<!-- cost-plan {profile}:")
        end = section.index(f"<!-- end cost-plan {profile} -->")
        section = section[:start] + section[end:]
    assert "$" not in section


def test_the_reference_figures_are_each_profiles_plan(plan: CostPlan) -> None:
    assert reference()["profiles"][plan.profile] == cost_plan.reference_figures(plan)


def test_the_savings_alert_threshold_is_derived_from_the_default_profiles_plan() -> None:
    doc = reference()
    planned = doc["profiles"][doc["default_profile"]]["karpenter_savings_ratio"]
    assert doc["alert_threshold"] == cost_plan.alert_threshold(planned)
    rules = {r["alert"]: r for group in rule_groups() for r in group["rules"] if "alert" in r}
    assert rules[ALERT]["expr"].strip() == f"karpenter:fleet_savings:ratio < {doc['alert_threshold']}"
    # A healthy reference platform of any profile does not trip it.
    assert all(
        Decimal(p["karpenter_savings_ratio"]) > Decimal(doc["alert_threshold"]) for p in doc["profiles"].values()
    )


def test_readme_quotes_the_computed_savings_not_a_hand_typed_claim() -> None:
    doc = reference()
    readme = " ".join(cost_plan.README.read_text().split())
    assert cost_plan.readme_sentence(doc["profiles"][doc["default_profile"]]) in readme
    assert "80% cheaper" not in readme


def _series(plan: CostPlan, spot_discount: Decimal) -> tuple[list[dict[str, str]], float]:
    """Karpenter's node and price series for the plan's nodes (Spot offerings at On-Demand x (1 - savings x
    spot_discount)), and the savings ratio they should give."""
    series, actual, on_demand = [], Decimal(0), Decimal(0)
    prices: dict[tuple[str, str, str], Decimal] = {}
    for pool in plan.pools:
        for i, node in enumerate(pool.placement.nodes):
            offer = pool.offers[node.candidate.name]
            zone = f"us-east-1{'abc'[i % 3]}"
            labels = (
                f'nodepool="{pool.name}",capacity_type="{pool.capacity_type}",instance_type="{node.candidate.name}"'
            )
            series.append({
                "series": f'karpenter_nodes_allocatable{{resource_type="cpu",{labels},zone="{zone}",'
                          f'node_name="{pool.name}-{i}"}}',
                "values": f"{node.candidate.spec.vcpus}x480",
            })  # fmt: skip
            price = offer.on_demand.value
            if offer.savings is not None:
                price = offer.on_demand.value * (1 - offer.savings.value / 100 * spot_discount)
            prices[(node.candidate.name, pool.capacity_type, zone)] = price
            prices[(node.candidate.name, "on-demand", zone)] = offer.on_demand.value
            actual += price
            on_demand += offer.on_demand.value
    for (itype, capacity_type, zone), price in sorted(prices.items()):
        series.append({
            "series": f'karpenter_cloudprovider_instance_type_offering_price_estimate{{instance_type="{itype}",'
                      f'capacity_type="{capacity_type}",zone="{zone}"}}',
            "values": f"{price}x480",
        })  # fmt: skip
    return series, float(1 - actual / on_demand)


def test_promtool_reads_the_planned_ratio_and_alerts_only_below_the_plan(plan: CostPlan, tmp_path: Path) -> None:
    threshold = float(reference()["alert_threshold"])
    healthy, healthy_ratio = _series(plan, Decimal(1))
    degraded, degraded_ratio = _series(plan, Decimal("0.5"))
    assert abs(healthy_ratio - float(plan.figures()["karpenter_savings_ratio"])) < 1e-9
    assert degraded_ratio < threshold < healthy_ratio  # the premise: half the Spot discount trips the alert
    rule = next(r for group in rule_groups() for r in group["rules"] if r.get("alert") == ALERT)
    description = rule["annotations"]["description"].replace(
        "{{ $value | humanizePercentage }}", f"{degraded_ratio * 100:.4g}%"
    )
    tests = {
        "rule_files": [RULES_FILE_NAME],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": healthy,
                # Prometheus sums the prices in its own order: compare to the plan's ratio within 1e-9.
                "promql_expr_test": [{"expr": f"abs(karpenter:fleet_savings:ratio - {healthy_ratio!r}) < bool 1e-9",
                                      "eval_time": "5m", "exp_samples": [{"labels": "{}", "value": 1}]}],
                "alert_rule_test": [{"alertname": ALERT, "eval_time": "7h", "exp_alerts": []}],
            },
            {
                "interval": "1m",
                "input_series": degraded,
                "alert_rule_test": [
                    {"alertname": ALERT, "eval_time": "5h", "exp_alerts": []},
                    {"alertname": ALERT, "eval_time": "7h", "exp_alerts": [{
                        "exp_labels": dict(rule["labels"]),
                        "exp_annotations": {"summary": rule["annotations"]["summary"], "description": description},
                    }]},
                ],
            },
        ],
    }  # fmt: skip
    (tmp_path / RULES_FILE_NAME).write_text(yaml.safe_dump({"groups": rule_groups()}, sort_keys=False))
    (tmp_path / "plan_test.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = _run([_promtool(), "test", "rules", "plan_test.yaml"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_synth_summary_line_states_the_total_and_the_saving(plan: CostPlan, tmp_path: Path) -> None:
    line = cost_plan.summary_line(plan)
    figures = plan.figures()
    assert line.startswith(f"Cost: {cost_plan.money(figures['total'])}")
    assert f"Spot saving {cost_plan.money(figures['saving'])}" in line
    assert ("not priced" in line) == bool(plan.problems)


def _assembly(out: Path, bucket: str) -> Path:
    out.mkdir(exist_ok=True)
    stack = {"type": "aws:cloudformation:stack", "properties": {"templateFile": "S.template.json"}}
    (out / "manifest.json").write_text(json.dumps({"artifacts": {"S": stack}}))
    (out / "S.template.json").write_text(json.dumps({"Resources": {"B": {"Type": bucket}}}))
    return out


def test_the_synth_summary_shows_a_stored_plan_line_only_for_the_same_inputs(tmp_path: Path) -> None:
    out, cache = _assembly(tmp_path / "out", "AWS::S3::Bucket"), tmp_path / "cache"
    assert cost_cache.cached_line(out, cache) == cost_cache.POINTER
    cost_cache.store(out, "Cost: $1.00 a month", cache)
    assert cost_cache.cached_line(out, cache) == "Cost: $1.00 a month"
    _assembly(out, "AWS::SQS::Queue")  # another template: the stored line is not this synth's plan
    assert cost_cache.cached_line(out, cache) == cost_cache.POINTER


def test_the_synth_summary_cost_line_never_renders_and_claims_no_figure_without_a_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the synth summary rendered the platform")

    monkeypatch.setattr(cost_plan, "plan_of", refuse)
    monkeypatch.setattr(cost_plan, "render_platform", refuse)
    monkeypatch.setattr(cost_cache, "CACHE_DIR", tmp_path / "empty-cache")
    line = cost_line(_assembly(tmp_path / "out", "AWS::S3::Bucket"))
    assert line == cost_cache.POINTER
    assert "$" not in line and "make cost" in line


def test_make_cost_stores_the_summary_line_only_for_the_default_date_and_assumptions(
    plan: CostPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _assembly(tmp_path / "out", "AWS::S3::Bucket")
    monkeypatch.setattr(cost_plan, "plan_of", lambda *_args: (plan, None))
    monkeypatch.setattr(pricing, "_ASSUMED", {})  # main() sets the user's assumptions: keep them to this test
    for args, cache in (([], "default"), (["--date", "2027-09-01"], "dated"), (["--assume", "alb_lcu=2"], "assumed")):
        monkeypatch.setattr(cost_cache, "CACHE_DIR", tmp_path / cache)
        assert cost_plan.main([str(out), *args, "--json", str(tmp_path / "plan.json")]) == 0
        assert (cost_cache.cached_line(out) == cost_plan.summary_line(plan)) == (cache == "default"), cache


def test_make_cost_passes_the_synth_args_the_date_and_each_assumption() -> None:
    plan = make_dry_run("cost", "ARGS=-c nat_gateways=3", "DATE=2027-09-01", "ASSUME=nat_gb_per_month=500 alb_lcu=2")
    lines = [" ".join(line.split()) for line in plan.splitlines()]
    synth = next(i for i, line in enumerate(lines) if " cdk synth " in line)
    assert lines[synth].endswith("--output cdk.out -c nat_gateways=3")
    assert lines[synth + 1].endswith(
        "tools.report.cost_plan cdk.out --date 2027-09-01 --assume nat_gb_per_month=500 --assume alb_lcu=2"
    )


def test_the_stored_line_is_keyed_by_every_file_the_renders_kustomize_builds_read() -> None:
    # The GitOps roots the render builds reach infra/ and apps/ through their overlays: each such file is an input.
    from platform_checks.kustomize import build_inputs

    read = {
        path.relative_to(cost_cache.ROOT).parts[0]
        for root in sorted((cost_cache.ROOT / "gitops").glob("*/*"))
        if root.is_dir()
        for path in build_inputs(root) or []
    }
    assert {"gitops", "infra", "apps"} <= read
    assert read <= set(cost_cache.INPUT_DIRS)

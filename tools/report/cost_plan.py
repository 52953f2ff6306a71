"""`make cost`: the monthly cost plan of cdk.out (fixed items from the templates, the rendered workload scheduled onto
the NodePools, the saving against all-On-Demand), as a table with every figure's sources, and as JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from platform_checks import cost_cache, pricing
from platform_checks.cost import CostPlan, Factor, Line, plan_cost
from platform_checks.platform_render import PlatformRender, profile_of, render_platform
from platform_checks.workload_cost import spread
from tools._paths import ROOT
from tools.report.capacity import templates_of


def region_of(out: Path) -> str:
    """The region every stack of the assembly deploys to (its artifact environment)."""
    manifest = json.loads((out / "manifest.json").read_text())
    regions = {
        str(a.get("environment", "")).rsplit("/", 1)[-1]
        for a in manifest["artifacts"].values()
        if a["type"] == "aws:cloudformation:stack"
    }
    if len(regions) != 1:
        raise SystemExit(f"make cost: the stacks deploy to regions {sorted(regions)}; accepted is exactly one")
    return regions.pop()


def money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _factor(f: Factor) -> str:
    shown = {"1-%": f"(1 - {f.value}%)", "/30": f"{f.value} d / 30", "GiB": f"{f.applied:g} GiB"}.get(
        f.how, f"{f.value:g}"
    )
    return f"{shown} [{f.ref}{', ' + f.note if f.note else ''}]"


def _row(line: Line) -> str:
    how = " x ".join(_factor(f) for f in line.factors)
    note = f" ({line.note})" if line.note else ""
    return f"| {line.item}{note} | {money(line.monthly)} | {how} |"


def _families(types: Mapping[str, str]) -> str:
    by_family: dict[str, int] = {}
    for itype in types:
        family = itype.split(".")[0]
        by_family[family] = by_family.get(family, 0) + 1
    return ", ".join(f"{family} ({n})" for family, n in sorted(by_family.items()))


def table(plan: CostPlan) -> str:
    """The plan as Markdown: fixed and traffic items, the NodePools, the totals and the saving, then the notes."""
    h = pricing.lookup("assumption/hours_per_month").value
    lines = [
        f"Cost plan, release profile {plan.profile}, {plan.region}, on {plan.date} (USD per month of {h} h)",
        "",
        "| item | per month | how (each factor: value [source, unit and date]) |",
        "|---|---:|---|",
    ]
    lines += [_row(line) for line in plan.lines if line.section in ("fixed", "traffic")]
    lines += [
        "",
        "| NodePool | capacity | nodes | per month | spread (same vCPUs, same pods) | interruption |",
        "|---|---|---|---:|---|---|",
    ]
    for pool in plan.pools:
        counts = ", ".join(f"{n} x {t}" for t, n in pool.placement.count_by_type().items()) or "none"
        monthly = sum((x.monthly for x in plan.lines if x.item.startswith(f"NodePool {pool.name}:")), Decimal(0))
        low, high = spread(pool)
        bands = ", ".join(sorted({f"{t} {pool.offers[t].band}" for t in pool.placement.count_by_type()} - {""}))
        spot = pool.capacity_type == "spot"
        lines.append(
            f"| {pool.name} | {pool.capacity_type}{' (estimate)' if spot else ''} | {counts} | {money(monthly)} | "
            f"{f'{money(low * h)} - {money(high * h)} instances' if spot else 'n/a'} | {bands if spot else 'n/a'} |"
        )
    lines += ["", "| NodePool line | per month | how |", "|---|---:|---|"]
    lines += [_row(line) for line in plan.lines if line.section == "workload"]
    f = plan.figures()
    lines += [
        "",
        f"- fixed and traffic: {money(f['fixed'])}; workload: {money(f['workload'])}; **total {money(f['total'])}**",
        f"- the same pods with every NodePool On-Demand: workload {money(f['workload_all_on_demand'])}, "
        f"total {money(f['total_all_on_demand'])}",
        f"- Spot saves {money(f['saving'])} a month: {f['saving_pct_of_compute']:.1f}% of compute, "
        f"{f['saving_pct_of_platform']:.1f}% of the platform (both against all-On-Demand)",
        f"- Karpenter savings ratio (the dashboard's karpenter:fleet_savings:ratio, Karpenter's instances only): "
        f"{f['karpenter_savings_ratio']:.3f}",
    ]
    lines += [f"- {note}" for note in plan.notes]
    for pool in plan.pools:
        if pool.missing:
            lines.append(
                f"- NodePool {pool.name}: {len(pool.missing)} admitted types left out, "
                f"{sorted(set(pool.missing.values()))[0] if len(set(pool.missing.values())) == 1 else 'see JSON'}: "
                f"{_families(pool.missing)} (each named in the JSON)"
            )
    lines += [f"- NOT PRICED: {p}" for p in plan.problems]
    return "\n".join(lines) + "\n"


RUNBOOK = ROOT / "docs" / "runbook.md"
README = ROOT / "README.md"
# The default profile's reference plan in figures, for the savings alert, the dashboard and README's sentence.
REFERENCE = ROOT / "platform_config" / "cost_reference.json"
# KarpenterSavingsBelowTarget fires when the fleet saves less than this share of what the plan expects.
ALERT_SHARE_OF_PLAN = Decimal("0.75")


def _brief_factor(f: Factor) -> str:
    row_date = f.note.rsplit(", ", 1)[-1] if f.ref.startswith(("list/", "on-demand/", "spot-savings/")) else ""
    if f.how == "1-%":
        return f"(1 - {f.value}% Spot savings of {row_date})"
    if f.ref.startswith(("list/", "on-demand/")):
        return f"${f.value:f}/{f.note.split(', ')[0].removeprefix('USD/')} ({row_date})"
    if f.how == "GiB":
        return f"{f.applied:g} GiB"
    if f.how == "/30":
        return f"{f.value} days/30"
    if f.ref == "assumption/hours_per_month":
        return f"{f.value} h"
    return f"{f.value:g}{' (assumed)' if f.ref.startswith('assumption/') else ''}"


def brief(plan: CostPlan) -> str:
    """The runbook's block for one profile: each line with its factors' values and price dates, then the totals."""
    f = plan.figures()
    rows = ["| item | per month | how |", "|---|---:|---|"]
    for line in plan.lines:
        rows.append(f"| {line.item} | {money(line.monthly)} | {' x '.join(_brief_factor(x) for x in line.factors)} |")
    rows += [
        f"| **total** | **{money(f['total'])}** | fixed and traffic {money(f['fixed'])}, "
        f"NodePools {money(f['workload'])} |",
        f"| the same pods all On-Demand | {money(f['total_all_on_demand'])} | "
        f"NodePools {money(f['workload_all_on_demand'])} |",
    ]
    text = [
        f"Release profile `{plan.profile}`, reference configuration, {plan.region}, prices of {plan.date}:",
        "",
        *rows,
        "",
        f"Spot saves {money(f['saving'])} a month: {f['saving_pct_of_compute']:.1f}% of compute and "
        f"{f['saving_pct_of_platform']:.1f}% of the platform, against the same pods on On-Demand (an estimate).",
    ]
    text += [f"Not priced: {p}" for p in plan.problems]
    return "\n".join(text)


def runbook_block(profile: str, body: str) -> str:
    return (
        f"<!-- cost-plan {profile}: generated by `python -m tools.report.cost_plan --runbook`; "
        f"tests/test_cost_surfaces.py keeps it fresh -->\n{body}\n<!-- end cost-plan {profile} -->"
    )


def replace_block(text: str, profile: str, body: str) -> str:
    start = text.index(f"<!-- cost-plan {profile}:")
    end = text.index(f"<!-- end cost-plan {profile} -->") + len(f"<!-- end cost-plan {profile} -->")
    return text[:start] + runbook_block(profile, body) + text[end:]


def reference_figures(plan: CostPlan) -> dict[str, str]:
    """What the live rules, the dashboard and README quote from a profile's reference plan."""
    f = plan.figures()
    return {
        "date": plan.date.isoformat(),
        "karpenter_savings_ratio": f"{f['karpenter_savings_ratio']:.3f}",
        "saving_pct_of_compute": f"{f['saving_pct_of_compute']:.1f}",
        "saving_pct_of_platform": f"{f['saving_pct_of_platform']:.1f}",
        "total": f"{f['total']:.2f}",
    }


def alert_threshold(ratio: str) -> str:
    """KarpenterSavingsBelowTarget's threshold: ALERT_SHARE_OF_PLAN of the planned ratio, rounded down."""
    return str((Decimal(ratio) * ALERT_SHARE_OF_PLAN).quantize(Decimal("0.01"), rounding="ROUND_FLOOR"))


def reference_document(plans: Mapping[str, CostPlan], default: str) -> dict[str, Any]:
    figures = {name: reference_figures(plan) for name, plan in sorted(plans.items())}
    return {
        "about": "Generated by `python -m tools.report.cost_plan --runbook` from the reference configuration of each "
        "profile; tests/test_cost_surfaces.py keeps it fresh. karpenter_savings_ratio covers Karpenter's instances "
        f"only (what karpenter:fleet_savings:ratio reads); alert_threshold is {ALERT_SHARE_OF_PLAN} of the default "
        "profile's, rounded down.",
        "default_profile": default,
        "alert_threshold": alert_threshold(figures[default]["karpenter_savings_ratio"]),
        "profiles": figures,
    }


def readme_sentence(figures: Mapping[str, str]) -> str:
    """README's savings claim: the reference plan's figures, nothing typed by hand."""
    return (
        f"For the reference workload `make cost` plans this ratio at {figures['karpenter_savings_ratio']} (the "
        f"On-Demand NodePool's stateful pods included): Spot saves {figures['saving_pct_of_compute']}% of compute "
        f"and {figures['saving_pct_of_platform']}% of the whole platform (docs/runbook.md, What it costs)."
    )


def write_runbook() -> None:
    """Plan the reference configuration of every profile, rewrite its block in docs/runbook.md, and record the
    default profile's figures in platform_config/cost_reference.json."""
    import tempfile

    from platform_config.versions import DEFAULT_PROFILE, PROFILES
    from tools.generate.diagram import reference_assembly

    text = RUNBOOK.read_text()
    plans = {}
    for profile in sorted(PROFILES):
        with tempfile.TemporaryDirectory() as tmp:
            out = reference_assembly(Path(tmp), profile)
            plans[profile], _render = plan_of(out, None)
            text = replace_block(text, profile, brief(plans[profile]))
    document = reference_document(plans, DEFAULT_PROFILE)
    REFERENCE.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    RUNBOOK.write_text(text)


def summary_line(plan: CostPlan) -> str:
    """The synth summary's line: monthly total, Spot's saving against all-On-Demand, where the detail is."""
    f = plan.figures()
    unpriced = f" (not priced: {len(plan.problems)} items, see make cost)" if plan.problems else ""
    return (
        f"Cost: {money(f['total'])}{unpriced} a month on {plan.date} prices ({plan.region}), "
        f"Spot saving {money(f['saving'])} "
        f"({f['saving_pct_of_compute']:.0f}% of compute, {f['saving_pct_of_platform']:.0f}% of the platform; "
        f"an estimate) - `make cost` for every figure and its source"
    )


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def to_json(plan: CostPlan) -> dict[str, Any]:
    """Every line with its factors and sources, the NodePools' placements and left-out types, the headline figures."""

    def line(x: Line) -> dict[str, Any]:
        factors = [{"value": _num(f.value), "ref": f.ref, "how": f.how, "note": f.note} for f in x.factors]
        return {"section": x.section, "item": x.item, "monthly": _num(x.monthly), "note": x.note, "factors": factors}

    def pool(p: Any) -> dict[str, Any]:
        low, high = spread(p)
        return {
            "name": p.name,
            "capacity_type": p.capacity_type,
            "nodes": [{"type": n.candidate.name, "pods": [x.name for x in n.pods]} for n in p.placement.nodes],
            "unschedulable": [{"pod": x.name, "reason": why} for x, why in p.placement.unschedulable],
            "daemonsets": p.daemonsets,
            "hourly": _num(p.hourly()),
            "spread_hourly": [_num(low), _num(high)],
            "left_out": dict(sorted(p.missing.items())),
        }

    return {
        "profile": plan.profile,
        "region": plan.region,
        "date": plan.date.isoformat(),
        "lines": [line(x) for x in plan.lines],
        "on_demand_lines": [line(x) for x in plan.on_demand_lines],
        "pools": [pool(p) for p in plan.pools],
        "on_demand_pools": [pool(p) for p in plan.on_demand_pools],
        "figures": {k: _num(v) for k, v in plan.figures().items()},
        "notes": plan.notes,
        "not_priced": plan.problems,
    }


def plan_of(out: Path, date: dt.date | None) -> tuple[CostPlan, PlatformRender]:
    templates = templates_of(out)
    render = render_platform(profile_of(templates), templates)
    return plan_cost(render, region=region_of(out), date=date), render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, nargs="?", default=Path("cdk.out"))
    parser.add_argument("--date", help="plan date YYYY-MM-DD (default: the price data's date)")
    parser.add_argument("--assume", action="append", default=[], help="KEY=VALUE: change a stated assumption")
    parser.add_argument("--json", type=Path, help="where to write the JSON (default: <out>/cost-plan.json)")
    parser.add_argument("--runbook", action="store_true", help="rewrite docs/runbook.md's plans (reference config)")
    args = parser.parse_args(argv)
    if args.runbook:
        write_runbook()
        return 0
    if not (args.out / "manifest.json").is_file():
        sys.stderr.write(f"make cost: {args.out}/manifest.json not found; run `make synth` first\n")
        return 1
    try:
        date = dt.date.fromisoformat(args.date) if args.date else None
    except ValueError:
        sys.stderr.write(f"make cost: DATE={args.date} is not a date; accepted is YYYY-MM-DD\n")
        return 2
    try:
        pricing.set_assumptions(dict(a.partition("=")[::2] for a in args.assume))
    except ValueError as err:
        sys.stderr.write(f"make cost: {err}\n")
        return 2
    plan, _render = plan_of(args.out, date)
    sys.stdout.write(table(plan))
    if date is None and not args.assume:  # the synth summary shows this plan's line while its inputs stay the same
        cost_cache.store(args.out, summary_line(plan))
    target = args.json or args.out / "cost-plan.json"
    target.write_text(json.dumps(to_json(plan), indent=1) + "\n")
    print(f"\nJSON: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The cost plan: every printed figure is recomputed from its sources alone, the rendered pods land where their
placement contract says and within each NodePool's limits, and the calendar, regions and missing rows are honest."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from platform_checks import pricing
from platform_checks.capacity import MIB, pool_of, replicas_of
from platform_checks.cost import CostPlan, plan_cost, resolve
from platform_checks.platform_render import PlatformRender, render_platform
from platform_checks.schedule import limits_of
from platform_checks.wiring import name_of, pod_spec
from platform_checks.workload_cost import offers
from platform_config.placement import SYSTEM_NODE_SELECTOR
from platform_config.versions import PROFILES
from platform_stacks.platform_app import build_app
from tests.conftest import TODAY
from tests.fixed_context import fixed_context
from tools.report import cost_plan

NAT_GATEWAYS = 3
APPLY = {"": lambda v: v, "1-%": lambda v: 1 - v / 100, "/30": lambda v: v / 30, "GiB": lambda v: v / 2**30}


@pytest.fixture(scope="session")
def cost(platform_render: PlatformRender) -> CostPlan:
    return plan_cost(platform_render, region="us-east-1")


def recompute(plan: CostPlan, render: PlatformRender) -> list[str]:
    """Each printed line's monthly figure against the product of its sources read back; every mismatch."""
    printed = cost_plan.to_json(plan)
    pools = [*plan.pools, *plan.on_demand_pools]
    wrong = []
    for line in [*printed["lines"], *printed["on_demand_lines"]]:
        product = Decimal(1)
        for factor in line["factors"]:
            value = resolve(factor["ref"], render.templates, render, pools)
            if value != Decimal(factor["value"]):
                wrong.append(f"{line['item']}: {factor['ref']} reads {value}, the plan says {factor['value']}")
            product *= APPLY[factor["how"]](value)
        if product != Decimal(line["monthly"]):
            wrong.append(f"{line['item']}: sources give {product}, the plan prints {line['monthly']}")
    return wrong


def test_every_figure_is_recomputed_from_its_sources(cost: CostPlan, platform_render: PlatformRender) -> None:
    assert recompute(cost, platform_render) == []
    figures = cost_plan.to_json(cost)["figures"]
    lines = [Decimal(x["monthly"]) for x in cost_plan.to_json(cost)["lines"]]
    assert Decimal(figures["total"]) == sum(lines)
    od = sum(Decimal(x["monthly"]) for x in cost_plan.to_json(cost)["on_demand_lines"])
    assert Decimal(figures["saving"]) == od - sum(Decimal(x["monthly"]) for x in cost_plan.to_json(cost)["lines"]
                                                  if x["section"] == "workload")  # fmt: skip


def test_every_price_source_carries_its_date(cost: CostPlan) -> None:
    for line in cost.lines:
        for factor in line.factors:
            if factor.ref.startswith(("list/", "on-demand/", "spot-savings/")):
                assert pricing.lookup(factor.ref).date in factor.note, (line.item, factor.ref)


def test_every_rendered_pod_lands_in_the_pool_its_placement_contract_names(
    cost: CostPlan, platform_render: PlatformRender
) -> None:
    placed = {pod.name: plan.name for plan in cost.pools for node in plan.placement.nodes for pod in node.pods}
    expected = {}
    for _origin, obj in platform_render.objects():
        found = pod_spec(obj)
        if found is None or obj["kind"] in ("Job", "CronJob", "DaemonSet"):
            continue
        selector = found[0].get("nodeSelector") or {}
        if all(selector.get(k) == v for k, v in SYSTEM_NODE_SELECTOR.items()):
            continue
        for i in range(replicas_of(obj)):
            expected[f"{name_of(obj)}#{i}"] = pool_of(found[0])
    assert expected, "the render holds pods for the Karpenter NodePools"
    assert placed == expected
    assert [p for p in cost.problems if "unschedulable" in p or "no NodePool admits" in p] == []


def test_no_node_pool_goes_past_its_limits_or_its_nodes_capacity(
    cost: CostPlan, platform_render: PlatformRender
) -> None:
    pools = {p["metadata"]["name"]: p for p in platform_render.manifests if p["kind"] == "NodePool"}
    for plan in [*cost.pools, *cost.on_demand_pools]:
        cpu, memory = limits_of(pools[plan.name])
        assert sum(n.candidate.spec.vcpus for n in plan.placement.nodes) <= cpu
        assert sum(n.candidate.spec.memory_mib * MIB for n in plan.placement.nodes) <= memory
        for node in plan.placement.nodes:
            spec = node.candidate.spec
            ds_cpu, ds_mem, ds_pods = node.overhead
            assert ds_cpu + sum(p.cpu for p in node.pods) <= spec.allocatable_cpu
            assert ds_mem + sum(p.memory for p in node.pods) <= spec.allocatable_memory
            assert ds_pods + len(node.pods) <= spec.max_pods


def test_the_daemonsets_of_every_karpenter_node_include_the_rendered_ones(
    cost: CostPlan, platform_render: PlatformRender
) -> None:
    rendered = {name_of(o) for _, o in platform_render.objects() if o["kind"] == "DaemonSet"}
    assert rendered
    for plan in cost.pools:
        assert rendered <= set(plan.daemonsets)
        assert all(node.overhead[2] == len(plan.daemonsets) for node in plan.placement.nodes)


def test_spot_is_priced_below_on_demand_and_the_saving_is_stated(cost: CostPlan) -> None:
    figures = cost.figures()
    spot = [p for p in cost.pools if p.capacity_type == "spot"]
    assert spot and all(p.placement.nodes for p in spot)
    for plan in spot:
        for node in plan.placement.nodes:
            offer = plan.offers[node.candidate.name]
            assert offer.savings is not None and offer.band in pricing.spot_advisor()["bands"]
            assert offer.candidate.price == offer.on_demand.value * (1 - offer.savings.value / 100)
    assert figures["saving"] > 0
    assert 0 < figures["saving_pct_of_platform"] < figures["saving_pct_of_compute"] < 100


def test_the_control_plane_rate_follows_the_release_calendar(platform_render: PlatformRender) -> None:
    release = PROFILES[platform_render.profile].kubernetes
    standard = plan_cost(platform_render, region="us-east-1", date=release.standard_support_end)
    extended = plan_cost(platform_render, region="us-east-1", date=release.extended_support_end)
    gone = plan_cost(platform_render, region="us-east-1", date=release.extended_support_end + dt.timedelta(days=1))

    def rate(plan: CostPlan) -> list[str]:
        return [
            f.ref for line in plan.lines if line.item == "EKS control plane" for f in line.factors if "list/" in f.ref
        ]

    assert rate(standard) == ["list/eks_control_plane_standard"]
    assert rate(extended) == ["list/eks_control_plane_extended"]
    assert rate(gone) == []
    assert any(f"Kubernetes {release.version} left EKS extended support" in p for p in gone.problems)


def test_the_plan_date_defaults_to_the_price_data_not_today(cost: CostPlan) -> None:
    assert cost.date.isoformat() == pricing.price_date()


def test_a_region_without_its_own_table_uses_us_east_1_and_says_so(platform_render: PlatformRender) -> None:
    assert pricing.table_region("eu-west-1") == ("aws", pricing.FALLBACK_REGION)
    plan = plan_cost(platform_render, region="eu-west-1")
    assert [n for n in plan.notes if "has no On-Demand table" in n] == [
        "eu-west-1 has no On-Demand table of its own: us-east-1 prices are used, as Karpenter does"
    ]
    refs = {f.ref for line in plan.lines for f in line.factors}
    assert any(r.startswith("spot-savings/eu-west-1/") for r in refs)
    assert not any(r.startswith("on-demand/") and "/eu-west-1/" in r for r in refs)
    home = plan_cost(platform_render, region="us-east-1")
    assert not [n for n in home.notes if "has no On-Demand table" in n]


def test_a_type_missing_from_a_table_is_named_never_priced_at_zero(platform_render: PlatformRender) -> None:
    pool = copy.deepcopy(next(p for p in platform_render.manifests if p["kind"] == "NodePool"))
    without_figures = next(t for t in pricing.vpc_limits() if t not in pricing.spot_advisor()["instance_types"]
                           and pricing.labels(t) is not None)  # fmt: skip
    pool["spec"]["template"]["spec"]["requirements"] = [
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [without_figures, "m6i.large"]}
    ]
    priced, missing = offers(pool, "us-east-1", "on-demand")
    assert [o.candidate.name for o in priced] == ["m6i.large"]
    assert list(missing) == [without_figures]
    assert all(o.candidate.price > 0 for o in priced)


def test_the_json_and_table_name_every_left_out_type(cost: CostPlan) -> None:
    printed = cost_plan.to_json(cost)
    for plan, pool in zip(cost.pools, printed["pools"], strict=True):
        assert set(pool["left_out"]) == set(plan.missing)
    text = cost_plan.table(cost)
    assert "(estimate)" in text and "Spot prices move" in text
    for plan in cost.pools:
        for itype in plan.placement.count_by_type():
            assert itype in text


def test_make_cost_refuses_bad_input_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_plan.main([str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"make cost: {tmp_path}/manifest.json not found; run `make synth` first\n"
    (tmp_path / "manifest.json").write_text("{}")
    assert cost_plan.main([str(tmp_path), "--date", "soon"]) == 2
    assert capsys.readouterr().err == "make cost: DATE=soon is not a date; accepted is YYYY-MM-DD\n"
    assert cost_plan.main([str(tmp_path), "--assume", "nat_gb_per_month=-3"]) == 2
    assert capsys.readouterr().err == "make cost: assumption nat_gb_per_month=-3: accepted is a number >= 0\n"
    assert cost_plan.main([str(tmp_path), "--assume", "nat=1"]) == 2
    assert capsys.readouterr().err.startswith("make cost: assumption nat=1: unknown key; accepted: alb_lcu, ")


def test_a_changed_assumption_changes_its_lines_and_says_it_was_set(
    cost: CostPlan, platform_render: PlatformRender
) -> None:
    try:
        pricing.set_assumptions({"nat_gb_per_month": "1000"})
        changed = plan_cost(platform_render, region="us-east-1")
    finally:
        pricing.set_assumptions({})
    before = {x.item: x.monthly for x in cost.lines}
    after = {x.item: x.monthly for x in changed.lines}
    assert after["NAT data processing"] == 1000 * pricing.lookup("list/nat_gateway_gb").value
    assert {k for k in after if after[k] != before[k]} == {"NAT data processing"}


@pytest.fixture(scope="module")
def nat3_endpoints(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PlatformRender]:
    """The current profile with three NAT gateways and interface endpoints (the issue's second configuration)."""
    out = tmp_path_factory.mktemp("cdk.out-nat3")
    context = fixed_context(release="current", nat_gateways=NAT_GATEWAYS, interface_endpoints=True)
    assembly = build_app(context, env={}, today=TODAY, outdir=str(out)).app.synth()
    templates = {
        s.stack_name.rsplit("-", 1)[-1].lower(): json.loads(Path(s.template_full_path).read_text())
        for s in assembly.stacks
    }
    return out, render_platform("current", templates)


def test_three_nat_gateways_and_interface_endpoints_are_priced_from_the_templates(
    nat3_endpoints: tuple[Path, PlatformRender],
) -> None:
    out, render = nat3_endpoints
    plan = plan_cost(render, region=cost_plan.region_of(out))
    assert recompute(plan, render) == []
    factors = {line.item: line.factors for line in plan.lines}
    nat = [r for r in render.templates["network"]["Resources"].values() if r["Type"] == "AWS::EC2::NatGateway"]
    assert factors["NAT gateways"][0].value == len(nat) == NAT_GATEWAYS
    assert factors["public IPv4 addresses (NAT gateways' EIPs)"][0].value == NAT_GATEWAYS
    endpoints = [
        r for r in render.templates["network"]["Resources"].values()
        if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"].get("VpcEndpointType") == "Interface"
    ]  # fmt: skip
    assert endpoints
    assert factors["interface endpoints (per AZ)"][0].value == sum(len(e["Properties"]["SubnetIds"]) for e in endpoints)
    assert "interface endpoint data" in factors


def test_the_alb_is_priced_once_the_registry_installs_the_controller(
    platform_render: PlatformRender, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from platform_checks import cost as cost_module

    hours = cost_module._assume("hours_per_month")
    ingress = {
        "kind": "Ingress",
        "metadata": {"name": "shop", "namespace": "astronomy-shop",
                     "annotations": {"alb.ingress.kubernetes.io/group.name": "shop"}},
        "spec": {"ingressClassName": "alb"},
    }  # fmt: skip
    # The platform's own Ingress is left out: the fixture's group is the only one priced.
    others = [(origin, o) for origin, o in platform_render.objects() if o.get("kind") != "Ingress"]
    render = SimpleNamespace(profile=platform_render.profile, objects=lambda: [*others, ("gitops", ingress)])
    monkeypatch.setattr(cost_module, "addons", lambda profile: [])
    assert cost_module.load_balancer(render, hours) == [], "no controller in the registry: no ALB"
    controller = SimpleNamespace(chart=cost_module.LOAD_BALANCER_CHART)
    monkeypatch.setattr(cost_module, "addons", lambda profile: [controller])
    lines = cost_module.load_balancer(render, hours)
    assert [(x.item, [f.ref for f in x.factors]) for x in lines] == [
        ("ALB shop", ["assumption/hours_per_month", "list/alb_hour"]),
        ("ALB shop LCUs", ["assumption/alb_lcu", "assumption/hours_per_month", "list/alb_lcu_hour"]),
    ]

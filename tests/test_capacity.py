"""Capacity plan from the render: the platform fits its system node group (at minimum size) and its NodePools."""

from __future__ import annotations

import copy
from fractions import Fraction
from pathlib import Path

import botocore.session
import pytest

from platform_checks.capacity import (
    MIB,
    CapacityError,
    errors,
    instance_spec,
    plan,
    platform_plan,
    table,
)
from platform_checks.platform_render import PlatformRender
from platform_config.config import PlatformConfig
from tests.conftest import Synthesized
from tools.report.capacity import main, report, templates_of


def test_the_platform_fits_its_system_nodes_and_pools(platform_render: PlatformRender) -> None:
    result = platform_plan(platform_render)
    print(table(result))
    assert set(result.pools) == {"system", "spot", "on-demand"}
    assert all(p.requests_cpu > 0 and p.requests_memory > 0 for p in result.pools.values())
    assert errors(result) == []


def test_a_node_pool_limit_too_small_is_caught(platform_render: PlatformRender) -> None:
    objects = [o for _, o in platform_render.objects()]
    pools = copy.deepcopy([o for o in platform_render.manifests if o["kind"] == "NodePool"])
    on_demand = next(p for p in pools if p["metadata"]["name"] == "on-demand")
    on_demand["spec"]["limits"] = {"cpu": "500m", "memory": "1Gi"}
    result = plan(objects, system_instance_types=["m6i.large"], system_min_size=2, node_pools=pools)
    problems = errors(result)
    assert len(problems) == 1
    assert problems[0].startswith("pool on-demand: requests ") and "exceed capacity 0.50 CPU / 1.00 GiB" in problems[0]


def test_a_system_node_group_too_small_is_caught(platform_render: PlatformRender) -> None:
    objects = [o for _, o in platform_render.objects()]
    pools = [o for o in platform_render.manifests if o["kind"] == "NodePool"]
    # One c6i.large (1.93 allocatable CPU) cannot hold the add-ons' CPU requests: the plan must say so.
    tiny = plan(objects, system_instance_types=["c6i.large"], system_min_size=1, node_pools=pools)
    assert [p for p in errors(tiny) if p.startswith("pool system: requests")] == errors(tiny) != []


def test_a_pod_larger_than_one_system_node_is_caught(platform_render: PlatformRender) -> None:
    pools = [o for o in platform_render.manifests if o["kind"] == "NodePool"]
    karpenter = copy.deepcopy(next(o for o in platform_render.in_release("karpenter") if o["kind"] == "Deployment"))
    karpenter["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] = "12Gi"
    result = plan([karpenter], system_instance_types=["m6i.large"], system_min_size=4, node_pools=pools)
    assert errors(result) == [
        "pool system: Deployment/kube-system/karpenter requests more than one node's allocatable"
    ]  # fmt: skip


def test_a_node_pool_without_limits_cannot_be_planned(platform_render: PlatformRender) -> None:
    pools = copy.deepcopy([o for o in platform_render.manifests if o["kind"] == "NodePool"])
    del pools[0]["spec"]["limits"]
    with pytest.raises(CapacityError, match=r"NodePool .*: spec.limits needs cpu and memory"):
        plan([], system_instance_types=["m6i.large"], system_min_size=2, node_pools=pools)


def test_allocatable_follows_the_eks_kubelet_reservations() -> None:
    m6i = instance_spec("m6i.large")
    assert m6i.max_pods == 29  # 3 ENIs x (10 - 1) + 2
    assert m6i.allocatable_cpu == Fraction(1930, 1000)  # 2000m - 60m - 10m
    assert m6i.allocatable_memory == (8192 - (255 + 11 * 29) - 100) * MIB  # 7518 MiB
    big = instance_spec("m6i.2xlarge")
    assert big.max_pods == 58
    assert big.allocatable_cpu == 8 - Fraction(60 + 10 + 5 + 5 + 4 * Fraction(5, 2), 1000)


def test_the_system_node_groups_allowed_types_have_capacity_figures() -> None:
    known = set(botocore.session.get_session().get_service_model("ec2").shape_for("InstanceType").enum)
    for itype in PlatformConfig().system_node_instance_types:
        assert itype in known
        assert instance_spec(itype).vcpus > 0


def test_an_instance_type_without_figures_is_one_clear_error() -> None:
    with pytest.raises(
        CapacityError, match=r"system_node_instance_types: m6i.huge has no capacity figures; accepted: "
    ):
        instance_spec("m6i.huge")


def test_make_capacity_prints_the_table(platform_render: PlatformRender, synthesized: Synthesized) -> None:
    text, problems = report(platform_render)
    assert problems == []
    assert "| pool | capacity CPU |" in text
    assert all(f"| {name} |" in text for name in ("system", "spot", "on-demand"))
    assert "allocatable per node = capacity - kube-reserved - 100Mi eviction" in text
    # make capacity reads the same templates from cdk.out that the session synthesized
    assert templates_of(synthesized.outdir) == synthesized.templates


def test_make_capacity_without_a_synth_says_what_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(tmp_path) == 1
    assert "manifest.json not found; run `make synth` first" in capsys.readouterr().err

"""The Karpenter-like packer on hand-made pod sets with known answers, and the NodePool requirement and label rules."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from platform_checks import pricing
from platform_checks.capacity import MIB, InstanceSpec
from platform_checks.schedule import Candidate, Pod, requirement_admits, schedule

NO_OVERHEAD = (Fraction(0), Fraction(0), 0)
NO_LIMITS = (Fraction(1000), Fraction(1000 * 2**30))
# Two sizes of one family (ENI figures as EC2 publishes them for m-family large and 2xlarge).
LARGE = Candidate("m.large", InstanceSpec(2, 8192, 3, 10), Decimal("0.10"))
XLARGE2 = Candidate("m.2xlarge", InstanceSpec(8, 32768, 4, 15), Decimal("0.40"))


def cpu(millis: int) -> Fraction:
    return Fraction(millis, 1000)


def pods(n: int, millis: int, mib: int, group: str = "") -> list[Pod]:
    return [Pod(f"p{millis}-{i}", cpu(millis), Fraction(mib * MIB), group) for i in range(n)]


def test_a_pod_that_fits_only_a_large_type_gets_the_large_type() -> None:
    placed = schedule(pods(1, 3000, 1024), [LARGE, XLARGE2], overhead=NO_OVERHEAD, limits=NO_LIMITS)
    assert placed.count_by_type() == {"m.2xlarge": 1}
    small = schedule(pods(1, 500, 512), [LARGE, XLARGE2], overhead=NO_OVERHEAD, limits=NO_LIMITS)
    assert small.count_by_type() == {"m.large": 1}


def test_daemonset_overhead_is_reserved_on_every_node() -> None:
    # 1.8 CPU fits a large's allocatable (1.93) alone, not beside 0.2 CPU of DaemonSets.
    alone = schedule(pods(1, 1800, 512), [LARGE, XLARGE2], overhead=NO_OVERHEAD, limits=NO_LIMITS)
    assert alone.count_by_type() == {"m.large": 1}
    with_ds = schedule(pods(1, 1800, 512), [LARGE, XLARGE2], overhead=(cpu(200), Fraction(0), 2), limits=NO_LIMITS)
    assert with_ds.count_by_type() == {"m.2xlarge": 1}
    # Four pods of 0.9 CPU: two per large node without DaemonSets, one per node with 0.2 CPU of them.
    assert len(schedule(pods(4, 900, 64), [LARGE], overhead=NO_OVERHEAD, limits=NO_LIMITS).nodes) == 2
    assert len(schedule(pods(4, 900, 64), [LARGE], overhead=(cpu(200), Fraction(0), 2), limits=NO_LIMITS).nodes) == 4


def test_a_node_pool_limit_reached_leaves_pods_unschedulable_with_the_reason() -> None:
    placed = schedule(pods(3, 1500, 512), [LARGE], overhead=NO_OVERHEAD, limits=(Fraction(4), Fraction(64 * 2**30)))
    assert placed.count_by_type() == {"m.large": 2}  # 2 x 2 vCPU = the 4 CPU limit
    assert [why for _pod, why in placed.unschedulable] == ["the NodePool's limits are reached"]
    none_fits = schedule(pods(1, 9000, 512), [LARGE, XLARGE2], overhead=NO_OVERHEAD, limits=NO_LIMITS)
    assert [why for _pod, why in none_fits.unschedulable] == ["no admitted instance type can hold it"]


def test_the_eni_pod_limit_binds_before_cpu() -> None:
    assert LARGE.spec.max_pods == 29  # 3 ENIs x (10 - 1) + 2
    # 40 pods of 10m: 0.4 CPU in all, yet a large node takes 29 - 4 DaemonSet pods = 25 of them.
    placed = schedule(pods(40, 10, 16), [LARGE], overhead=(Fraction(0), Fraction(0), 4), limits=NO_LIMITS)
    assert sorted(len(n.pods) for n in placed.nodes) == [15, 25]


def test_replicas_that_must_not_share_a_node_get_one_node_each() -> None:
    placed = schedule(pods(2, 100, 64, group="frontend"), [LARGE], overhead=NO_OVERHEAD, limits=NO_LIMITS)
    assert [len(n.pods) for n in placed.nodes] == [1, 1]


def test_the_cheapest_price_per_share_of_pending_wins() -> None:
    # 8 pods of 0.9 CPU: four larges hold them for 0.40/h, one 2xlarge (7.8 allocatable CPU) holds 8 for 0.40/h
    # too; with the 2xlarge cheaper per share it must be chosen.
    cheap = Candidate("m.2xlarge", XLARGE2.spec, Decimal("0.30"))
    placed = schedule(pods(8, 900, 256), [LARGE, cheap], overhead=NO_OVERHEAD, limits=NO_LIMITS)
    assert placed.count_by_type() == {"m.2xlarge": 1}


@pytest.mark.parametrize(
    ("requirement", "admitted"),
    [
        ({"key": "k", "operator": "In", "values": ["a", "b"]}, True),
        ({"key": "k", "operator": "NotIn", "values": ["a"]}, False),
        ({"key": "k", "operator": "Exists"}, True),
        ({"key": "k", "operator": "DoesNotExist"}, False),
        ({"key": "n", "operator": "Gt", "values": ["5"]}, True),
        ({"key": "n", "operator": "Gt", "values": ["6"]}, False),
        ({"key": "n", "operator": "Lt", "values": ["7"]}, True),
        ({"key": "missing", "operator": "Gt", "values": ["1"]}, False),
    ],
)
def test_node_pool_requirements_follow_the_kubernetes_operators(requirement: dict, admitted: bool) -> None:
    assert requirement_admits(requirement, {"k": "a", "n": "6"}) is admitted


@pytest.mark.parametrize(
    ("itype", "category", "generation", "arch"),
    [("m6i.large", "m", "6", "amd64"), ("c7gn.xlarge", "c", "7", "arm64"), ("is4gen.large", "is", "4", "arm64"),
     ("g4dn.xlarge", "g", "4", "amd64"), ("a1.large", "a", "1", "arm64")],
)  # fmt: skip
def test_instance_labels_come_from_the_name_and_the_eni_table(
    itype: str, category: str, generation: str, arch: str
) -> None:
    labels = pricing.labels(itype)
    assert labels is not None
    assert labels["karpenter.k8s.aws/instance-category"] == category
    assert labels["karpenter.k8s.aws/instance-generation"] == generation
    assert labels["kubernetes.io/arch"] == arch
    assert labels["karpenter.k8s.aws/instance-hypervisor"] == pricing.vpc_limits()[itype][3]

"""Karpenter-like bin packing of pending pods onto one NodePool: existing nodes first (first fit, largest pods first);
else a new node of the admitted type with the lowest price per share of what is still pending, within the pool's
limits. A node holds its DaemonSets, at most max_pods pods (ENI limit) and the allocatable of capacity.InstanceSpec."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from platform_checks.capacity import MIB, InstanceSpec
from platform_checks.quantity import parse_quantity


@dataclass(frozen=True)
class Pod:
    """One replica: requests, and `group` set when its replicas must not share a node (required anti-affinity on
    hostname or zone: Karpenter then puts them on different nodes)."""

    name: str
    cpu: Fraction
    memory: Fraction
    group: str = ""


@dataclass(frozen=True)
class Candidate:
    """An instance type the NodePool admits, with its hourly price for the pool's capacity type."""

    name: str
    spec: InstanceSpec
    price: Decimal


@dataclass
class Node:
    """A node of one candidate type: its DaemonSets' (cpu, memory, pod count) and the pods placed on it."""

    candidate: Candidate
    overhead: tuple[Fraction, Fraction, int]
    pods: list[Pod] = field(default_factory=list)

    def __post_init__(self) -> None:
        spec = self.candidate.spec
        cpu, mem, count = self.overhead
        # Room left for pods, kept up to date as pods are added (the scheduler asks `fits` many times).
        self.room_cpu: Fraction = spec.allocatable_cpu - cpu
        self.room_memory: Fraction = spec.allocatable_memory - mem
        self.room_pods: int = spec.max_pods - count
        self.groups: set[str] = set()
        for pod in list(self.pods):
            self.pods.remove(pod)
            self.add(pod)

    def fits(self, pod: Pod) -> bool:
        return (
            pod.cpu <= self.room_cpu
            and pod.memory <= self.room_memory
            and self.room_pods >= 1
            and not (pod.group and pod.group in self.groups)
        )

    def add(self, pod: Pod) -> None:
        self.pods.append(pod)
        self.room_cpu -= pod.cpu
        self.room_memory -= pod.memory
        self.room_pods -= 1
        if pod.group:
            self.groups.add(pod.group)


@dataclass
class Placement:
    nodes: list[Node]
    unschedulable: list[tuple[Pod, str]]

    def count_by_type(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for node in self.nodes:
            out[node.candidate.name] = out.get(node.candidate.name, 0) + 1
        return dict(sorted(out.items()))


def _share(taken: Sequence[Pod], pending: Sequence[Pod]) -> Fraction:
    """Mean share of the pending CPU, memory and pod count that `taken` absorbs (dimensions with demand only)."""
    shares = [Fraction(len(taken), len(pending))]
    for attr in ("cpu", "memory"):
        total = sum((getattr(p, attr) for p in pending), Fraction(0))
        if total:
            shares.append(sum((getattr(p, attr) for p in taken), Fraction(0)) / total)
    return sum(shares, Fraction(0)) / len(shares)


def schedule(
    pods: Iterable[Pod],
    candidates: Sequence[Candidate],
    *,
    overhead: tuple[Fraction, Fraction, int],
    limits: tuple[Fraction, Fraction],
) -> Placement:
    """Place every pod; a pod no admitted type can hold, or that would take the pool past its limits (node
    capacity summed, as Karpenter counts them), is unschedulable with the reason."""
    # Plans that differ only in the date or the assumptions pack the same pods on the same priced types: pack once
    # per process, hand each caller its own copy.
    return copy.deepcopy(_schedule(tuple(pods), tuple(candidates), overhead, limits))


@lru_cache(maxsize=64)
def _schedule(
    pods: tuple[Pod, ...],
    candidates: tuple[Candidate, ...],
    overhead: tuple[Fraction, Fraction, int],
    limits: tuple[Fraction, Fraction],
) -> Placement:
    pending = sorted(pods, key=lambda p: (-p.cpu, -p.memory, p.name))
    nodes: list[Node] = []
    unschedulable: list[tuple[Pod, str]] = []
    used_cpu, used_mem = Fraction(0), Fraction(0)
    while pending:
        left = []
        for pod in pending:
            node = next((n for n in nodes if n.fits(pod)), None)
            if node is None:
                left.append(pod)
            else:
                node.add(pod)
        if not left:
            break
        head, best, best_key = left[0], None, None
        room = [c for c in candidates if used_cpu + c.spec.vcpus <= limits[0]]
        room = [c for c in room if used_mem + c.spec.memory_mib * MIB <= limits[1]]
        for candidate in room:
            trial = Node(candidate, overhead)
            if not trial.fits(head):
                continue
            for pod in left:
                if trial.fits(pod):
                    trial.add(pod)
            key = (Fraction(candidate.price) / _share(trial.pods, left), candidate.price, candidate.name)
            if best_key is None or key < best_key:
                best, best_key = trial, key
        if best is None:
            fits_some = any(Node(c, overhead).fits(head) for c in candidates)
            reason = "the NodePool's limits are reached" if fits_some else "no admitted instance type can hold it"
            unschedulable.append((head, reason))
            pending = left[1:]
            continue
        nodes.append(best)
        used_cpu += best.candidate.spec.vcpus
        used_mem += best.candidate.spec.memory_mib * MIB
        taken = {id(p) for p in best.pods}
        pending = [p for p in left if id(p) not in taken]
    return Placement(nodes, unschedulable)


def requirement_admits(requirement: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """One NodeSelectorRequirement of a NodePool against an instance type's labels (In, NotIn, Exists,
    DoesNotExist, Gt, Lt)."""
    key, op, values = requirement["key"], requirement["operator"], [str(v) for v in requirement.get("values") or []]
    value = labels.get(key)
    if op == "In":
        return value in values
    if op == "NotIn":
        return value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None:
        number, bound = int(value), int(values[0])
        return number > bound if op == "Gt" else number < bound
    return False


def limits_of(pool: Mapping[str, Any]) -> tuple[Fraction, Fraction]:
    limits = pool["spec"].get("limits") or {}
    big = Fraction(10**9)
    cpu = parse_quantity(str(limits["cpu"])) if "cpu" in limits else big
    memory = parse_quantity(str(limits["memory"])) if "memory" in limits else big * 2**30
    return cpu, memory

"""The rendered workload on Karpenter's NodePools: each pod goes to the highest-weight NodePool it tolerates and
selects, packed by platform_checks.schedule onto the instance types the NodePool's requirements admit, priced
On-Demand or at On-Demand x (1 - Spot Advisor savings); then the same pods with every NodePool On-Demand."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from platform_checks import pricing
from platform_checks.capacity import EKS_ADDON_DAEMONSETS, CapacityError, instance_spec, pod_resources, replicas_of
from platform_checks.quantity import parse_quantity
from platform_checks.schedule import Candidate, Node, Placement, Pod, limits_of, requirement_admits, schedule
from platform_checks.wiring import _tolerates, name_of, pod_spec, selector_matches
from platform_config import placement

CAPACITY_TYPE = "karpenter.sh/capacity-type"
SPREAD_KEYS = ("kubernetes.io/hostname", "topology.kubernetes.io/zone")


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    """A pod tolerates a taint: a key-less Exists toleration tolerates every taint, else wiring's rule."""
    return any(
        (
            not t.get("key")
            and t.get("operator") == "Exists"
            and t.get("effect", taint.get("effect")) == taint.get("effect")
        )
        or _tolerates(t, taint)
        for t in tolerations
    )


def _pool_labels(pool: Mapping[str, Any]) -> dict[str, str]:
    """Labels every node of the pool carries: the template's labels and single-valued In requirements."""
    spec = pool["spec"]["template"]
    out = dict((spec.get("metadata") or {}).get("labels") or {})
    for req in spec["spec"].get("requirements") or []:
        if req["operator"] == "In" and len(req.get("values") or []) == 1:
            out[req["key"]] = str(req["values"][0])
    return out


def admits_pod(pool: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    """The pod tolerates the pool's taints and its nodeSelector matches labels the pool's nodes carry."""
    taints = pool["spec"]["template"]["spec"].get("taints") or []
    tolerations = spec.get("tolerations") or []
    if not all(tolerates(tolerations, t) for t in taints if t.get("effect") in ("NoSchedule", "NoExecute")):
        return False
    return selector_matches({"matchLabels": spec.get("nodeSelector") or {}}, _pool_labels(pool))


def _spread_group(obj: Mapping[str, Any], spec: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    anti = ((spec.get("affinity") or {}).get("podAntiAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    for term in anti or []:
        if term.get("topologyKey") in SPREAD_KEYS and selector_matches(term.get("labelSelector"), labels):
            return name_of(obj)
    return ""


@dataclass
class PoolPods:
    """What one NodePool receives: its replicas and the DaemonSets on each of its nodes."""

    pool: Mapping[str, Any]
    pods: list[Pod] = field(default_factory=list)
    daemonsets: list[str] = field(default_factory=list)
    overhead: tuple[Fraction, Fraction, int] = (Fraction(0), Fraction(0), 0)

    @property
    def name(self) -> str:
        return str(self.pool["metadata"]["name"])


def assign(
    objects: Iterable[Mapping[str, Any]], node_pools: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, PoolPods], list[str]]:
    """({pool: its pods and DaemonSets}, pods no NodePool admits). System-node pods stay on the node group;
    Jobs and CronJobs are transient and not placed."""
    pools = sorted(node_pools, key=lambda p: (-int(p["spec"].get("weight") or 0), p["metadata"]["name"]))
    out = {p["metadata"]["name"]: PoolPods(p) for p in pools}
    homeless: list[str] = []
    for obj in objects:
        found = pod_spec(obj)
        kind = str(obj.get("kind"))
        if found is None or kind in ("Job", "CronJob"):
            continue
        spec, labels = found
        cpu, memory, _, _ = pod_resources(spec, kind)
        if kind == "DaemonSet":
            for entry in out.values():
                if admits_pod(entry.pool, spec):
                    entry.daemonsets.append(name_of(obj))
                    c, m, n = entry.overhead
                    entry.overhead = (c + cpu, m + memory, n + 1)
            continue
        selector = spec.get("nodeSelector") or {}
        if all(selector.get(k) == v for k, v in placement.SYSTEM_NODE_SELECTOR.items()):
            continue
        target = next((entry for entry in out.values() if admits_pod(entry.pool, spec)), None)
        if target is None:
            homeless.append(name_of(obj))
            continue
        group = _spread_group(obj, spec, labels)
        for i in range(replicas_of(obj)):
            target.pods.append(Pod(f"{name_of(obj)}#{i}", cpu, memory, group))
    for entry in out.values():
        for addon, (cpu_text, mem_text) in EKS_ADDON_DAEMONSETS.items():
            c, m, n = entry.overhead
            entry.overhead = (c + parse_quantity(cpu_text), m + parse_quantity(mem_text), n + 1)
            entry.daemonsets.append(f"EKS add-on DaemonSet {addon}")
    return out, homeless


@dataclass
class Offer:
    """An admitted type's price for a capacity type: On-Demand row, and for Spot the savings row and band."""

    candidate: Candidate
    on_demand: pricing.Row
    savings: pricing.Row | None = None
    band: str = ""


def offers(pool: Mapping[str, Any], region: str, capacity_type: str) -> tuple[list[Offer], dict[str, str]]:
    """(priced offers, {admitted type: why it cannot be priced or sized}) of a pool for one capacity type."""
    requirements = [r for r in pool["spec"]["template"]["spec"].get("requirements") or [] if r["key"] != CAPACITY_TYPE]
    priced: list[Offer] = []
    missing: dict[str, str] = {}
    for itype in sorted(pricing.vpc_limits()):
        labels = pricing.labels(itype)
        if labels is None or not all(requirement_admits(r, labels) for r in requirements):
            continue
        row = pricing.on_demand(region, itype)
        try:
            spec = instance_spec(itype)
        except CapacityError:
            missing[itype] = "no vCPU/memory figures (Spot Advisor instance_types)"
            continue
        if row is None:
            missing[itype] = f"no On-Demand price ({'/'.join(pricing.table_region(region))} table)"
            continue
        if capacity_type == "spot":
            found = pricing.spot(region, itype)
            if found is None:
                missing[itype] = f"no Spot Advisor row ({region}, Linux)"
                continue
            savings, band = found
            price = row.value * (1 - savings.value / 100)
            priced.append(Offer(Candidate(itype, spec, price), row, savings, band))
        else:
            priced.append(Offer(Candidate(itype, spec, row.value), row))
    return priced, missing


def capacity_types(pool: Mapping[str, Any]) -> list[str]:
    """The capacity types the pool's requirements admit, Spot first (Karpenter prefers it when both are allowed)."""
    found = [r for r in pool["spec"]["template"]["spec"].get("requirements") or [] if r["key"] == CAPACITY_TYPE]
    allowed = [c for c in ("spot", "on-demand") if all(requirement_admits(r, {CAPACITY_TYPE: c}) for r in found)]
    return allowed[:1]


@dataclass
class PoolPlan:
    """One NodePool scheduled for one capacity type."""

    name: str
    capacity_type: str
    placement: Placement
    offers: dict[str, Offer]
    missing: dict[str, str]
    daemonsets: list[str]

    def hourly(self) -> Decimal:
        return sum((self.offers[n.candidate.name].candidate.price for n in self.placement.nodes), Decimal(0))


def plan_pool(entry: PoolPods, region: str, capacity_type: str) -> PoolPlan:
    priced, missing = offers(entry.pool, region, capacity_type)
    placed = schedule(entry.pods, [o.candidate for o in priced], overhead=entry.overhead, limits=limits_of(entry.pool))
    return PoolPlan(entry.name, capacity_type, placed, {o.candidate.name: o for o in priced}, missing, entry.daemonsets)


def spread(plan: PoolPlan) -> tuple[Decimal, Decimal]:
    """(lowest, highest) hourly price of the pool's nodes if each were any admitted type of the same vCPU count
    that holds the same pods: the choice price-capacity-optimized makes trades price for interruption risk."""
    low = high = Decimal(0)
    for node in plan.placement.nodes:
        prices = []
        for offer in plan.offers.values():
            if offer.candidate.spec.vcpus != node.candidate.spec.vcpus:
                continue
            trial = Node(offer.candidate, node.overhead)
            for pod in node.pods:
                if not trial.fits(pod):
                    break
                trial.add(pod)
            else:
                prices.append(offer.candidate.price)
        low += min(prices)
        high += max(prices)
    return low, high

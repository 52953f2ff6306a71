"""Capacity plan from the render: summed pod requests per pool (system node group, Spot and On-Demand NodePools)
against what the pool offers. The system node group offers its MINIMUM size times the allocatable of its smallest
instance type; a Karpenter NodePool offers its spec.limits.

Allocatable (EKS AL2023 nodeadm defaults, as the EKS AMI computes kubelet reservations):
  max_pods          = ENIs * (IPv4 addresses per ENI - 1) + 2            (VPC CNI, no prefix delegation)
  kube-reserved mem = 255 MiB + 11 MiB * max_pods
  kube-reserved cpu = 6% of the 1st core + 1% of the 2nd + 0.5% of the 3rd and 4th + 0.25% of every further core
  eviction-hard     = memory.available < 100 Mi
  allocatable       = capacity - kube-reserved - eviction-hard            (no system-reserved on EKS AMIs)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

from platform_checks import pricing
from platform_checks.quantity import parse_quantity
from platform_checks.wiring import name_of, pod_spec
from platform_config import placement

MIB = 1024**2


@dataclass(frozen=True)
class InstanceSpec:
    """Published EC2 figures: vCPUs, memory (MiB), network interfaces and IPv4 addresses per interface."""

    vcpus: int
    memory_mib: int
    enis: int
    ipv4_per_eni: int

    @property
    def max_pods(self) -> int:
        return self.enis * (self.ipv4_per_eni - 1) + 2

    @cached_property
    def allocatable_cpu(self) -> Fraction:
        """Cores left for pods after the kubelet's CPU reservation."""
        reserved_millis = Fraction(0)
        for core in range(1, self.vcpus + 1):
            reserved_millis += 60 if core == 1 else 10 if core == 2 else 5 if core <= 4 else Fraction(5, 2)
        return self.vcpus - reserved_millis / 1000

    @cached_property
    def allocatable_memory(self) -> Fraction:
        """Bytes left for pods after kube-reserved memory and the 100 Mi hard-eviction threshold."""
        reserved_mib = 255 + 11 * self.max_pods + 100
        return Fraction((self.memory_mib - reserved_mib) * MIB)


class CapacityError(ValueError):
    """Input the plan cannot price (an instance type without figures, a pool without limits)."""


def instance_spec(instance_type: str) -> InstanceSpec:
    """The published figures of a type: vCPUs and memory from the Spot Advisor snapshot, ENIs and IPv4 addresses per
    ENI from Karpenter's ENI table (both derived into upstream_facts/pricing/)."""
    sizes = pricing.spot_advisor()["instance_types"].get(instance_type)
    limits = pricing.vpc_limits().get(instance_type)
    if sizes is None or limits is None:
        raise CapacityError(
            f"system_node_instance_types: {instance_type} has no capacity figures; accepted: a type that "
            "upstream_facts/pricing/ holds vCPUs and memory (spot-advisor.json) and ENI limits (vpc-limits.json) for"
        )
    return InstanceSpec(int(sizes[0]), round(float(sizes[1]) * 1024), int(limits[0]), int(limits[1]))


@dataclass
class Pool:
    """What a pool offers and what is placed on it (requests and limits summed over replicas)."""

    name: str
    cpu: Fraction
    memory: Fraction
    basis: str
    requests_cpu: Fraction = Fraction(0)
    requests_memory: Fraction = Fraction(0)
    limits_cpu: Fraction = Fraction(0)
    limits_memory: Fraction = Fraction(0)
    pods: list[str] = field(default_factory=list)
    # One node's allocatable (the system node group only): a pod larger than a node never schedules.
    node: tuple[Fraction, Fraction] | None = None
    too_large: list[str] = field(default_factory=list)

    @property
    def headroom_cpu(self) -> Fraction:
        return self.cpu - self.requests_cpu

    @property
    def headroom_memory(self) -> Fraction:
        return self.memory - self.requests_memory

    @property
    def fits(self) -> bool:
        return self.headroom_cpu >= 0 and self.headroom_memory >= 0 and not self.too_large


# EKS managed add-ons are installed by EKS, not rendered here; their pods on the system nodes are charged with
# the requests of their EKS-default manifests (CoreDNS 2 x 100m/70Mi; EBS CSI controller 2 x 6 containers of
# 10m/40Mi) and, per node, the DaemonSets (aws-node 25m, kube-proxy 100m, ebs-csi-node 3 x 10m/40Mi).
EKS_ADDON_PODS = {"coredns": (2, "100m", "70Mi"), "ebs-csi-controller": (2, "60m", "240Mi")}
EKS_ADDON_DAEMONSETS = {"aws-node": ("25m", "0"), "kube-proxy": ("100m", "0"), "ebs-csi-node": ("30m", "120Mi")}


def _q(value: Any) -> Fraction:
    return parse_quantity(str(value)) if value not in (None, "") else Fraction(0)


def pod_resources(spec: Mapping[str, Any], kind: str = "") -> tuple[Fraction, Fraction, Fraction, Fraction]:
    """(cpu request, memory request, cpu limit, memory limit) of one pod: containers summed, and the largest init
    container when it is larger (the scheduler's effective request). Prometheus/Alertmanager CRs: spec.resources."""
    if kind in ("Prometheus", "Alertmanager"):
        res = spec.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        return _q(req.get("cpu")), _q(req.get("memory")), _q(lim.get("cpu")), _q(lim.get("memory"))
    totals = [Fraction(0)] * 4
    for c in spec.get("containers", []):
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        for i, v in enumerate((req.get("cpu"), req.get("memory"), lim.get("cpu"), lim.get("memory"))):
            totals[i] += _q(v)
    for c in spec.get("initContainers", []):
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        for i, v in enumerate((req.get("cpu"), req.get("memory"), lim.get("cpu"), lim.get("memory"))):
            totals[i] = max(totals[i], _q(v))
    return totals[0], totals[1], totals[2], totals[3]


def pool_of(spec: Mapping[str, Any]) -> str:
    """Where the placement contract sends a pod: the system node group, the On-Demand or the Spot NodePool."""
    selector = spec.get("nodeSelector") or {}
    if all(selector.get(k) == v for k, v in placement.SYSTEM_NODE_SELECTOR.items()):
        return "system"
    if all(selector.get(k) == v for k, v in placement.STATEFUL_NODE_SELECTOR.items()):
        return placement.ON_DEMAND_NODEPOOL
    return placement.SPOT_NODEPOOL


def replicas_of(obj: Mapping[str, Any]) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


@dataclass
class Plan:
    pools: dict[str, Pool]
    daemonset_per_node: tuple[Fraction, Fraction]
    notes: list[str]


def plan(
    objects: Iterable[Mapping[str, Any]],
    *,
    system_instance_types: list[str],
    system_min_size: int,
    node_pools: Iterable[Mapping[str, Any]],
) -> Plan:
    """Sum steady-state pod requests per pool. Jobs and CronJobs (hooks, cleanups) are transient and not counted;
    DaemonSets are charged once per system node and reported per node for the Karpenter pools."""
    smallest = min((instance_spec(t) for t in system_instance_types), key=lambda s: (s.allocatable_cpu, s.memory_mib))
    pools = {
        "system": Pool(
            "system",
            smallest.allocatable_cpu * system_min_size,
            smallest.allocatable_memory * system_min_size,
            f"{system_min_size} x allocatable of {min(system_instance_types, key=lambda t: instance_spec(t).vcpus)}",
            node=(smallest.allocatable_cpu, smallest.allocatable_memory),
        )
    }
    for pool in node_pools:
        limits = pool["spec"].get("limits") or {}
        if "cpu" not in limits or "memory" not in limits:
            raise CapacityError(f"NodePool {pool['metadata']['name']}: spec.limits needs cpu and memory to be planned")
        name = pool["metadata"]["name"]
        pools[name] = Pool(name, _q(limits["cpu"]), _q(limits["memory"]), "NodePool spec.limits")
    ds_cpu = ds_mem = Fraction(0)
    for obj in objects:
        found = pod_spec(obj)
        kind = str(obj.get("kind"))
        if found is None or kind in ("Job", "CronJob"):
            continue
        cpu, mem, lcpu, lmem = pod_resources(found[0], kind)
        if kind == "DaemonSet":
            ds_cpu, ds_mem = ds_cpu + cpu, ds_mem + mem
            replicas, target = system_min_size, pools["system"]
        else:
            replicas, where = replicas_of(obj), pool_of(found[0])
            if where not in pools:
                raise CapacityError(f"{name_of(obj)}: placed on pool {where}, which has no NodePool")
            target = pools[where]
        if target.node and (cpu > target.node[0] or mem > target.node[1]):
            target.too_large.append(name_of(obj))
        target.requests_cpu += cpu * replicas
        target.requests_memory += mem * replicas
        target.limits_cpu += lcpu * replicas
        target.limits_memory += lmem * replicas
        target.pods.append(f"{name_of(obj)} x{replicas}")
    system = pools["system"]
    for addon, (count, cpu_text, mem_text) in EKS_ADDON_PODS.items():
        system.requests_cpu += _q(cpu_text) * count
        system.requests_memory += _q(mem_text) * count
        system.pods.append(f"EKS add-on {addon} x{count}")
    for addon, (cpu_text, mem_text) in EKS_ADDON_DAEMONSETS.items():
        system.requests_cpu += _q(cpu_text) * system_min_size
        system.requests_memory += _q(mem_text) * system_min_size
        system.pods.append(f"EKS add-on DaemonSet {addon} x{system_min_size}")
        ds_cpu, ds_mem = ds_cpu + _q(cpu_text), ds_mem + _q(mem_text)
    notes = [
        f"system: {system.basis}; allocatable per node = capacity - kube-reserved - 100Mi eviction "
        f"({float(smallest.allocatable_cpu):.3f} CPU, {float(smallest.allocatable_memory) / MIB:.0f} MiB)",
        f"DaemonSets request {float(ds_cpu) * 1000:.0f}m CPU / {float(ds_mem) / MIB:.0f} MiB on every node "
        "(charged per system node; on Karpenter nodes it comes on top of the sums below)",
        "not counted: Jobs and CronJobs (hooks, report cleanup), operator-injected sidecars",
    ]
    return Plan(pools, (ds_cpu, ds_mem), notes)


def errors(result: Plan) -> list[str]:
    """One line per pool whose requests exceed what it offers, and per pod larger than one of its nodes."""
    out = [
        f"pool {p.name}: requests {float(p.requests_cpu):.2f} CPU / {float(p.requests_memory) / 2**30:.2f} GiB exceed "
        f"capacity {float(p.cpu):.2f} CPU / {float(p.memory) / 2**30:.2f} GiB ({p.basis})"
        for p in result.pools.values()
        if p.headroom_cpu < 0 or p.headroom_memory < 0
    ]
    for p in result.pools.values():
        out += [f"pool {p.name}: {pod} requests more than one node's allocatable" for pod in p.too_large]
    return out


def table(result: Plan) -> str:
    """The plan as a Markdown table (CPU in cores, memory in GiB) with the notes under it."""
    rows = [
        "| pool | capacity CPU | capacity GiB | requests CPU | requests GiB | limits CPU | limits GiB "
        "| headroom CPU | headroom GiB | fits |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in result.pools.values():
        gib = 2**30
        rows.append(
            f"| {p.name} | {float(p.cpu):.2f} | {float(p.memory) / gib:.2f} | {float(p.requests_cpu):.2f} | "
            f"{float(p.requests_memory) / gib:.2f} | {float(p.limits_cpu):.2f} | {float(p.limits_memory) / gib:.2f} | "
            f"{float(p.headroom_cpu):.2f} | {float(p.headroom_memory) / gib:.2f} | {'yes' if p.fits else 'NO'} |"
        )
    return "\n".join(rows + [""] + [f"- {n}" for n in result.notes])


def platform_plan(render: Any) -> Plan:
    """The plan of a PlatformRender: the system node group from the synthesized AWS::EKS::Nodegroup (minimum
    size, instance types), the NodePools from the CDK manifests, the pods from every release and the GitOps content."""
    groups = [
        res["Properties"]
        for template in render.templates.values()
        for res in template.get("Resources", {}).values()
        if res.get("Type") == "AWS::EKS::Nodegroup"
    ]
    if len(groups) != 1:
        raise CapacityError(f"expected one system AWS::EKS::Nodegroup in the templates, found {len(groups)}")
    return plan(
        [obj for _origin, obj in render.objects()],
        system_instance_types=list(groups[0]["InstanceTypes"]),
        system_min_size=int(groups[0]["ScalingConfig"]["MinSize"]),
        node_pools=[o for o in render.manifests if o.get("kind") == "NodePool"],
    )

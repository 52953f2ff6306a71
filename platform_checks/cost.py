"""Monthly cost plan of a rendered platform. Every figure is a product of factors, and every factor names its source:
a price row (list/, on-demand/, spot-savings/ with the row's date), a template property (template:, count:), a
rendered object (render:), a scheduling result (schedule:) or a stated assumption (assumption/); `resolve` reads a
source back, so a figure can be recomputed from its sources alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from platform_checks import pricing
from platform_checks.capacity import replicas_of
from platform_checks.quantity import parse_quantity
from platform_checks.wiring import name_of
from platform_checks.workload_cost import PoolPlan, assign, capacity_types, plan_pool
from platform_config.addons import addons
from platform_config.versions import PROFILES

GIB = Decimal(2**30)
LOAD_BALANCER_CHART = "aws-load-balancer-controller"


@dataclass(frozen=True)
class Factor:
    """One multiplicand: `how` is "" (as is), "1-%" (1 - value/100), "/30" (days to months) or "GiB" (bytes)."""

    value: Decimal
    ref: str
    how: str = ""
    note: str = ""

    @property
    def applied(self) -> Decimal:
        return {"": self.value, "1-%": 1 - self.value / 100, "/30": self.value / 30, "GiB": self.value / GIB}[self.how]


@dataclass
class Line:
    section: str  # fixed | traffic | workload
    item: str
    factors: list[Factor]
    note: str = ""

    @property
    def monthly(self) -> Decimal:
        out = Decimal(1)
        for factor in self.factors:
            out *= factor.applied
        return out


@dataclass
class CostPlan:
    profile: str
    region: str
    date: dt.date
    lines: list[Line]
    pools: list[PoolPlan]
    on_demand_pools: list[PoolPlan]
    on_demand_lines: list[Line]
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def total(self, *sections: str) -> Decimal:
        return sum((line.monthly for line in self.lines if line.section in sections), Decimal(0))

    @property
    def workload_all_on_demand(self) -> Decimal:
        return sum((line.monthly for line in self.on_demand_lines), Decimal(0))

    @property
    def saving(self) -> Decimal:
        return self.workload_all_on_demand - self.total("workload")

    def figures(self) -> dict[str, Decimal]:
        """The headline numbers: totals, the saving against all-On-Demand, and the ratio the dashboard shows."""
        fixed, workload = self.total("fixed", "traffic"), self.total("workload")
        compute_od = self.workload_all_on_demand
        actual = sum((p.hourly() for p in self.pools), Decimal(0))
        same_nodes_od = sum(
            (p.offers[n.candidate.name].on_demand.value for p in self.pools for n in p.placement.nodes), Decimal(0)
        )
        return {
            "fixed": fixed,
            "workload": workload,
            "total": fixed + workload,
            "workload_all_on_demand": compute_od,
            "total_all_on_demand": fixed + compute_od,
            "saving": self.saving,
            "saving_pct_of_compute": 100 * self.saving / compute_od if compute_od else Decimal(0),
            "saving_pct_of_platform": 100 * self.saving / (fixed + compute_od) if fixed + compute_od else Decimal(0),
            # What karpenter:fleet_savings:ratio reads: 1 - Karpenter's instances' price / the same instances
            # On-Demand (instances only: no system nodes, no volumes).
            "karpenter_savings_ratio": 1 - actual / same_nodes_od if same_nodes_od else Decimal(0),
        }


def hours() -> Decimal:
    return pricing.lookup("assumption/hours_per_month").value


# ------------------------------------------------------------------------------------------------------------
# Sources
# ------------------------------------------------------------------------------------------------------------


def _path(node: Any, path: str) -> Any:
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def resolve(ref: str, templates: Any, render: Any, pools: Sequence[PoolPlan]) -> Decimal:
    """The value a factor's source holds, read again from the templates, the render, the scheduling or the data."""
    kind, _, rest = ref.partition(":")
    if kind == "template":
        stack, logical, prop = rest.split("/", 2)
        return Decimal(str(_path(templates[stack]["Resources"][logical]["Properties"], prop)))
    if kind == "count":
        stack, rtype = rest.split("/", 1)
        stacks = templates.values() if stack == "*" else [templates[stack]]
        return Decimal(sum(1 for t in stacks for r in t.get("Resources", {}).values() if r["Type"] == rtype))
    if kind == "gateway-endpoints":
        return Decimal(sum(1 for t in templates.values() for r in t.get("Resources", {}).values()
                           if r["Type"] == "AWS::EC2::VPCEndpoint"
                           and r["Properties"].get("VpcEndpointType", "Gateway") == "Gateway"))  # fmt: skip
    if kind == "endpoint-azs":
        return Decimal(sum(len(r["Properties"].get("SubnetIds") or []) for r in _interface_endpoints(templates)))
    if kind == "render":
        name, prop = rest.split("/spec.", 1)
        obj = next(o for _, o in render.objects() if name_of(o) == name)
        return Decimal(int(parse_quantity(str(_path(obj["spec"], prop)))))
    if kind == "replicas":
        obj = next(o for _, o in render.objects() if name_of(o) == rest)
        return Decimal(replicas_of(obj))
    if kind == "schedule":
        pool, capacity_type, itype = rest.split("/")
        plan = next(p for p in pools if p.name == pool and p.capacity_type == capacity_type)
        return Decimal(plan.placement.count_by_type().get(itype, 0))
    return pricing.lookup(ref).value


def _interface_endpoints(templates: Mapping[str, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [
        r
        for t in templates.values()
        for r in t.get("Resources", {}).values()
        if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"].get("VpcEndpointType") == "Interface"
    ]


def _resources(templates: Mapping[str, Mapping[str, Any]], rtype: str) -> list[tuple[str, str, Mapping[str, Any]]]:
    return [
        (stack, logical, res)
        for stack, t in sorted(templates.items())
        for logical, res in sorted(t.get("Resources", {}).items())
        if res["Type"] == rtype
    ]


def _price(key: str) -> Factor:
    row = pricing.lookup(f"list/{key}")
    return Factor(row.value, row.ref, note=f"{row.unit}, {row.date}")


def _assume(key: str) -> Factor:
    row = pricing.lookup(f"assumption/{key}")
    return Factor(row.value, row.ref, note=row.source)


def _count(templates: Mapping[str, Mapping[str, Any]], stack: str, rtype: str) -> Factor:
    ref = f"count:{stack}/{rtype}"
    return Factor(resolve(ref, templates, None, []), ref, note=f"{rtype} in the templates")


# ------------------------------------------------------------------------------------------------------------
# Fixed cost from the templates
# ------------------------------------------------------------------------------------------------------------


def control_plane(
    profile: str, date: dt.date, templates: Mapping[str, Mapping[str, Any]]
) -> tuple[list[Line], list[str]]:
    """The EKS rate the release calendar gives the profile's version on the plan's date."""
    release = PROFILES[profile].kubernetes
    count = _count(templates, "*", "AWS::EKS::Cluster")
    # The cost plan prices release profiles only (an upgrade step's calendar is not recorded).
    assert release.standard_support_end is not None and release.extended_support_end is not None, profile
    if date > release.extended_support_end:
        return [], [
            f"Kubernetes {release.version} left EKS extended support on {release.extended_support_end}: on {date} "
            "EKS cannot create this version (choose a current release profile)"
        ]
    extended = date > release.standard_support_end
    key = "eks_control_plane_extended" if extended else "eks_control_plane_standard"
    why = (
        f"{release.version} in extended support on {date} (standard ended {release.standard_support_end})"
        if extended
        else f"{release.version} in standard support on {date} (until {release.standard_support_end})"
    )
    return [Line("fixed", "EKS control plane", [count, _assume("hours_per_month"), _price(key)], why)], []


def fixed_lines(templates: Mapping[str, Mapping[str, Any]], render: Any, region: str) -> tuple[list[Line], list[str]]:
    lines: list[Line] = []
    problems: list[str] = []
    h = _assume("hours_per_month")
    nat = _count(templates, "*", "AWS::EC2::NatGateway")
    if nat.value:
        lines.append(Line("fixed", "NAT gateways", [nat, h, _price("nat_gateway_hour")]))
        lines.append(Line("traffic", "NAT data processing", [_assume("nat_gb_per_month"), _price("nat_gateway_gb")]))
    eips = _count(templates, "*", "AWS::EC2::EIP")
    if eips.value:
        lines.append(Line("fixed", "public IPv4 addresses (NAT gateways' EIPs)", [eips, h, _price("public_ipv4_hour")]))
    if _interface_endpoints(templates):
        azs = Factor(
            resolve("endpoint-azs:", templates, None, []), "endpoint-azs:", note="interface endpoints x subnets"
        )
        lines.append(Line("fixed", "interface endpoints (per AZ)", [azs, h, _price("interface_endpoint_hour")]))
        lines.append(
            Line(
                "traffic",
                "interface endpoint data",
                [_assume("endpoint_gb_per_month"), _price("interface_endpoint_gb")],
            )
        )
    gateways = resolve("gateway-endpoints:", templates, None, [])
    if gateways:
        lines.append(
            Line(
                "fixed",
                "gateway endpoints (S3)",
                [
                    Factor(gateways, "gateway-endpoints:", note="AWS::EC2::VPCEndpoint of type Gateway"),
                    h,
                    _price("gateway_endpoint_hour"),
                ],
            )
        )
    lines += system_nodes(templates, region, problems)
    lines += volumes(render, problems)
    for _stack, logical, _res in _resources(templates, "AWS::SQS::Queue"):
        lines.append(
            Line(
                "fixed",
                f"SQS queue {logical}",
                [_assume("sqs_million_requests_per_month"), _price("sqs_million_requests")],
            )
        )
    lines += log_lines(templates)
    keys = _count(templates, "*", "AWS::KMS::Key")
    if keys.value:
        lines.append(Line("fixed", "KMS customer managed keys (retained)", [keys, _price("kms_key_month")]))
    lines += load_balancer(render, h)
    return lines, problems


def system_nodes(templates: Mapping[str, Mapping[str, Any]], region: str, problems: list[str]) -> list[Line]:
    lines = []
    for stack, logical, res in _resources(templates, "AWS::EKS::Nodegroup"):
        props = res["Properties"]
        itype = props["InstanceTypes"][0]
        desired = Factor(
            Decimal(props["ScalingConfig"]["DesiredSize"]), f"template:{stack}/{logical}/ScalingConfig.DesiredSize"
        )
        row = pricing.on_demand(region, itype)
        if row is None:
            problems.append(f"system node group: {itype} has no On-Demand price in the {region} table; not priced")
            continue
        price = Factor(row.value, row.ref, note=f"{row.unit}, {row.date}")
        note = f"{itype}: the first of InstanceTypes (template:{stack}/{logical}/InstanceTypes.0), On-Demand"
        lines.append(Line("fixed", f"system nodes ({itype})", [desired, _assume("hours_per_month"), price], note))
        template = props.get("LaunchTemplate", {}).get("Id", {}).get("Ref")
        if template:
            disks = templates[stack]["Resources"][template]["Properties"]["LaunchTemplateData"]["BlockDeviceMappings"]
            for i, disk in enumerate(disks):
                base = f"template:{stack}/{template}/LaunchTemplateData.BlockDeviceMappings.{i}.Ebs"
                if disk["Ebs"].get("VolumeType", "gp3") != "gp3":
                    problems.append(f"{base}.VolumeType: {disk['Ebs']['VolumeType']} has no list price; not priced")
                    continue
                size = Factor(Decimal(disk["Ebs"]["VolumeSize"]), f"{base}.VolumeSize", note="GiB")
                lines.append(Line("fixed", "system node disks (gp3)", [desired, size, _price("ebs_gp3_gb_month")]))
    return lines


def _claims(render: Any) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(object name, path of the claim spec under spec., claim spec) of every volume the workloads claim."""
    out = []
    for _origin, obj in render.objects():
        kind, spec = obj.get("kind"), obj.get("spec") or {}
        if kind == "PersistentVolumeClaim":
            out.append((name_of(obj), "", spec))
        elif kind == "StatefulSet":
            for i, claim in enumerate(spec.get("volumeClaimTemplates") or []):
                out.append((name_of(obj), f"volumeClaimTemplates.{i}.spec.", claim.get("spec") or {}))
        elif kind in ("Prometheus", "Alertmanager") and (spec.get("storage") or {}).get("volumeClaimTemplate"):
            out.append(
                (name_of(obj), "storage.volumeClaimTemplate.spec.", spec["storage"]["volumeClaimTemplate"]["spec"])
            )
    return out


def volumes(render: Any, problems: list[str]) -> list[Line]:
    """Persistent volumes the rendered workloads claim, priced by their StorageClass's EBS type."""
    classes = {o["metadata"]["name"]: o for _, o in render.objects() if o.get("kind") == "StorageClass"}
    default = next(
        (
            n
            for n, o in classes.items()
            if (o["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"
        ),
        None,
    )
    lines = []
    for name, prefix, claim in _claims(render):
        cls = claim.get("storageClassName") or default
        ebs_type = (classes.get(cls or "", {}).get("parameters") or {}).get("type")
        size = Factor(
            Decimal(int(parse_quantity(str(claim["resources"]["requests"]["storage"])))),
            f"render:{name}/spec.{prefix}resources.requests.storage",
            "GiB",
        )
        count = Factor(resolve(f"replicas:{name}", None, render, []), f"replicas:{name}", note="replicas")
        if ebs_type != "gp3":
            problems.append(f"{name}: StorageClass {cls} (type {ebs_type}) has no list price; its volume is not priced")
            continue
        lines.append(
            Line("fixed", f"volume of {name} (StorageClass {cls}: EBS gp3)", [count, size, _price("ebs_gp3_gb_month")])
        )
    return lines


def log_lines(templates: Mapping[str, Mapping[str, Any]]) -> list[Line]:
    """CloudWatch Logs: ingestion by assumption, storage as a month's volume kept for the group's retention."""

    def ingest(item: str, assumption: str, note: str = "") -> Line:
        return Line("fixed", f"Logs ingestion: {item}", [_assume(assumption), _price("logs_ingest_gb")], note)

    lines = []
    for stack, logical, res in _resources(templates, "AWS::EKS::Cluster"):
        types = (res["Properties"].get("Logging") or {}).get("ClusterLogging", {}).get("EnabledTypes") or []
        if types:
            note = f"{len(types)} control-plane log types (template:{stack}/{logical}/Logging)"
            lines.append(ingest("control plane", "control_plane_logs_gb_per_month", note))
    for stack, logical, res in _resources(templates, "AWS::EC2::FlowLog"):
        if res["Properties"].get("LogDestinationType") == "cloud-watch-logs":
            note = f"TrafficType {res['Properties'].get('TrafficType')} (template:{stack}/{logical})"
            lines.append(ingest("VPC flow logs", "flow_logs_gb_per_month", note))
    lines.append(ingest("other log groups", "other_logs_gb_per_month"))
    for stack, logical, res in _resources(templates, "AWS::Logs::LogGroup"):
        name = str(res["Properties"].get("LogGroupName", ""))
        volume = "control_plane_logs_gb_per_month" if name.startswith("/aws/eks/") else None
        if volume is None and any(
            r["Properties"].get("LogGroupName") == {"Ref": logical}
            for _, _, r in _resources(templates, "AWS::EC2::FlowLog")
        ):
            volume = "flow_logs_gb_per_month"
        if volume and "RetentionInDays" in res["Properties"]:
            days = Factor(
                Decimal(res["Properties"]["RetentionInDays"]), f"template:{stack}/{logical}/RetentionInDays", "/30"
            )
            lines.append(
                Line("fixed", f"Logs storage: {logical}", [_assume(volume), days, _price("logs_store_gb_month")])
            )
    return lines


def load_balancer(render: Any, h: Factor) -> list[Line]:
    """The shop's ALB, once the registry installs the AWS Load Balancer Controller: one per Ingress group."""
    if not any(a.chart == LOAD_BALANCER_CHART for a in addons(render.profile)):
        return []
    groups = set()
    for _, obj in render.objects():
        spec = obj.get("spec") or {}
        if obj.get("kind") == "Ingress" and spec.get("ingressClassName") == "alb":
            annotations = obj["metadata"].get("annotations") or {}
            groups.add(annotations.get("alb.ingress.kubernetes.io/group.name") or name_of(obj))
    lines = []
    for group in sorted(groups):
        lines.append(Line("fixed", f"ALB {group}", [h, _price("alb_hour")]))
        lines.append(Line("traffic", f"ALB {group} LCUs", [_assume("alb_lcu"), h, _price("alb_lcu_hour")]))
    return lines


# ------------------------------------------------------------------------------------------------------------
# Workload
# ------------------------------------------------------------------------------------------------------------


def workload_lines(pools: Sequence[PoolPlan], render: Any, region: str) -> list[Line]:
    lines = []
    h = _assume("hours_per_month")
    root = _root_volume(render)
    for plan in pools:
        for itype, count in plan.placement.count_by_type().items():
            offer = plan.offers[itype]
            factors = [
                Factor(Decimal(count), f"schedule:{plan.name}/{plan.capacity_type}/{itype}", note="nodes"),
                h,
                Factor(
                    offer.on_demand.value, offer.on_demand.ref, note=f"{offer.on_demand.unit}, {offer.on_demand.date}"
                ),
            ]
            note = "On-Demand"
            if offer.savings is not None:
                factors.append(
                    Factor(offer.savings.value, offer.savings.ref, "1-%", f"Spot Advisor, {offer.savings.date}")
                )
                note = f"Spot estimate, interruption {offer.band}"
            lines.append(Line("workload", f"NodePool {plan.name}: {count} x {itype}", factors, note))
            if root is not None:
                nodes = Factor(Decimal(count), f"schedule:{plan.name}/{plan.capacity_type}/{itype}", note="nodes")
                lines.append(
                    Line(
                        "workload",
                        f"NodePool {plan.name}: root volumes of {itype}",
                        [nodes, root, _price("ebs_gp3_gb_month")],
                    )
                )
    return lines


def _root_volume(render: Any) -> Factor | None:
    for obj in render.manifests:
        if obj.get("kind") == "EC2NodeClass":
            for i, mapping in enumerate(obj["spec"].get("blockDeviceMappings") or []):
                ebs = mapping.get("ebs") or {}
                if ebs.get("volumeType") == "gp3" and "volumeSize" in ebs:
                    ref = f"render:{name_of(obj)}/spec.blockDeviceMappings.{i}.ebs.volumeSize"
                    return Factor(Decimal(int(parse_quantity(str(ebs["volumeSize"])))), ref, "GiB")
    return None


def plan_cost(render: Any, *, region: str, date: dt.date | None = None) -> CostPlan:
    """The monthly plan of a PlatformRender (its templates and objects) in a region on a date (default: the price
    data's date, so the plan does not change by itself)."""
    date = date or dt.date.fromisoformat(pricing.price_date())
    templates = render.templates
    objects = [o for _, o in render.objects()]
    node_pools = [o for o in render.manifests if o.get("kind") == "NodePool"]
    assigned, homeless = assign(objects, node_pools)
    pools = [plan_pool(entry, region, ct) for entry in assigned.values() for ct in capacity_types(entry.pool)]
    on_demand = [plan_pool(entry, region, "on-demand") for entry in assigned.values()]
    lines, problems = control_plane(render.profile, date, templates)
    fixed, more = fixed_lines(templates, render, region)
    lines += fixed + workload_lines(pools, render, region)
    problems += more + [f"{name}: no NodePool admits it (taints, nodeSelector)" for name in homeless]
    for plan in pools:
        problems += [
            f"NodePool {plan.name}: {pod.name} unschedulable: {why}" for pod, why in plan.placement.unschedulable
        ]
    notes = []
    _partition, used = pricing.table_region(region)
    if used != region:
        notes.append(f"{region} has no On-Demand table of its own: us-east-1 prices are used, as Karpenter does")
    prices = pricing.list_prices()
    notes.append(f"list prices are {prices['region']} {prices['currency']} (platform_config/list_prices.json)")
    notes.append(
        "Spot prices move: Spot figures are estimates, On-Demand x (1 - Spot Advisor savings) from a dated snapshot"
    )
    on_demand_lines = workload_lines(on_demand, render, region)
    return CostPlan(render.profile, region, date, lines, pools, on_demand, on_demand_lines, notes, problems)

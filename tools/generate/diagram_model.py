"""What the architecture picture shows, read only from a synthesized assembly and the GitOps content it syncs.

`extract_model` turns the assembly (plus kustomize builds of the paths the root Application syncs) into a sorted
Model of boxes, parts and arrows; tools/generate/diagram.py turns that into Graphviz source and pictures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platform_checks.cfn_json import json_property
from platform_config.addons import addons
from platform_config.placement import (
    STATEFUL_NODE_SELECTOR,
    STATEFUL_TOLERATION,
    SYSTEM_NODE_SELECTOR,
    SYSTEM_TOLERATION,
)
from tools._paths import ROOT

HELM = "Custom::AWSCDK-EKS-HelmChart"
MANIFEST = "Custom::AWSCDK-EKS-KubernetesResource"

SPOT, ON_DEMAND, SYSTEM = "spot", "on-demand", "system"


class DiagramError(ValueError):
    """The assembly or the GitOps content lacks something the picture is drawn from."""


@dataclass(frozen=True, order=True)
class Group:
    """A box (Graphviz cluster) around parts; parent "" is the top level."""

    id: str
    label: str
    parent: str
    style: str


@dataclass(frozen=True, order=True)
class Part:
    """One drawn component: a provider icon with a label, inside a group."""

    id: str
    label: str
    icon: str
    group: str


@dataclass(frozen=True, order=True)
class Link:
    """An arrow between two parts."""

    src: str
    dst: str
    label: str = ""
    style: str = "flow"
    into: str = ""  # a group: the arrow ends at its border (Graphviz lhead)


@dataclass(frozen=True)
class Model:
    """Everything the picture shows, sorted, so the same inputs give the same source."""

    title: str
    groups: tuple[Group, ...]
    parts: tuple[Part, ...]
    links: tuple[Link, ...]


@dataclass
class _Builder:
    groups: dict[str, Group] = field(default_factory=dict)
    parts: dict[str, Part] = field(default_factory=dict)
    links: set[Link] = field(default_factory=set)

    def group(self, id_: str, label: str, *, parent: str = "", style: str = "box") -> str:
        if id_ in self.groups:
            raise DiagramError(f"two groups with the id {id_!r}")
        self.groups[id_] = Group(id_, label, parent, style)
        return id_

    def part(self, id_: str, label: str, *, icon: str, group: str) -> str:
        if id_ in self.parts:
            raise DiagramError(f"two parts with the id {id_!r}")
        self.parts[id_] = Part(id_, label, icon, group)
        return id_

    def link(self, src: str, dst: str, label: str = "", style: str = "flow", into: str = "") -> None:
        self.links.add(Link(src, dst, label, style, into))

    def grid(self, ids: list[str], lines: int, *, below: tuple[str, ...] = ()) -> None:
        """Lay unconnected parts out in `lines` columns under the parts `below` (invisible links), instead of
        one long row that Graphviz would put wherever it has room."""
        for first, second in zip(ids, ids[lines:], strict=False):
            self.link(first, second, style="invisible")
        for anchor in below:
            for head in ids[:lines]:
                self.link(anchor, head, style="invisible")

    def model(self, title: str) -> Model:
        for link in self.links:
            for end in (link.src, link.dst):
                if end not in self.parts:
                    raise DiagramError(f"link {link.src} -> {link.dst} names no part {end!r}")
        return Model(
            title, tuple(sorted(self.groups.values())), tuple(sorted(self.parts.values())), tuple(sorted(self.links))
        )


# ---------------------------------------------------------------------------------------------------------------
# Reading the assembly


@dataclass(frozen=True)
class Stack:
    """One CloudFormation stack of the assembly: its artifact id, environment, template resources and metadata."""

    name: str
    environment: str
    resources: dict[str, dict[str, Any]]
    metadata: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        """Properties of every resource of one type, in logical-id order."""
        return [r.get("Properties", {}) for _, r in sorted(self.resources.items()) if r["Type"] == type_]


def load_stacks(assembly: Path) -> list[Stack]:
    """The assembly's CloudFormation stacks, sorted by name."""
    manifest_path = assembly / "manifest.json"
    if not manifest_path.is_file():
        raise DiagramError(f"{assembly} is not a cloud assembly (no manifest.json): run `make synth` first")
    manifest = json.loads(manifest_path.read_text())
    stacks = []
    for name, artifact in sorted(manifest["artifacts"].items()):
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
        stacks.append(
            Stack(name, artifact.get("environment", ""), template.get("Resources", {}), template.get("Metadata", {}))
        )
    if not stacks:
        raise DiagramError(f"{assembly} holds no CloudFormation stack")
    return stacks


def manifests(stack: Stack) -> list[dict[str, Any]]:
    """Every Kubernetes object the stack applies through the kubectl handler."""
    docs: list[dict[str, Any]] = []
    for props in stack.of_type(MANIFEST):
        parsed = json_property(props["Manifest"])
        docs.extend(d for d in (parsed if isinstance(parsed, list) else [parsed]) if isinstance(d, dict))
    return docs


def _tags(props: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in props.get("Tags", []) if isinstance(t.get("Value"), str)}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _only(stack: Stack, type_: str) -> dict[str, Any]:
    found = stack.of_type(type_)
    if len(found) != 1:
        raise DiagramError(f"{stack.name}: expected one {type_}, found {len(found)}")
    return found[0]


def _contains(tree: Any, wanted: Mapping[str, Any]) -> bool:
    """Whether any mapping inside `tree` (values, manifests) holds all of `wanted`'s items."""
    if isinstance(tree, dict):
        if all(tree.get(k) == v for k, v in wanted.items()):
            return True
        return any(_contains(v, wanted) for v in tree.values())
    if isinstance(tree, list):
        return any(_contains(v, wanted) for v in tree)
    return False


def placement(values: Any) -> str:
    """Where pods configured by these values land under the placement contract (platform_config/placement.py)."""
    selects, tolerates = _contains(values, STATEFUL_NODE_SELECTOR), _contains(values, STATEFUL_TOLERATION)
    if selects and not tolerates:
        raise DiagramError(
            f"values select {STATEFUL_NODE_SELECTOR} without tolerating the taint {STATEFUL_TOLERATION}: "
            "such pods fit no node (see the placement contract in platform_config/placement.py)"
        )
    if selects:
        return ON_DEMAND
    if _contains(values, SYSTEM_NODE_SELECTOR) and _contains(values, SYSTEM_TOLERATION):
        return SYSTEM
    return SPOT


# ---------------------------------------------------------------------------------------------------------------
# The model


Build = Callable[[Path], list[dict[str, Any]]]


def _default_build(directory: Path) -> list[dict[str, Any]]:
    from platform_checks.kustomize import kustomize_build

    return kustomize_build(directory)


def extract_model(assembly: Path, *, repo_root: Path = ROOT, build: Build = _default_build) -> Model:
    """Read the stacks and the GitOps content the root Application syncs; return the sorted picture model."""
    stacks = {s.name: s for s in load_stacks(assembly)}
    b = _Builder()
    found: dict[str, Stack] = {}
    for stack in stacks.values():
        types = {r["Type"] for r in stack.resources.values()}
        role = (
            "network"
            if "AWS::EC2::VPC" in types
            else "cluster"
            if "AWS::EKS::Cluster" in types
            else "karpenter"
            if "AWS::SQS::Queue" in types
            else "addons"
            if HELM in types
            else ""
        )
        if not role or role in found:
            raise DiagramError(f"stack {stack.name} has no place in the picture (resource types {sorted(types)})")
        found[role] = stack
    missing = {"network", "cluster", "karpenter", "addons"} - set(found)
    if missing:
        raise DiagramError(f"the assembly has no {', '.join(sorted(missing))} stack")

    for role, stack in sorted(found.items()):
        b.group(f"stack_{role}", f"{stack.name}  (CloudFormation stack)", style=f"stack_{role}")

    cluster = _only(found["cluster"], "AWS::EKS::Cluster")
    k8s_version = cluster.get("Version")
    if not isinstance(k8s_version, str):
        raise DiagramError(f"{found['cluster'].name}: AWS::EKS::Cluster has no literal Version")
    _network(b, found["network"])
    _cluster(b, found["cluster"], cluster, k8s_version)
    if cluster.get("ResourcesVpcConfig", {}).get("SubnetIds"):
        b.link("vpc", "control_plane", "cluster subnets", style="plain")
    pools = _karpenter(b, found["karpenter"])
    charts = {str(p.get("Chart")): str(p.get("Version")) for s in found.values() for p in s.of_type(HELM)}
    # The cluster stack records the profile it was synthesized for; older assemblies are matched by chart pins.
    recorded = found["cluster"].metadata.get("EksPlatform", {}).get("Release")
    profile = str(recorded) if recorded else release_profile(charts)
    _addons(b, found["addons"], _GitOps(repo_root, build, profile, pools))
    _entry_point(b, found["addons"])

    karpenter = [p for p in found["karpenter"].of_type(HELM) if p.get("Chart") == "karpenter"]
    title = (
        f"{found['cluster'].name.rsplit('-', 1)[0]}: Kubernetes {k8s_version} on EKS"
        + (f" (release profile {profile})" if profile else "")
        + " · "
        f"Karpenter {karpenter[0].get('Version') if karpenter else '?'} · Argo CD chart {charts.get('argo-cd', '?')}"
        " · drawn from the synthesized assembly by `make diagram`"
    )
    return b.model(title)


ALB = "alb.ingress.kubernetes.io/"


def _entry_point(b: _Builder, stack: Stack) -> None:
    """Users -> the ALB the controller makes from the shop's Ingress -> the workload of its backend Service."""
    ingresses = [d for d in manifests(stack) if d["kind"] == "Ingress"]
    if not ingresses:
        return
    for ingress in ingresses:
        notes = ingress["metadata"].get("annotations", {})
        scheme = notes.get(f"{ALB}scheme", "internal")
        listeners = "HTTPS (HTTP redirected)" if f"{ALB}certificate-arn" in notes else "HTTP"
        alb = b.part(
            f"alb_{_slug(ingress['metadata']['name'])}",
            f"ALB ({scheme}), {listeners}\nfrom {notes.get(ALB + 'inbound-cidrs', '?')}"
            + ("\nWAF" if f"{ALB}wafv2-acl-arn" in notes else ""),
            icon="elb",
            group="",
        )
        users = (
            b.parts.get("users")
            or b.parts[
                b.part(
                    "users",
                    "Users" + (" (internet)" if scheme == "internet-facing" else " (in the VPC)"),
                    icon="users",
                    group="",
                )
            ]
        )
        b.link(users.id, alb, "HTTPS" if "HTTPS" in listeners else "HTTP")
        b.link(f"{_slug(ingress['kind'])}_{_slug(ingress['metadata']['name'])}", alb, "configures", style="control")
        controllers = [p for p in b.parts if p.startswith("helm_") and "load_balancer_controller" in p]
        for controller in controllers:
            b.link(controller, alb, "creates", style="control")
        for rule in ingress["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                # The shop's chart names a component's Service after it (with the release as a prefix in demo 1.x):
                # the workload is the longest component of the Ingress's namespace the Service name ends with.
                service = path["backend"]["service"]["name"].replace("-", "").lower()
                prefix = f"workload_{_slug(ingress['metadata']['namespace'])}_"
                components = {p: p.removeprefix(prefix).replace("_", "") for p in b.parts if p.startswith(prefix)}
                targets = sorted((p for p, c in components.items() if service.endswith(c)), key=lambda p: len(p))[-1:]
                if not targets:
                    raise DiagramError(f"Ingress {ingress['metadata']['name']}: no workload serves {service}")
                b.link(alb, targets[0], "pod IPs")


def release_profile(charts: Mapping[str, str]) -> str | None:
    """The release profile whose pins are the versions of every Helm chart in the assembly (None unless exactly
    one profile matches: the assembly, not cdk.json, says which profile it was synthesized for)."""
    from platform_config.versions import profiles_pinning

    names = profiles_pinning(dict(charts))
    return names[0] if len(names) == 1 else None


def _network(b: _Builder, stack: Stack) -> None:
    g = "stack_network"
    vpc = _only(stack, "AWS::EC2::VPC")
    b.part("vpc", f"VPC {vpc.get('CidrBlock', '?')}", icon="vpc", group=g)
    b.part("igw", "internet gateway", icon="igw", group=g)
    b.link("igw", "vpc", style="plain")
    subnets = sorted(
        (
            (
                (str(s.get("AvailabilityZone")), _tags(s).get("aws-cdk:subnet-type", "?"), str(s.get("CidrBlock"))),
                _tags(s),
            )
            for s in stack.of_type("AWS::EC2::Subnet")
        ),
        key=lambda subnet: subnet[0],
    )
    nat_subnets = {_tags(n).get("Name", "") for n in stack.of_type("AWS::EC2::NatGateway")}
    zones = sorted({zone for (zone, _, _), _ in subnets})
    for zone in zones:
        zg = b.group(f"az_{_slug(zone)}", f"zone {zone}", parent=g, style="zone")
        for (z, kind, cidr), tags in subnets:
            if z != zone:
                continue
            roles = sorted(k.removeprefix("kubernetes.io/role/") for k in tags if k.startswith("kubernetes.io/role/"))
            extra = ["Karpenter discovery"] if "karpenter.sh/discovery" in tags else []
            sid = f"subnet_{_slug(zone)}_{_slug(kind)}"
            # A subnet group named apart from its type (control-plane, isolated) says what the subnet is for.
            name = tags.get("aws-cdk:subnet-name", kind.lower())
            purpose = [f"{name} group"] if name != kind.lower() else []
            b.part(
                sid,
                f"{kind.lower()} {cidr}\n" + ", ".join(["role " + r for r in roles] + extra + purpose),
                icon=f"subnet_{kind.lower()}",
                group=zg,
            )
            b.link("vpc", sid, style="plain")
            if tags.get("Name", "?") in nat_subnets:
                nid = f"nat_{_slug(zone)}"
                b.part(nid, "NAT gateway", icon="nat", group=zg)
                b.link(sid, nid, style="plain")
    nats = stack.of_type("AWS::EC2::NatGateway")
    if len(nats) != sum(1 for p in b.parts if p.startswith("nat_")):
        raise DiagramError(f"{stack.name}: a NAT gateway sits in no drawn public subnet")
    for ep in stack.of_type("AWS::EC2::VPCEndpoint"):
        service = _endpoint_service(ep.get("ServiceName"))
        kind = str(ep.get("VpcEndpointType", "Gateway")).lower()
        b.part(f"endpoint_{_slug(service)}", f"{service} {kind} endpoint", icon="endpoint", group=g)
    for log in stack.of_type("AWS::EC2::FlowLog"):
        days = [lg.get("RetentionInDays") for lg in stack.of_type("AWS::Logs::LogGroup")]
        b.part(
            "flow_log",
            f"flow log ({log.get('TrafficType', '?')})\n→ CloudWatch Logs"
            + (f", {days[0]} d" if len(days) == 1 else ""),
            icon="flowlog",
            group=g,
        )


def _endpoint_service(name: Any) -> str:
    """com.amazonaws.<region>.s3 -> s3, with the region usually a token inside an Fn::Join."""
    if isinstance(name, dict) and "Fn::Join" in name:
        name = "".join(p for p in name["Fn::Join"][1] if isinstance(p, str))
    return str(name).rsplit(".", 1)[-1]


def _cluster(b: _Builder, stack: Stack, cluster: dict[str, Any], version: str) -> None:
    g = "stack_cluster"
    vpc_config = cluster.get("ResourcesVpcConfig", {})
    endpoint = "public+private" if vpc_config.get("EndpointPublicAccess") else "private"
    if not vpc_config.get("EndpointPrivateAccess", True):
        endpoint = "public"
    logs = [t.get("Type") for t in cluster.get("Logging", {}).get("ClusterLogging", {}).get("EnabledTypes", [])]
    secrets = "secrets KMS-encrypted" if cluster.get("EncryptionConfig") else "secrets NOT encrypted"
    auth = cluster.get("AccessConfig", {}).get("AuthenticationMode", "?")
    b.part(
        "control_plane",
        f"EKS control plane\nKubernetes {version}\nauth {auth} · {endpoint} endpoint\n"
        f"{secrets} · {len(logs)} log types",
        icon="eks",
        group=g,
    )
    for ng in stack.of_type("AWS::EKS::Nodegroup"):
        scaling = ng.get("ScalingConfig", {})
        taints = [f"{t.get('Key')}:{t.get('Effect')}" for t in ng.get("Taints", [])]
        capacity = "On-Demand" if ng.get("CapacityType", "ON_DEMAND") == "ON_DEMAND" else "Spot"
        b.part(
            "system_nodes",
            f"system node group · {capacity}\n{', '.join(ng.get('InstanceTypes', []))}\n"
            f"{scaling.get('MinSize')}–{scaling.get('MaxSize')} nodes · taint {', '.join(taints) or 'none'}",
            icon="nodegroup",
            group=g,
        )
        b.link("control_plane", "system_nodes", style="plain")
    addons = sorted(str(a.get("AddonName")) for a in stack.of_type("AWS::EKS::Addon"))
    if addons:
        b.part("eks_addons", "EKS add-ons\n" + "\n".join(addons), icon="addon", group=g)
        b.link("control_plane", "eks_addons", style="plain")
    layers = [str(layer.get("Description", "")) for layer in stack.of_type("AWS::Lambda::LayerVersion")]
    tools = [d for d in layers if "kubectl" in d]
    if tools:
        versions = " · ".join(p.strip().rsplit("/", 1)[-1] for p in tools[0].split(";"))
        b.part("kubectl_handler", f"kubectl handler (Lambda)\n{versions}", icon="lambda", group=g)
        b.link("kubectl_handler", "control_plane", "Helm + manifests", style="plain")


def _quantity_label(limits: Mapping[str, Any]) -> str:
    return " / ".join(f"{limits[k]}{' vCPU' if k == 'cpu' else ''}" for k in sorted(limits))


def _karpenter(b: _Builder, stack: Stack) -> dict[str, str]:
    """Interruption path, controller and NodePools; returns {capacity: NodePool part id}."""
    g = "stack_karpenter"
    queue = _only(stack, "AWS::SQS::Queue")
    b.part(
        "queue",
        f"SQS {queue.get('QueueName', 'queue')}\ninterruption queue · {queue.get('MessageRetentionPeriod')} s",
        icon="sqs",
        group=g,
    )
    details = sorted(
        d for rule in stack.of_type("AWS::Events::Rule") for d in rule.get("EventPattern", {}).get("detail-type", ["?"])
    )
    if details:
        b.part("event_rules", f"EventBridge rules ({len(details)})\n" + "\n".join(details), icon="rule", group=g)
        b.link("event_rules", "queue")
    charts = {str(p.get("Release")): p for p in stack.of_type(HELM)}
    ns = sorted({str(p.get("Namespace")) for p in charts.values()})
    system = {placement(json_property(p.get("Values", "{}"))) for p in charts.values()} <= {SYSTEM}
    on = " · on the system node group" if system else ""
    ng = b.group("ns_karpenter", f"namespace {', '.join(ns)}{on}", parent=g, style="namespace")
    for release, props in sorted(charts.items()):
        b.part(
            f"helm_{_slug(release)}",
            f"Karpenter\nHelm {props.get('Chart')} {props.get('Version')}",
            icon="karpenter" if props.get("Chart") == "karpenter" else "helm",
            group=ng,
        )
    if "karpenter" not in charts:
        raise DiagramError(f"{stack.name}: no Helm release of the karpenter chart")
    b.link("queue", "helm_karpenter", "drain within the warning")
    if system and "system_nodes" in b.parts:
        b.link("system_nodes", "helm_karpenter", "runs", style="placement", into=ng)
    if "karpenter-crd" in charts:
        b.link("helm_karpenter_crd", "helm_karpenter", style="plain")
    pools: dict[str, str] = {}
    for doc in manifests(stack):
        name = doc["metadata"]["name"]
        if doc["kind"] == "EC2NodeClass":
            amis = ", ".join(t.get("alias", t.get("id", "?")) for t in doc["spec"].get("amiSelectorTerms", []))
            b.part(f"nodeclass_{_slug(name)}", f"EC2NodeClass {name}\nAMI {amis}", icon="nodeclass", group=g)
        elif doc["kind"] == "NodePool":
            spec = doc["spec"]
            reqs = {r["key"]: r["values"] for r in spec["template"]["spec"].get("requirements", [])}
            capacity = reqs.get("karpenter.sh/capacity-type", ["?"])
            cap = "Spot" if capacity == ["spot"] else "On-Demand" if capacity == ["on-demand"] else "/".join(capacity)
            taints = [f"taint {t['key']}={t.get('value', '')}" for t in spec["template"]["spec"].get("taints", [])]
            key = SPOT if cap == "Spot" else ON_DEMAND
            if key in pools:
                raise DiagramError(f"{stack.name}: two {cap} NodePools; the picture draws one per capacity type")
            pg = b.group(f"capacity_{key}", f"{cap} capacity  (NodePool {name})", style=f"capacity_{key}")
            pid = b.part(
                f"nodepool_{_slug(name)}",
                "\n".join(
                    [
                        f"NodePool {name} · {cap}",
                        f"weight {spec.get('weight', 0)}",
                        f"limits {_quantity_label(spec.get('limits', {}))}",
                        f"EC2NodeClass {spec['template']['spec']['nodeClassRef']['name']}",
                        *taints,
                    ]
                ),
                icon=f"pool_{key}",
                group=pg,
            )
            pools[key] = pid
            b.link("helm_karpenter", pid, "provisions", style="control")
    if set(pools) != {SPOT, ON_DEMAND}:
        raise DiagramError(f"{stack.name}: expected a Spot and an On-Demand NodePool, found {sorted(pools)}")
    return pools


GRID_LINES = 8
SHOP_COLUMNS = 6
# Each chart's icon is its registry record's (platform_config/addons.py).
ADDON_ICONS = {a.chart: a.icon for a in addons()}


@dataclass(frozen=True)
class _GitOps:
    """Where the GitOps content comes from and what it is drawn against."""

    repo_root: Path
    build: Build
    profile: str | None  # the release profile the assembly was synthesized for (chart defaults are per profile)
    pools: Mapping[str, str]  # capacity -> NodePool part id


def _addons(b: _Builder, stack: Stack, gitops: _GitOps) -> None:
    g = "stack_addons"
    by_ns: dict[str, list[dict[str, Any]]] = {}
    for props in stack.of_type(HELM):
        by_ns.setdefault(str(props.get("Namespace")), []).append(props)
    for ns, releases in sorted(by_ns.items()):
        where = {placement(json_property(p.get("Values", "{}"))) for p in releases}
        on = " · on the system node group" if where == {SYSTEM} else ""
        nsg = b.group(f"ns_{_slug(ns)}", f"namespace {ns}{on}", parent=g, style="namespace")
        for props in sorted(releases, key=lambda p: str(p.get("Release"))):
            chart = str(props.get("Chart"))
            b.part(
                f"helm_{_slug(str(props.get('Release')))}",
                f"{chart}\nHelm {props.get('Version')}",
                icon=ADDON_ICONS.get(chart, "helm"),
                group=nsg,
            )
        if where == {SYSTEM} and "system_nodes" in b.parts:
            first = f"helm_{_slug(str(min(str(p.get('Release')) for p in releases)))}"
            b.link("system_nodes", first, "runs", style="placement", into=nsg)
        if any(p.get("Chart") == "kube-prometheus-stack" for p in releases):
            b.part("grafana", "Grafana", icon="grafana", group=nsg)
            b.link("helm_kube_prometheus_stack", "grafana", style="plain")
    argocd = next(
        (f"helm_{_slug(str(p.get('Release')))}" for p in stack.of_type(HELM) if p.get("Chart") == "argo-cd"), None
    )
    if argocd is None:
        raise DiagramError(f"{stack.name}: no Helm release of the argo-cd chart")
    docs = manifests(stack)
    roots = [d for d in docs if d["kind"] == "Application"]
    if not roots:
        raise DiagramError(f"{stack.name}: no root Application")
    for doc in docs:
        if doc["kind"] not in ("Application", "AppProject"):
            b.part(
                f"{_slug(doc['kind'])}_{_slug(doc['metadata']['name'])}",
                f"{doc['kind']} {doc['metadata']['name']}",
                icon="storageclass" if doc["kind"] == "StorageClass" else "crd",
                group=g,
            )
    projects = [d["metadata"]["name"] for d in docs if d["kind"] == "AppProject"]
    gitg = b.group("git", "GitOps: what Argo CD syncs", style="git")
    for root in sorted(roots, key=lambda d: str(d["metadata"]["name"])):
        name = root["metadata"]["name"]
        sources = root["spec"].get("sources") or [root["spec"]["source"]]
        rid = b.part(
            f"application_{_slug(name)}",
            f"Application {name}\nproject {root['spec'].get('project')}"
            + (f" (AppProject {', '.join(projects)})" if projects else ""),
            icon="argocd_app",
            group=f"ns_{_slug(root['metadata'].get('namespace', 'argocd'))}"
            if f"ns_{_slug(root['metadata'].get('namespace', 'argocd'))}" in b.groups
            else g,
        )
        b.link(argocd, rid, style="control")
        repos = sorted({str(s.get("repoURL")) for s in sources})
        for repo in repos:
            revs = sorted({str(s.get("targetRevision", "HEAD")) for s in sources if s.get("repoURL") == repo})
            gid = f"repo_{_slug(repo)}"
            if gid not in b.parts:
                host_path = repo.split("://", 1)[-1].split("/", 1)
                b.part(gid, "\n".join(["Git repository", *host_path, f"@ {', '.join(revs)}"]), icon="git", group="")
            b.link(gid, rid, _sync_label(root), style="gitops")
        for source in sorted(sources, key=lambda s: str(s.get("path"))):
            path = source.get("path")
            if path is None:
                continue
            _gitops_path(b, str(path), rid, gitops, gitg)


def _chart_defaults(chart: str, profile: str | None) -> Any:
    """The chart's default values as committed in upstream_facts/ (Helm merges an Application's values over them)."""
    from platform_checks.upstream_facts import load_fact

    if profile is None:
        raise DiagramError(f"the assembly records no release profile, so the {chart} chart defaults are unknown")
    return load_fact(f"values/{chart}.defaults.json", profile)


def _sync_label(app: Mapping[str, Any]) -> str:
    """How Argo CD follows the repository, from the Application's syncPolicy."""
    automated = app["spec"].get("syncPolicy", {}).get("automated")
    if automated is None:
        return "manual sync"
    return (
        "auto-sync"
        + (", self-heal" if automated.get("selfHeal") else "")
        + (", prune" if automated.get("prune") else "")
    )


def _gitops_path(b: _Builder, path: str, root: str, gitops: _GitOps, gitg: str) -> None:
    directory = gitops.repo_root / path
    if not directory.is_dir():
        raise DiagramError(f"the root Application syncs path {path!r}, but {directory} is not a directory")
    docs = gitops.build(directory)
    pg = b.group(f"path_{_slug(path)}", f"{path}/  (kustomize)", parent=gitg, style="path")
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
        if doc["kind"] == "Application":
            _application(b, doc, pg, gitops)
    ids = [a for a in b.parts if b.parts[a].group == pg]
    for kind, objects in sorted(by_kind.items()):
        if kind == "Application":
            continue
        title, icon = _summary(kind, objects)
        names = sorted(str(o["metadata"]["name"]) for o in objects)
        if len(names) > MAX_LISTED:  # a taller label would stretch its whole rank of the picture
            names = [*names[: MAX_LISTED - 1], f"… {len(names) - MAX_LISTED + 1} more in {path}/"]
        ids.append(
            b.part(
                f"{_slug(path)}_{_slug(kind)}", f"{title} ({len(objects)})\n" + "\n".join(names), icon=icon, group=pg
            )
        )
        if icon == "policy" and "helm_kyverno" in b.parts:
            b.link("helm_kyverno", ids[-1], "enforces", style="control")
    b.link(root, ids[0], "syncs", style="gitops", into=pg)
    b.grid(ids, GRID_LINES, below=(root,))


MAX_LISTED = 6
KYVERNO_GROUPS = ("kyverno.io", "policies.kyverno.io")
SUMMARIES = {
    "PrometheusRule": ("PrometheusRules", "rules"),
    "PodDisruptionBudget": ("PodDisruptionBudgets", "pdb"),
    "Namespace": ("Namespaces", "namespace"),
}


def _summary(kind: str, objects: list[dict[str, Any]]) -> tuple[str, str]:
    """Title and icon for the objects of one kind that a GitOps path applies."""
    if all(str(o.get("apiVersion", "")).split("/")[0] in KYVERNO_GROUPS for o in objects):
        return f"Kyverno {kind[:-1] + 'ies' if kind.endswith('y') else kind + 's'}", "policy"
    if kind == "ConfigMap" and all("grafana_dashboard" in o["metadata"].get("labels", {}) for o in objects):
        return "Grafana dashboards (ConfigMaps)", "dashboards"
    return SUMMARIES.get(kind, (kind, "crd"))


def _application(b: _Builder, app: dict[str, Any], group: str, gitops: _GitOps) -> None:
    """A child Application: drawn in Git, its workloads drawn on the capacity the placement contract picks."""
    pools = gitops.pools
    name = app["metadata"]["name"]
    source = app["spec"].get("source") or app["spec"]["sources"][0]
    chart = source.get("chart")
    dest_ns = app["spec"].get("destination", {}).get("namespace", "?")
    aid = b.part(
        f"application_{_slug(name)}",
        f"Application {name}\n{'chart ' + chart if chart else source.get('path')}"
        f" {source.get('targetRevision', '')}\n→ namespace {dest_ns}",
        icon="argocd_app",
        group=group,
    )
    values = source.get("helm", {}).get("valuesObject", {})
    components = values.get("components") if isinstance(values, dict) else None
    if isinstance(components, dict) and chart:
        from platform_checks.values import coalesce

        merged = coalesce(_chart_defaults(chart, gitops.profile), values)["components"]
        enabled = {c: v for c, v in merged.items() if isinstance(v, dict) and v.get("enabled", True)}
        for capacity in (SPOT, ON_DEMAND, SYSTEM):
            on = sorted(c for c, v in enabled.items() if placement(v.get("schedulingRules", {})) == capacity)
            if not on:
                continue
            if capacity not in pools:
                raise DiagramError(f"Application {name}: {', '.join(on)} land on {capacity}, which has no NodePool")
            wg = b.group(
                f"workloads_{_slug(name)}_{capacity}",
                f"namespace {dest_ns} · Application {name}",
                parent=b.parts[pools[capacity]].group,
                style="namespace",
            )
            for component in on:
                replicas = enabled[component].get("replicas", 1)
                icon = "stateful" if capacity == ON_DEMAND else "stateless"
                icon = {"kafka": "kafka", "valkey": "valkey"}.get(component, icon)
                b.part(
                    f"workload_{_slug(name)}_{_slug(component)}",
                    component + (f" ×{replicas}" if replicas != 1 else ""),
                    icon=icon,
                    group=wg,
                )
            ids = [f"workload_{_slug(name)}_{_slug(c)}" for c in on]
            b.grid(ids, SHOP_COLUMNS, below=(aid, pools[capacity]))
            b.link(aid, ids[0], "deploys", style="gitops")
        return
    capacity = placement(values)
    if capacity not in pools:
        raise DiagramError(f"Application {name} lands on {capacity}, which has no NodePool")
    wg_id = f"workloads_{_slug(dest_ns)}_{capacity}"
    if wg_id not in b.groups:
        b.group(wg_id, f"namespace {dest_ns}", parent=b.parts[pools[capacity]].group, style="namespace")
    wid = b.part(
        f"workload_{_slug(name)}",
        name,
        # A workload drawn as itself: its registry icon, else a plain Deployment (not the Helm logo).
        icon="stateless" if ADDON_ICONS.get(str(chart), "helm") == "helm" else ADDON_ICONS[str(chart)],
        group=wg_id,
    )
    b.link(aid, wid, "deploys", style="gitops")
    b.link(pools[capacity], wid, style="invisible")

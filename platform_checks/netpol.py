"""NetworkPolicy semantics over manifests, ingress and egress: which flows the policies admit, and the scrape flows
to check."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from platform_checks.wiring import monitor_namespaces, pod_template, selector_matches

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Flow:
    """A connection: from a pod (src_namespace None: from outside the pod network, e.g. the API server's
    interfaces) to a pod's port (dst_namespace None: to an address outside the cluster). The addresses are what
    ipBlock peers match: a flow without one is matched by no ipBlock."""

    what: str
    dst_namespace: str | None
    dst_labels: Mapping[str, str]
    port: int
    port_name: str | None = None
    src_namespace: str | None = None
    src_labels: Mapping[str, str] = field(default_factory=dict)
    protocol: str = "TCP"
    src_ip: str | None = None
    dst_ip: str | None = None


def _in_block(block: Mapping[str, Any], address: str | None) -> bool:
    """Whether an ipBlock (cidr minus except) holds the address; no address is in no block."""
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    if ip not in ipaddress.ip_network(block["cidr"], strict=False):
        return False
    return not any(ip in ipaddress.ip_network(cidr, strict=False) for cidr in block.get("except") or [])


def _peer_admits(peer: Mapping[str, Any], policy_ns: str, flow: Flow, *, egress: bool = False) -> bool:
    """An ingress rule's peer is the flow's source; an egress rule's peer is its destination."""
    if egress:
        ip, namespace, labels = flow.dst_ip, flow.dst_namespace, flow.dst_labels
    else:
        ip, namespace, labels = flow.src_ip, flow.src_namespace, flow.src_labels
    if "ipBlock" in peer:
        # Matched by address: the API server's ENIs, load balancers, and (the VPC CNI gives pods VPC addresses)
        # any pod whose address falls in the block.
        return _in_block(peer["ipBlock"], ip)
    if namespace is None:
        return False
    ns_selector = peer.get("namespaceSelector")
    if ns_selector is None:
        if namespace != policy_ns:
            return False
    elif not selector_matches(ns_selector, {NAMESPACE_NAME_LABEL: namespace}):
        return False
    return "podSelector" not in peer or selector_matches(peer["podSelector"], labels)


def _port_admits(ports: list[Mapping[str, Any]] | None, flow: Flow) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != flow.protocol:
            continue
        port = entry.get("port")
        if port is None or port == flow.port or (flow.port_name is not None and port == flow.port_name):
            return True
        end = entry.get("endPort")
        if isinstance(port, int) and end is not None and port <= flow.port <= end:
            return True
    return False


def policies_in(manifests: Iterable[Mapping[str, Any]], namespace: str | None = None) -> list[Mapping[str, Any]]:
    """The NetworkPolicies among manifests (objects without a namespace are placed in `namespace`)."""
    out = []
    for obj in manifests:
        if obj.get("kind") != "NetworkPolicy":
            continue
        if namespace and not obj["metadata"].get("namespace"):
            obj = {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}
        out.append(obj)
    return out


def admits_egress(policies: Iterable[Mapping[str, Any]], flow: Flow) -> bool:
    """Kubernetes semantics: a pod no Egress policy selects sends anywhere; else some egress rule must match the
    destination (peer and port). A flow from outside the pod network is no pod's egress."""
    if flow.src_namespace is None:
        return True
    selecting = [
        p
        for p in policies
        if p["metadata"].get("namespace") == flow.src_namespace
        and "Egress" in _policy_types(p)
        and selector_matches(p["spec"].get("podSelector"), flow.src_labels)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("egress") or []:
            peers = rule.get("to")
            ns = policy["metadata"]["namespace"]
            peer_ok = not peers or any(_peer_admits(peer, ns, flow, egress=True) for peer in peers)
            if peer_ok and _port_admits(rule.get("ports"), flow):
                return True
    return False


def _policy_types(policy: Mapping[str, Any]) -> list[str]:
    """policyTypes, or Kubernetes' default: Ingress, plus Egress when the policy has egress rules."""
    spec = policy["spec"]
    return list(spec.get("policyTypes") or ["Ingress", *(["Egress"] if spec.get("egress") else [])])


def admits(policies: Iterable[Mapping[str, Any]], flow: Flow) -> bool:
    """Kubernetes semantics: a pod no Ingress policy selects takes everything; else some rule must match."""
    selecting = [
        p
        for p in policies
        if flow.dst_namespace is not None
        and p["metadata"].get("namespace") == flow.dst_namespace
        and "Ingress" in _policy_types(p)
        and selector_matches(p["spec"].get("podSelector"), flow.dst_labels)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or []:
            peers = rule.get("from")
            peer_ok = not peers or any(_peer_admits(peer, policy["metadata"]["namespace"], flow) for peer in peers)
            if peer_ok and _port_admits(rule.get("ports"), flow):
                return True
    return False


def connects(policies: Iterable[Mapping[str, Any]], flow: Flow) -> bool:
    """Both ends agree: the source's egress policies let it out and the destination's ingress policies let it in."""
    policies = list(policies)
    return admits_egress(policies, flow) and admits(policies, flow)


def blocked(policies: Iterable[Mapping[str, Any]], flows: Iterable[Flow]) -> list[str]:
    """One line per flow the policies would drop, at either end (the end that drops it named)."""
    policies = list(policies)
    out = []
    for f in flows:
        ends = [end for end, ok in (("egress", admits_egress(policies, f)), ("ingress", admits(policies, f))) if not ok]
        if ends:
            dst = f"{f.dst_namespace}:{f.port}" if f.dst_namespace else f"{f.dst_ip}:{f.port}"
            out.append(f"{f.what}: {f.src_namespace or 'outside'} -> {dst} ({'+'.join(ends)} refused)")
    return out


def pod_templates(manifests: Iterable[Mapping[str, Any]]) -> list[tuple[str | None, dict[str, Any]]]:
    """(namespace, pod template) of every Pod, workload and CronJob among manifests (wiring.pod_template)."""
    out = []
    for obj in manifests:
        template = pod_template(obj)
        if template is not None:
            out.append(((obj.get("metadata") or {}).get("namespace"), dict(template)))
    return out


def service_port_flows(
    manifests: Iterable[Mapping[str, Any]],
    *,
    what: str,
    namespace: str,
    selector: Mapping[str, Any],
    port_names: Iterable[str],
    src_namespace: str | None,
    src_labels: Mapping[str, str],
) -> list[Flow]:
    """Flows to the pods behind the Services `selector` picks in `namespace`, on the named Service ports."""
    manifests = list(manifests)
    templates = pod_templates(manifests)
    flows = []
    names = set(port_names)
    for svc in manifests:
        if svc.get("kind") != "Service" or (svc["metadata"].get("namespace") or namespace) != namespace:
            continue
        if not selector_matches(selector, svc["metadata"].get("labels") or {}):
            continue
        svc_selector = svc["spec"].get("selector") or {}
        pods = [
            t
            for ns, t in templates
            if (ns or namespace) == namespace
            and selector_matches({"matchLabels": svc_selector}, (t.get("metadata") or {}).get("labels") or {})
        ]
        for port in svc["spec"].get("ports") or []:
            if port.get("name") not in names:
                continue
            flows += backing_flows(
                port,
                pods,
                svc_selector,
                what=f"{what} {svc['metadata']['name']}:{port['name']}",
                dst_namespace=namespace,
                src_namespace=src_namespace,
                src_labels=src_labels,
            )
    return flows


def backing_flows(
    port: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    selector: Mapping[str, str],
    *,
    what: str,
    dst_namespace: str,
    src_namespace: str | None,
    src_labels: Mapping[str, str],
) -> list[Flow]:
    """One Service port's flows to each backing pod on its container port (the flow a NetworkPolicy sees after the
    Service's address translation); with no rendered pod, one flow to the selector's labels."""
    # targetPort 0 or absent means the Service port itself.
    target = port.get("targetPort") or port["port"]
    flows = []
    for pod in pods or [{"metadata": {"labels": selector}, "spec": {"containers": []}}]:
        number, name = resolve_target_port(pod, target)
        flows.append(
            Flow(
                what=what,
                dst_namespace=dst_namespace,
                dst_labels=(pod.get("metadata") or {}).get("labels") or selector,
                port=number,
                port_name=name,
                src_namespace=src_namespace,
                src_labels=src_labels,
                protocol=port.get("protocol", "TCP"),
            )
        )
    return flows


def resolve_target_port(pod: Mapping[str, Any], target: int | str) -> tuple[int, str | None]:
    """A Service targetPort as (number, container port name); a name no container declares resolves to 0."""
    for container in pod["spec"].get("containers") or []:
        for cport in container.get("ports") or []:
            if target in (cport.get("name"), cport.get("containerPort")):
                return int(cport["containerPort"]), cport.get("name")
    return (target, None) if isinstance(target, int) else (0, str(target))


def scrape_flows(
    manifests: Iterable[Mapping[str, Any]], *, prometheus_namespace: str, prometheus_labels: Mapping[str, str]
) -> list[Flow]:
    """Every ServiceMonitor and PodMonitor endpoint among manifests as a flow from Prometheus to the pods it scrapes."""
    manifests = list(manifests)
    flows = []
    for monitor in manifests:
        if monitor.get("kind") == "PodMonitor":
            flows += pod_monitor_flows(manifests, monitor, prometheus_namespace, prometheus_labels)
        if monitor.get("kind") != "ServiceMonitor":
            continue
        namespaces = _scraped_namespaces(monitor, manifests, prometheus_namespace)
        ports = [e["port"] for e in monitor["spec"].get("endpoints") or [] if "port" in e]
        for ns in namespaces:
            flows += service_port_flows(
                manifests,
                what=f"scrape {monitor['metadata']['name']}",
                namespace=ns,
                selector=monitor["spec"].get("selector") or {},
                port_names=ports,
                src_namespace=prometheus_namespace,
                src_labels=prometheus_labels,
            )
    return flows


def _scraped_namespaces(
    monitor: Mapping[str, Any], manifests: list[Mapping[str, Any]], prometheus_namespace: str
) -> list[str]:
    """The namespaces a monitor scrapes: its matchNames, its own namespace, or with `any: true` every namespace
    the manifests use (wiring.monitor_namespaces reads the selector the same way)."""
    home = monitor["metadata"].get("namespace") or prometheus_namespace
    named = monitor_namespaces({**monitor, "metadata": {**monitor["metadata"], "namespace": home}})
    if named is not None:
        return named
    return sorted({m["metadata"]["namespace"] for m in manifests if (m.get("metadata") or {}).get("namespace")})


def pod_monitor_flows(
    manifests: list[Mapping[str, Any]],
    monitor: Mapping[str, Any],
    prometheus_namespace: str,
    prometheus_labels: Mapping[str, str],
) -> list[Flow]:
    """A PodMonitor's endpoints as flows from Prometheus to the selected pods' named (or numbered) ports."""
    spec = monitor["spec"]
    home = monitor["metadata"].get("namespace") or prometheus_namespace
    namespaces = _scraped_namespaces(monitor, manifests, prometheus_namespace)
    flows = []
    for pod_ns, pod in pod_templates(manifests):
        ns = pod_ns or home
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if ns not in namespaces or not selector_matches(spec.get("selector"), labels):
            continue
        for endpoint in spec.get("podMetricsEndpoints") or []:
            target = endpoint.get("port") or endpoint.get("portNumber") or endpoint.get("targetPort")
            if target is None:
                continue
            number, name = resolve_target_port(pod, target)
            flows.append(
                Flow(
                    what=f"scrape {monitor['metadata']['name']} {target}",
                    dst_namespace=ns,
                    dst_labels=labels,
                    port=number,
                    port_name=name,
                    src_namespace=prometheus_namespace,
                    src_labels=prometheus_labels,
                )
            )
    return flows

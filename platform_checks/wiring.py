"""Wiring of rendered objects: monitors select a real port, pods land where the placement contract says, images
are pinned from allowed registries. Pure functions over rendered objects; each returns human-readable errors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from platform_config import supply_chain

POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")
# Custom resources whose operator creates pods from spec (prometheus-operator's Prometheus and Alertmanager).
OPERATED_KINDS = {("monitoring.coreos.com", "Prometheus"), ("monitoring.coreos.com", "Alertmanager")}


def name_of(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{obj.get('kind')}/{namespace + '/' if namespace else ''}{meta.get('name')}"


def pod_template(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod template (metadata and spec) of a Pod, a pod controller or a CronJob; None for anything else.
    The one reading of "what makes pods" for the wiring, Pod Security and NetworkPolicy checks."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return obj
    if kind in POD_TEMPLATE_KINDS:
        return spec.get("template") or {}
    if kind == "CronJob":
        return spec.get("jobTemplate", {}).get("spec", {}).get("template", {})
    return None


def pod_spec(obj: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]] | None:
    """(pod spec, pod labels) of a Pod, a pod controller, a CronJob, or an operator-managed Prometheus/Alertmanager."""
    template = pod_template(obj)
    if template is not None:
        return template.get("spec") or {}, dict((template.get("metadata") or {}).get("labels") or {})
    spec = obj.get("spec") or {}
    if (str(obj.get("apiVersion", "")).rpartition("/")[0], obj.get("kind")) in OPERATED_KINDS:
        return spec, dict((spec.get("podMetadata") or {}).get("labels") or {})
    return None


def containers(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Containers, init containers and ephemeral containers of a pod spec (operator CRs: containers only)."""
    return [*spec.get("containers", []), *spec.get("initContainers", []), *spec.get("ephemeralContainers", [])]


Workload = tuple[Mapping[str, Any], dict[str, Any], dict[str, str]]


def workloads(objects: Iterable[Mapping[str, Any]]) -> Iterator[Workload]:
    """(object, pod spec, pod labels) of every object that makes pods."""
    for obj in objects:
        found = pod_spec(obj)
        if found is not None:
            yield obj, found[0], found[1]


# ------------------------------------------------------------------------------------------------------------
# ServiceMonitor / PodMonitor selection
# ------------------------------------------------------------------------------------------------------------


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """metav1.LabelSelector semantics (matchLabels AND matchExpressions); an empty or absent selector selects
    everything. The one matcher of the wiring, NetworkPolicy and Kyverno checks."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }.get(op)
        if ok is None:  # an operator we do not model must not read as a match or a miss
            raise ValueError(f"label selector operator {op!r}; accepted are In, NotIn, Exists, DoesNotExist")
        if not ok:
            return False
    return True


def monitor_namespaces(monitor: Mapping[str, Any]) -> list[str] | None:
    """The namespaces a monitor looks in (None: any); default is the monitor's own namespace."""
    selector = monitor["spec"].get("namespaceSelector") or {}
    if selector.get("any"):
        return None
    return list(selector.get("matchNames") or [monitor["metadata"].get("namespace")])


def monitor_errors(monitor: Mapping[str, Any], objects: list[Mapping[str, Any]]) -> list[str]:
    """A ServiceMonitor's endpoints each name a port of a selected Service; a PodMonitor's podMetricsEndpoints
    each name a container port of a selected pod template. Selected = labels match, namespace allowed."""
    namespaces = monitor_namespaces(monitor)
    selector = monitor["spec"].get("selector") or {}
    if monitor["kind"] == "ServiceMonitor":
        wanted = [e.get("port") for e in monitor["spec"].get("endpoints", [])]
        targets = {
            name_of(o): {p.get("name") for p in o["spec"].get("ports", [])}
            for o in objects
            if o.get("kind") == "Service"
            and (namespaces is None or o["metadata"].get("namespace") in namespaces)
            and selector_matches(selector, o["metadata"].get("labels") or {})
        }
        what = "Service"
    else:
        wanted = [e.get("port") for e in monitor["spec"].get("podMetricsEndpoints", [])]
        targets = {
            name_of(o): {p.get("name") for c in containers(spec) for p in c.get("ports", [])}
            for o, spec, labels in workloads(objects)
            if (namespaces is None or o["metadata"].get("namespace") in namespaces)
            and selector_matches(selector, labels)
        }
        what = "pod template"
    where = "any namespace" if namespaces is None else f"namespace {', '.join(str(n) for n in namespaces)}"
    if not targets:
        return [f"{name_of(monitor)}: selects no rendered {what} in {where} (selector {dict(selector)})"]
    errors = []
    for port in wanted:
        if not port or not any(port in ports for ports in targets.values()):
            found = sorted({p for ports in targets.values() for p in ports if p})
            errors.append(
                f"{name_of(monitor)}: no selected {what} ({', '.join(sorted(targets))}) exposes a port named "
                f"{port!r}; their ports: {', '.join(found) or 'none'}"
            )
    return errors


# ------------------------------------------------------------------------------------------------------------
# Placement contract
# ------------------------------------------------------------------------------------------------------------


def placement_errors(
    obj: Mapping[str, Any],
    spec: Mapping[str, Any],
    *,
    toleration: Mapping[str, Any] | None,
    node_selector: Mapping[str, str] | None,
) -> list[str]:
    """The pod spec carries exactly the contract's toleration and nodeSelector (None: must carry neither)."""
    tolerations = list(spec.get("tolerations") or [])
    selector = dict(spec.get("nodeSelector") or {})
    errors = []
    if toleration is None:
        if tolerations:
            errors.append(f"{name_of(obj)}: tolerates {tolerations}; accepted is no toleration (it belongs on Spot)")
        if selector:
            errors.append(f"{name_of(obj)}: selects nodes {selector}; accepted is no nodeSelector (Spot)")
        return errors
    if not any(_tolerates(t, toleration) for t in tolerations):
        errors.append(f"{name_of(obj)}: has no toleration for {dict(toleration)} (tolerations: {tolerations})")
    for key, value in (node_selector or {}).items():
        if selector.get(key) != value:
            errors.append(f"{name_of(obj)}: nodeSelector {selector} lacks {key}={value}")
    return errors


def _tolerates(have: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    """`have` tolerates the taint `want` describes (same key and effect; Exists, or Equal with the same value)."""
    if have.get("key") != want.get("key"):
        return False
    if have.get("effect") and have.get("effect") != want.get("effect"):
        return False
    if have.get("operator", "Equal") == "Exists":
        return True
    return have.get("value") == want.get("value") or want.get("operator") == "Exists"


# ------------------------------------------------------------------------------------------------------------
# Images
# ------------------------------------------------------------------------------------------------------------


def normalized_image(image: str) -> str:
    """Docker Hub names get their registry, as the container runtime resolves them (busybox -> docker.io/library/)."""
    return supply_chain.normalized_image(image)


def image_errors(where: str, image: Any, allowed_prefixes: Iterable[str]) -> list[str]:
    """Pinned by tag or digest (no `latest`, no missing tag) and from a registry prefix the policy allows."""
    if not isinstance(image, str) or not image.strip():
        return [f"{where}: image is empty"]
    errors = []
    last = image.rsplit("/", 1)[-1]
    if not supply_chain.has_digest(image):
        tag = last.split(":", 1)[1] if ":" in last else ""
        if not tag:
            errors.append(f"{where}: image {image} has no tag or digest; accepted is a pinned tag or @sha256 digest")
        elif tag == "latest":
            errors.append(f"{where}: image {image} uses the tag latest; accepted is a pinned tag or digest")
    full = normalized_image(image)
    prefixes = [p for p in allowed_prefixes if p]
    if not any(full.startswith(p) for p in prefixes):
        errors.append(f"{where}: image {image} is not from an allowed registry ({', '.join(prefixes)})")
    return errors


def all_images(obj: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(where, image) of every container of a workload, and the image of an operator CR that sets one."""
    found = pod_spec(obj)
    if found is None:
        return []
    out = [(f"{name_of(obj)} container {c.get('name')}", c.get("image")) for c in containers(found[0])]
    if (str(obj.get("apiVersion", "")).rpartition("/")[0], obj.get("kind")) in OPERATED_KINDS and "image" in found[0]:
        out.append((f"{name_of(obj)} spec.image", found[0]["image"]))
    return out


# ------------------------------------------------------------------------------------------------------------
# Admission
# ------------------------------------------------------------------------------------------------------------


def _without_nulls(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_without_nulls(v) for v in node if v is not None]
    return node


def as_admitted(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as an admission webhook receives it: the API server decodes built-in kinds into typed structs,
    so a null field arrives omitted (`volumes: null` -> no volumes); custom resources keep their nulls."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    if "." not in group or group.endswith(".k8s.io"):
        return dict(_without_nulls(obj))
    return dict(obj)

"""The connections a workload declares (endpoints in its containers' env values and `nc` probes in their commands),
resolved against the render's Services into flows to the pods behind them; a declared host no Service answers is
listed, never guessed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from platform_checks.netpol import Flow, backing_flows, pod_templates
from platform_checks.wiring import pod_template, selector_matches

# host:port, with an optional scheme (http://, PLAINTEXT://) and path; a host is a DNS name, not an IP literal.
HOST_PORT = re.compile(r"(?:^|[/@,\s=])(?P<host>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?):(?P<port>\d{1,5})(?![\d.])")
# `nc [-flags] host port`: the init containers' wait-for probes.
NC_PROBE = re.compile(r"\bnc\s+(?:-\S+\s+)*(?P<host>[a-z0-9][a-z0-9.-]*)\s+(?P<port>\d{1,5})\b")
# A connection string's `Host=name` with its `Port=`; without one, PostgreSQL's default port (Npgsql's default).
CONNECTION_HOST = re.compile(r"(?:^|;)\s*Host=(?P<host>[a-z0-9][a-z0-9.-]*)", re.IGNORECASE)
CONNECTION_PORT = re.compile(r"(?:^|;)\s*Port=(?P<port>\d+)", re.IGNORECASE)
POSTGRES_PORT = 5432
# Addresses a process binds or calls on itself: no network flow.
LOCAL_HOSTS = frozenset({"localhost", "0.0.0.0", "127.0.0.1", "*", ""})
ENV_REFERENCE = re.compile(r"\$\((?P<name>[A-Za-z_][A-Za-z0-9_]*)\)")


@dataclass(frozen=True)
class Endpoint:
    """One declared connection: which workload and container, where it was declared, host and port."""

    workload: str
    namespace: str
    labels: Mapping[str, str]
    source: str
    host: str
    port: int


def _expanded_env(container: Mapping[str, Any]) -> dict[str, str]:
    """The container's literal env values with $(VAR) references to earlier entries expanded (as the kubelet does)."""
    env: dict[str, str] = {}
    for entry in container.get("env") or []:
        value = entry.get("value")
        if value is None:
            continue
        env[entry["name"]] = ENV_REFERENCE.sub(lambda m: env.get(m["name"], m[0]), str(value))
    return env


def _host_port_pairs(env: Mapping[str, str]) -> Iterable[tuple[str, str, int]]:
    """`X_HOST` with each `X_..PORT..` variable (FLAGD_HOST with FLAGD_PORT and FLAGD_OFREP_PORT, JAEGER_HOST with
    JAEGER_UI_PORT, OTEL_COLLECTOR_HOST with OTEL_COLLECTOR_PORT_GRPC): (variable names, host, port)."""
    for name, host in env.items():
        # A URL in a *_HOST variable (LOCUST_HOST=http://frontend-proxy:8080) carries its own port.
        if not name.endswith("_HOST") or ":" in host:
            continue
        prefix = name[: -len("HOST")]
        for other, value in env.items():
            if other.startswith(prefix) and "PORT" in other[len(prefix) :] and value.isdigit():
                # FLAGD_HOST must not take FLAGD_UI_PORT: that one belongs to FLAGD_UI_HOST.
                if any(o != name and o.endswith("_HOST") and other.startswith(o[: -len("HOST")]) and
                       len(o) > len(name) for o in env):  # fmt: skip
                    continue
                yield f"{name}+{other}", host, int(value)


def declared_endpoints(manifests: Iterable[Mapping[str, Any]], namespace: str) -> list[Endpoint]:
    """Every connection the workloads of `namespace` declare in env values and `nc` probes (each once)."""
    out: dict[tuple[str, str, str, int], Endpoint] = {}
    for obj in manifests:
        template = pod_template(obj)
        if template is None or (obj.get("metadata") or {}).get("namespace", namespace) != namespace:
            continue
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        spec = template.get("spec") or {}
        for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
            env = _expanded_env(container)
            found: list[tuple[str, str, int]] = []
            for name, value in env.items():
                found += [(name, m["host"], int(m["port"])) for m in HOST_PORT.finditer(value)]
                if (db_host := CONNECTION_HOST.search(value)) is not None:
                    db_port = CONNECTION_PORT.search(value)
                    found.append((name, db_host["host"], int(db_port["port"]) if db_port else POSTGRES_PORT))
            found += list(_host_port_pairs(env))
            command = " ".join(
                str(part) for part in [*(container.get("command") or []), *(container.get("args") or [])]
            )
            found += [("command", m["host"], int(m["port"])) for m in NC_PROBE.finditer(command)]
            for source, host, port in found:
                if host.lower() in LOCAL_HOSTS:
                    continue
                workload = f"{obj['kind']}/{obj['metadata']['name']}/{container['name']}"
                key = (workload, source, host.lower(), port)
                out.setdefault(key, Endpoint(workload, namespace, labels, source, host.lower(), port))
    return list(out.values())


def _service_of(host: str, namespace: str) -> tuple[str, str]:
    """(service, namespace) a cluster DNS name names: `svc`, `svc.ns`, `svc.ns.svc[.cluster.local]`."""
    parts = host.removesuffix(".cluster.local").removesuffix(".svc").split(".")
    if len(parts) == 1:
        return parts[0], namespace
    return parts[0], parts[1]


@dataclass
class Resolution:
    """Declared endpoints as flows; `unresolved` holds the endpoints no Service answers (host, or port), each with
    the reason."""

    flows: list[Flow]
    unresolved: list[tuple[Endpoint, str]]


def endpoint_flows(endpoints: Iterable[Endpoint], manifests: Iterable[Mapping[str, Any]]) -> Resolution:
    """Each endpoint through its Service (by name and namespace, port by number) to the pods the Service selects,
    on their container port: the flow a NetworkPolicy sees after the Service's address translation."""
    manifests = list(manifests)
    services = {
        (m["metadata"]["name"], m["metadata"].get("namespace")): m for m in manifests if m.get("kind") == "Service"
    }
    templates = pod_templates(manifests)
    flows: list[Flow] = []
    unresolved: list[tuple[Endpoint, str]] = []
    for ep in endpoints:
        name, ns = _service_of(ep.host, ep.namespace)
        svc = services.get((name, ns))
        if svc is None:
            unresolved.append((ep, f"no Service {name} in {ns}"))
            continue
        ports = [p for p in svc["spec"].get("ports") or [] if p.get("port") == ep.port]
        if not ports:
            unresolved.append((ep, f"Service {name} in {ns} has no port {ep.port}"))
            continue
        selector = svc["spec"].get("selector") or {}
        pods = [
            t
            for t_ns, t in templates
            if t_ns == ns and selector_matches({"matchLabels": selector}, (t.get("metadata") or {}).get("labels") or {})
        ]
        flows += backing_flows(
            ports[0],
            pods,
            selector,
            what=f"{ep.workload} {ep.source} -> {ep.host}:{ep.port}",
            dst_namespace=ns,
            src_namespace=ep.namespace,
            src_labels=ep.labels,
        )
    return Resolution(flows, unresolved)

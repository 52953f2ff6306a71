"""Pod Security Standards (baseline, restricted) as the Kubernetes documentation defines them, over pod specs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from platform_checks.wiring import pod_template

LEVELS = ("privileged", "baseline", "restricted")
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
RESTRICTED_VOLUMES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
)


def _containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or []:
            yield f"{field}[{container.get('name', '?')}]", container


def baseline_violations(spec: Mapping[str, Any], annotations: Mapping[str, str] | None = None) -> list[str]:
    """Every Baseline control the pod spec breaks (empty when it passes)."""
    out = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            out.append(f"host namespaces: spec.{field}=true")
    pod_sc = spec.get("securityContext") or {}
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess"):
        out.append("hostProcess: spec.securityContext.windowsOptions.hostProcess=true")
    for volume in spec.get("volumes") or []:
        if "hostPath" in volume:
            out.append(f"hostPath volumes: {volume.get('name')}")
    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            out.append(f"sysctls: {sysctl.get('name')}")
    for key, value in (annotations or {}).items():
        if key.startswith("container.apparmor.security.beta.kubernetes.io/") and not (
            value == "runtime/default" or value.startswith("localhost/")
        ):
            out.append(f"AppArmor: {key}={value}")
    scopes: list[tuple[str, Mapping[str, Any]]] = [("spec.securityContext", pod_sc)]
    for where, container in _containers(spec):
        sc = container.get("securityContext") or {}
        scopes.append((f"{where}.securityContext", sc))
        if sc.get("privileged"):
            out.append(f"privileged: {where}")
        added = set((sc.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if added:
            out.append(f"capabilities: {where} adds {sorted(added)}")
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                out.append(f"hostPorts: {where} hostPort {port['hostPort']}")
        if sc.get("procMount") not in (None, "Default"):
            out.append(f"/proc mount: {where} procMount={sc['procMount']}")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            out.append(f"hostProcess: {where}")
    for where, sc in scopes:
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            out.append(f"seccomp: {where}.seccompProfile.type=Unconfined")
        apparmor = (sc.get("appArmorProfile") or {}).get("type")
        if apparmor not in (None, "RuntimeDefault", "Localhost"):
            out.append(f"AppArmor: {where}.appArmorProfile.type={apparmor}")
        selinux = sc.get("seLinuxOptions") or {}
        if selinux.get("type", "") not in SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
            out.append(f"SELinux: {where}.seLinuxOptions={dict(selinux)}")
    return out


def restricted_violations(spec: Mapping[str, Any], annotations: Mapping[str, str] | None = None) -> list[str]:
    """Every Baseline and Restricted control the pod spec breaks (empty when it passes)."""
    out = baseline_violations(spec, annotations)
    pod_sc = spec.get("securityContext") or {}
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            out.append(f"volume types: {volume.get('name')} uses {sorted(kinds - RESTRICTED_VOLUMES)}")
    pod_non_root = pod_sc.get("runAsNonRoot")
    pod_seccomp = (pod_sc.get("seccompProfile") or {}).get("type")
    if pod_sc.get("runAsUser") == 0:
        out.append("running as non-root user: spec.securityContext.runAsUser=0")
    for where, container in _containers(spec):
        sc = container.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append(f"privilege escalation: {where} allowPrivilegeEscalation is not false")
        non_root = sc.get("runAsNonRoot", pod_non_root)
        if non_root is not True:
            out.append(f"running as non-root: {where} runAsNonRoot is not true")
        if sc.get("runAsUser") == 0:
            out.append(f"running as non-root user: {where} runAsUser=0")
        seccomp = (sc.get("seccompProfile") or {}).get("type", pod_seccomp)
        if seccomp not in ("RuntimeDefault", "Localhost"):
            out.append(f"seccomp: {where} has no RuntimeDefault or Localhost profile")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            out.append(f"capabilities: {where} does not drop ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            out.append(f"capabilities: {where} adds more than NET_BIND_SERVICE")
    return out


def violations(spec: Mapping[str, Any], level: str, annotations: Mapping[str, str] | None = None) -> list[str]:
    """What keeps the pod spec from `level` (privileged admits everything)."""
    if level not in LEVELS:
        raise ValueError(f"Pod Security level {level!r}; accepted are {', '.join(LEVELS)}")
    if level == "privileged":
        return []
    check = baseline_violations if level == "baseline" else restricted_violations
    return check(spec, annotations)


def pod_specs(manifests: Iterable[Mapping[str, Any]]) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(object, pod template) for every Pod, workload and CronJob among manifests."""
    for obj in manifests:
        template = pod_template(obj)
        if template is not None:
            yield obj, template


def workload_violations(
    manifests: Iterable[Mapping[str, Any]], levels: Mapping[str, str], default_namespace: str | None = None
) -> list[str]:
    """Each workload checked against its namespace's enforced level; a namespace without a level is an error."""
    out = []
    for obj, template in pod_specs(manifests):
        ns = obj.get("metadata", {}).get("namespace") or default_namespace or "default"
        name = f"{obj['kind']}/{obj['metadata']['name']} in {ns}"
        if ns not in levels:
            out.append(f"{name}: namespace has no Pod Security level")
            continue
        annotations = (template.get("metadata") or {}).get("annotations") or {}
        out += [f"{name}: {v}" for v in violations(template.get("spec") or {}, levels[ns], annotations)]
    return out


def namespace_label_errors(namespace: Mapping[str, Any], *, privileged_allowed: Iterable[str] = ()) -> list[str]:
    """A platform namespace enforces baseline (privileged only if allowed) and warns and audits at restricted."""
    name = namespace["metadata"]["name"]
    labels = namespace["metadata"].get("labels") or {}
    errors = []
    enforce = labels.get("pod-security.kubernetes.io/enforce")
    accepted = {"baseline", "restricted"} | ({"privileged"} if name in set(privileged_allowed) else set())
    if enforce not in accepted:
        errors.append(f"{name}: pod-security.kubernetes.io/enforce={enforce!r}; accepted is {sorted(accepted)}")
    for mode in ("warn", "audit"):
        if labels.get(f"pod-security.kubernetes.io/{mode}") != "restricted":
            errors.append(f"{name}: pod-security.kubernetes.io/{mode} is not restricted")
    return errors

"""Pod Security: every platform namespace carries PSA labels, and every platform workload passes its level."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from constructs_lib.helm_addon import resolved_values
from constructs_lib.namespace_guards import CDK_NAMESPACES, NODE_EXPORTER_NAMESPACE, namespace_manifests
from platform_checks.pss import namespace_label_errors, violations, workload_violations
from tests.gitops_overlays import built_overlays

RESTRICTED_POD: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "app",
            "image": "public.ecr.aws/x/app:1.0.0",
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }
    ],
    "volumes": [{"name": "tmp", "emptyDir": {}}],
}


def platform_namespaces() -> list[dict[str, Any]]:
    git = [o for o in built_overlays() if o["kind"] == "Namespace"]
    return namespace_manifests() + git


def levels() -> dict[str, str]:
    return {
        ns["metadata"]["name"]: ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        for ns in platform_namespaces()
    }


def test_every_platform_namespace_enforces_baseline_and_warns_at_restricted() -> None:
    namespaces = platform_namespaces()
    assert {n["metadata"]["name"] for n in namespaces} == {*CDK_NAMESPACES, "observability", "astronomy-shop"}
    errors = [e for ns in namespaces for e in namespace_label_errors(ns, privileged_allowed=[NODE_EXPORTER_NAMESPACE])]
    assert errors == []


def test_only_node_exporter_runs_privileged() -> None:
    assert {name for name, level in levels().items() if level == "privileged"} == {NODE_EXPORTER_NAMESPACE}
    assert (
        resolved_values(chart="kube-prometheus-stack", release="kube-prometheus-stack", computed={}, profile="seed")[
            "prometheus-node-exporter"
        ]["namespaceOverride"]
        == NODE_EXPORTER_NAMESPACE
    )


def test_namespace_check_reports_missing_labels_and_an_unearned_privileged() -> None:
    bare = {"metadata": {"name": "team-a"}}
    assert namespace_label_errors(bare) == [
        "team-a: pod-security.kubernetes.io/enforce=None; accepted is ['baseline', 'restricted']",
        "team-a: pod-security.kubernetes.io/warn is not restricted",
        "team-a: pod-security.kubernetes.io/audit is not restricted",
    ]
    privileged = {"metadata": {"name": "monitoring", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
    assert "accepted is ['baseline', 'restricted']" in namespace_label_errors(privileged)[0]


def test_a_restricted_pod_passes_every_level() -> None:
    for level in ("privileged", "baseline", "restricted"):
        assert violations(RESTRICTED_POD, level) == []


BASELINE_BREAKS = [
    ("hostNetwork", lambda p: p.update(hostNetwork=True), "host namespaces"),
    ("hostPID", lambda p: p.update(hostPID=True), "host namespaces"),
    ("hostPath", lambda p: p["volumes"].append({"name": "h", "hostPath": {"path": "/"}}), "hostPath volumes"),
    ("privileged", lambda p: p["containers"][0]["securityContext"].update(privileged=True), "privileged"),
    (
        "capability",
        lambda p: p["containers"][0]["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
        "capabilities",
    ),
    ("hostPort", lambda p: p["containers"][0].update(ports=[{"containerPort": 80, "hostPort": 80}]), "hostPorts"),
    (
        "seccomp",
        lambda p: p["securityContext"].update(seccompProfile={"type": "Unconfined"}),
        "seccomp",
    ),
    ("procMount", lambda p: p["containers"][0]["securityContext"].update(procMount="Unmasked"), "/proc mount"),
    ("sysctl", lambda p: p["securityContext"].update(sysctls=[{"name": "kernel.msgmax", "value": "1"}]), "sysctls"),
    (
        "selinux",
        lambda p: p["securityContext"].update(seLinuxOptions={"type": "spc_t"}),
        "SELinux",
    ),
    (
        "apparmor",
        lambda p: p["securityContext"].update(appArmorProfile={"type": "Unconfined"}),
        "AppArmor",
    ),
]
RESTRICTED_BREAKS = [
    ("escalation", lambda p: p["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"), "escalation"),
    ("root", lambda p: p["securityContext"].pop("runAsNonRoot"), "non-root"),
    ("drop", lambda p: p["containers"][0]["securityContext"]["capabilities"].pop("drop"), "drop ALL"),
    ("seccomp", lambda p: p["securityContext"].pop("seccompProfile"), "seccomp"),
    ("volume", lambda p: p["volumes"].append({"name": "n", "nfs": {"server": "x", "path": "/"}}), "volume types"),
]


@pytest.mark.parametrize(("name", "breaks", "control"), BASELINE_BREAKS, ids=[b[0] for b in BASELINE_BREAKS])
def test_each_baseline_control_is_enforced(name: str, breaks: Any, control: str) -> None:
    pod = copy.deepcopy(RESTRICTED_POD)
    breaks(pod)
    found = violations(pod, "baseline")
    assert found and all(v.startswith(control) for v in found), found
    assert violations(pod, "privileged") == []


@pytest.mark.parametrize(("name", "breaks", "control"), RESTRICTED_BREAKS, ids=[b[0] for b in RESTRICTED_BREAKS])
def test_each_restricted_control_is_enforced_only_at_restricted(name: str, breaks: Any, control: str) -> None:
    pod = copy.deepcopy(RESTRICTED_POD)
    breaks(pod)
    assert violations(pod, "baseline") == []
    assert any(control in v for v in violations(pod, "restricted"))


def test_argocd_redis_secret_init_job_passes_its_namespace_level() -> None:
    objects = resolved_values(chart="argo-cd", release="argocd", computed={}, profile="seed")["extraObjects"]
    assert workload_violations(objects, levels(), default_namespace="argocd") == []
    # It even meets restricted, the level argocd warns at.
    assert workload_violations(objects, {"argocd": "restricted"}, default_namespace="argocd") == []


def test_workload_check_reports_a_workload_that_breaks_its_namespace_level() -> None:
    pod = copy.deepcopy(RESTRICTED_POD)
    pod["hostNetwork"] = True
    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "sniffer", "namespace": "monitoring"},
        "spec": {"template": {"metadata": {}, "spec": pod}},
    }
    assert workload_violations([deployment], levels()) == [
        "Deployment/sniffer in monitoring: host namespaces: spec.hostNetwork=true"
    ]
    moved = {**deployment, "metadata": {"name": "sniffer", "namespace": "team-a"}}
    assert workload_violations([moved], levels()) == [
        "Deployment/sniffer in team-a: namespace has no Pod Security level"
    ]


def test_the_registry_states_the_level_each_argocd_add_on_namespace_enforces() -> None:
    """Argo CD add-ons' namespaces come from infra/ and apps/: the registry's pod_security says what they enforce."""
    from platform_config.addons import addons

    synced = levels()
    records = addons(installer="argocd")
    assert records
    assert {(a.release, a.pod_security) for a in records} == {(a.release, synced[a.namespace]) for a in records}

"""project_admits: Argo CD's AppProject rules (destinations, cluster whitelist, namespaced lists) for one object."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Built-in cluster-scoped kinds (everything else built in is namespaced).
BUILTIN_CLUSTER_SCOPED = frozenset(
    {
        "APIService", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding", "CSIDriver", "CSINode",
        "CustomResourceDefinition", "FlowSchema", "IngressClass", "MutatingWebhookConfiguration", "Namespace",
        "Node", "PersistentVolume", "PriorityClass", "PriorityLevelConfiguration", "RuntimeClass",
        "StorageClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration", "VolumeAttachment",
    }
)  # fmt: skip


def _crd_cluster_kinds() -> frozenset[str]:
    """CRD kinds of Cluster scope in every profile's derived CRD facts (NodePool, ClusterPolicy, ...)."""
    facts = (json.loads(path.read_text()) for path in sorted(ROOT.glob("upstream_facts/*/crds/*.json")))
    return frozenset(fact["kind"] for fact in facts if fact["scope"] == "Cluster")


# Kinds that have no namespace: built in, from the CRD facts, and Kyverno's cleanup policy (its CRD ships in the
# chart, not in the facts).
CLUSTER_SCOPED_KINDS = BUILTIN_CLUSTER_SCOPED | _crd_cluster_kinds() | {"ClusterCleanupPolicy"}


def group_kind(obj: dict[str, Any]) -> tuple[str, str]:
    """(API group, kind) of a manifest; the core group is ''."""
    api = str(obj.get("apiVersion", ""))
    return (api.split("/")[0] if "/" in api else "", str(obj.get("kind", "")))


def _listed(entries: list[dict[str, str]] | None, group: str, kind: str) -> bool:
    return any(fnmatchcase(group, e.get("group", "")) and fnmatchcase(kind, e.get("kind", "")) for e in entries or [])


def project_admits(project: dict[str, Any], obj: dict[str, Any], namespace: str | None = None) -> bool:
    """Whether Argo CD lets `project` sync `obj` (namespaced objects without a namespace land in `namespace`)."""
    spec = project.get("spec", {})
    group, kind = group_kind(obj)
    if kind in CLUSTER_SCOPED_KINDS:
        allowed = _listed(spec.get("clusterResourceWhitelist"), group, kind)
        return allowed and not _listed(spec.get("clusterResourceBlacklist"), group, kind)
    ns = obj.get("metadata", {}).get("namespace") or namespace or ""
    if not any(fnmatchcase(ns, d.get("namespace", "")) for d in spec.get("destinations") or []):
        return False
    whitelist = spec.get("namespaceResourceWhitelist")
    if whitelist is not None and not _listed(whitelist, group, kind):
        return False
    return not _listed(spec.get("namespaceResourceBlacklist"), group, kind)


def application_admitted(project: dict[str, Any], app: dict[str, Any]) -> bool:
    """Argo CD's rule for an Application in `project`: every source repo is in sourceRepos, the destination in
    destinations."""
    spec, app_spec = project.get("spec", {}), app.get("spec", {})
    sources = app_spec.get("sources") or [app_spec.get("source") or {}]
    repos_ok = all(
        any(fnmatchcase(str(s.get("repoURL", "")), pattern) for pattern in spec.get("sourceRepos") or [])
        for s in sources
    )
    dest = app_spec.get("destination", {})
    dest_ok = any(
        fnmatchcase(str(dest.get("server", "")), d.get("server", ""))
        and fnmatchcase(str(dest.get("namespace", "")), d.get("namespace", ""))
        for d in spec.get("destinations") or []
    )
    return repos_ok and dest_ok


def sync_refusals(
    project: dict[str, Any],
    objects: list[dict[str, Any]],
    *,
    namespace: str,
    application_projects: tuple[str, ...] = (),
) -> list[str]:
    """What of `objects` (one Application's sync into `namespace`) `project` refuses, as `Kind/name: reason`.
    Applications among them may name only `application_projects` (the API server enforces this for the root's
    sync identity where Argo CD impersonates; constructs_lib.gitops.root_guard)."""
    refused = []
    for obj in objects:
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        if not project_admits(project, obj, namespace):
            refused.append(f"{name}: kind or namespace outside project {project['metadata']['name']}")
        elif group_kind(obj) == ("argoproj.io", "Application"):
            named = obj.get("spec", {}).get("project")
            if named not in application_projects:
                refused.append(f"{name}: names project {named!r}, accepted is {', '.join(application_projects)}")
    return refused

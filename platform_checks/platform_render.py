"""The whole platform as the cluster receives it for one release profile: every Helm release rendered, the CDK
manifests and the GitOps content, with each object's namespace made explicit and the CRDs the render ships."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema

from platform_checks.gitops import BUILTIN_CLUSTER_SCOPED
from platform_checks.helm_template import Release, argocd_releases, cdk_manifests, cdk_releases, helm_template
from platform_checks.kustomize import kustomize_build
from platform_checks.manifests import crd_fact_schema, crd_validator
from platform_config.versions import PROFILES, profiles_pinning, step_profiles

ROOT = Path(__file__).resolve().parent.parent
# Built-in kinds take platform_checks.gitops' list; CRD kinds take the CRD's scope.


@dataclass(frozen=True)
class Crd:
    """One served version of a CRD the render ships."""

    group: str
    version: str
    kind: str
    scope: str
    schema: dict[str, Any] = field(hash=False)


@dataclass
class PlatformRender:
    """Objects by where they come from: `releases[key]` (helm template), `manifests` (CDK), `gitops` (kustomize)."""

    profile: str
    releases: dict[str, Release]
    rendered: dict[str, list[dict[str, Any]]]
    manifests: list[dict[str, Any]]
    gitops: list[dict[str, Any]]
    templates: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def kubernetes_version(self) -> str:
        return PROFILES[self.profile].kubernetes.version

    def objects(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(origin, object) of everything the platform deploys."""
        for key, objects in self.rendered.items():
            for obj in objects:
                yield self.releases[key].origin, obj
        for obj in self.manifests:
            yield "cdk manifest", obj
        for obj in self.gitops:
            yield "gitops", obj

    @cached_property
    def crds(self) -> dict[tuple[str, str, str], Crd]:
        """Every served version of every CRD in the render (what the cluster serves once the releases install)."""
        out = {}
        for _origin, obj in self.objects():
            if obj.get("kind") != "CustomResourceDefinition":
                continue
            spec = obj["spec"]
            for version in spec["versions"]:
                if not version.get("served", True):
                    continue
                crd = Crd(spec["group"], version["name"], spec["names"]["kind"], spec["scope"],
                          version["schema"]["openAPIV3Schema"])  # fmt: skip
                out[(crd.group, crd.version, crd.kind)] = crd
        return out

    @cached_property
    def crd_validators(self) -> Mapping[tuple[str, str, str], jsonschema.protocols.Validator]:
        return {key: crd_validator(c.schema, *key) for key, c in self.crds.items()}

    def crd_for(self, obj: Mapping[str, Any]) -> Crd | None:
        group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
        return self.crds.get((group, version, str(obj.get("kind"))))

    def schema_for(self, obj: Mapping[str, Any]) -> dict[str, Any] | None:
        """The openAPIV3Schema of the object's CRD: the one the render ships, else the profile's derived facts (a
        CRD installed by a subchart the packaged archive stubs, e.g. Kyverno 1.19's ValidatingPolicy)."""
        crd = self.crd_for(obj)
        if crd is not None:
            return crd.schema
        group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
        return crd_fact_schema(group, version, str(obj.get("kind")), self.profile)

    def in_release(self, release: str) -> list[dict[str, Any]]:
        """The rendered objects of the release with this release name (exactly one such release)."""
        keys = [k for k, r in self.releases.items() if r.release == release]
        if len(keys) != 1:
            raise KeyError(f"release {release}: found {len(keys)} releases of that name ({sorted(self.releases)})")
        return self.rendered[keys[0]]


def synced_paths(applications: list[dict[str, Any]]) -> list[str]:
    """Repository paths the Applications sync as directories (sources with a path, not a chart)."""
    return [
        source["path"]
        for app in applications
        if app.get("kind") == "Application"
        for source in app["spec"].get("sources") or [app["spec"].get("source") or {}]
        if source.get("path") and not source.get("chart")
    ]


def gitops_objects(roots: list[dict[str, Any]], profile: str, root: Path = ROOT) -> list[dict[str, Any]]:
    """What ArgoCD applies: the kustomize build of every path the CDK root Application syncs, following
    Applications in that content that sync further paths (app of apps), each path once."""
    objects: list[dict[str, Any]] = []
    pending, seen = synced_paths(roots), set()
    while pending:
        path = pending.pop(0)
        if path in seen:
            continue
        seen.add(path)
        built = kustomize_build(root / path, profile)
        objects += built
        pending += synced_paths(built)
    if not seen:
        raise ValueError("the CDK manifests hold no Application syncing a repository path (the GitOps root)")
    return objects


def profile_of(templates: Mapping[str, Mapping[str, Any]]) -> str:
    """The release profile of a synthesized cdk.out: the one its cluster stack records (Metadata.EksPlatform.Release,
    as the synth summary and the diagram read it), else the one whose pins every CDK Helm release uses."""
    metadata = (t.get("Metadata", {}).get("EksPlatform", {}) for t in templates.values())
    recorded = {str(m["Release"]) for m in metadata if m.get("Release")}
    if len(recorded) == 1 and (profile := next(iter(recorded))) in PROFILES:
        return profile
    steps = sorted(recorded & set(step_profiles()))
    if steps:
        raise ValueError(
            f"{steps[0]} is an upgrade step: the render gate renders release profiles, and each of its chart versions "
            "is rendered in the profile that pins it (docs/upgrade-playbook.md)"
        )
    used = {r.chart: r.version for r in cdk_releases(templates)}
    matches = profiles_pinning(used)
    if len(matches) != 1:
        raise ValueError(
            f"the templates' Helm releases {sorted(used.items())} match profiles {matches}; accepted is exactly one"
        )
    return matches[0]


def _is_namespaced(obj: Mapping[str, Any], crd_scopes: Mapping[str, str]) -> bool:
    kind = str(obj.get("kind"))
    if kind in crd_scopes:
        return crd_scopes[kind] == "Namespaced"
    return kind not in BUILTIN_CLUSTER_SCOPED


def _place(objects: list[dict[str, Any]], namespace: str, crd_scopes: Mapping[str, str]) -> None:
    """Helm applies namespaced objects without metadata.namespace into the release namespace: say so explicitly."""
    for obj in objects:
        if _is_namespaced(obj, crd_scopes) and not obj["metadata"].get("namespace"):
            obj["metadata"]["namespace"] = namespace


def render_platform(profile: str, templates: Mapping[str, Mapping[str, Any]], root: Path = ROOT) -> PlatformRender:
    """Render every release of the synthesized templates and the GitOps content (renders run in parallel)."""
    gitops = gitops_objects(cdk_manifests(templates), profile, root)
    releases: dict[str, Release] = {}
    for release in [*cdk_releases(templates), *argocd_releases(gitops), *argocd_releases(cdk_manifests(templates))]:
        if release.key in releases:
            raise ValueError(
                f"release {release.key} is installed twice ({releases[release.key].origin}, {release.origin})"
            )
        releases[release.key] = release
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(helm_template, release, profile=profile) for key, release in releases.items()}
        rendered = {key: future.result() for key, future in futures.items()}
    result = PlatformRender(profile, releases, rendered, cdk_manifests(templates), gitops, templates)
    scopes = {crd.kind: crd.scope for crd in result.crds.values()}
    for key, objects in rendered.items():
        _place(objects, releases[key].namespace, scopes)
    return result

"""helm template of every release the platform installs: CDK HelmCharts (values from the synthesized template) and
ArgoCD Applications with a Helm source (values from the Application), with the profile's Helm and Kubernetes."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from platform_checks.cfn_json import json_property
from platform_checks.charts import CACHE_DIR, cached_chart
from platform_checks.layer_tools import extract
from platform_checks.manifests import is_builtin_kind
from platform_checks.render_cache import cached_render, file_digest
from platform_config import yaml_load
from platform_config.versions import PROFILES

HELM_CHART_TYPE = "Custom::AWSCDK-EKS-HelmChart"
MANIFEST_TYPE = "Custom::AWSCDK-EKS-KubernetesResource"
HOOK = "helm.sh/hook"
# Custom-resource API versions the platform installs that charts probe with .Capabilities.APIVersions.Has to
# decide whether to render their ServiceMonitors; tests assert each is served by a CRD of the same render and
# that every probed version the render serves is listed here.
PLATFORM_API_VERSIONS = ("monitoring.coreos.com/v1",)
_PROBE = re.compile(rb'APIVersions\.Has\s+"([^"]+)"')


class _Loader(yaml_load.SAFE_LOADER):  # type: ignore[misc,valid-type]
    """YAML 1.1 safe loading, C-accelerated when available, with `=` read as a plain string (CRD enums hold it)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:value"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class RenderError(Exception):
    """helm template failed for a release, or a release's source cannot be rendered as declared."""


@dataclass(frozen=True)
class Release:
    """One Helm release as the cluster receives it: chart pin, release name, namespace and the exact values."""

    origin: str  # "cdk <stack>/<logical id>" or "argocd Application <name>"
    release: str
    namespace: str
    chart: str
    version: str
    values: Mapping[str, Any] = field(hash=False)
    include_crds: bool = True

    @property
    def key(self) -> str:
        return f"{self.release}@{self.namespace}"


def placeholder(token: object) -> str:
    """A stable, DNS-label-safe stand-in for a CloudFormation token, shaped like its deploy-time value."""
    text = json.dumps(token, sort_keys=True)
    if "ClusterSecurityGroupId" in text:
        return "sg-0123456789abcdef0"
    if "Arn" in text:
        return "arn:aws:iam::123456789012:role/cfn-token"
    words = re.findall(r"[A-Za-z0-9]+", text.replace("Fn::", ""))
    return ("cfn-" + "-".join(w.lower() for w in words))[:63].rstrip("-")


def cdk_releases(templates: Mapping[str, Mapping[str, Any]]) -> list[Release]:
    """Every Custom::AWSCDK-EKS-HelmChart of the synthesized templates, values parsed from the template itself."""
    out = []
    for stack, template in sorted(templates.items()):
        for logical_id, resource in sorted(template.get("Resources", {}).items()):
            if resource.get("Type") != HELM_CHART_TYPE:
                continue
            props = resource["Properties"]
            values = json_property(props.get("Values", "{}"), placeholder)
            out.append(
                Release(
                    origin=f"cdk {stack}/{logical_id}",
                    release=props["Release"],
                    namespace=props.get("Namespace", "default"),
                    chart=props["Chart"],
                    version=props["Version"],
                    values=values,
                    include_crds=not props.get("SkipCrds", False),
                )
            )
    return out


def cdk_manifests(templates: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The objects of every Custom::AWSCDK-EKS-KubernetesResource (tokens as placeholders)."""
    docs = []
    for _stack, template in sorted(templates.items()):
        for resource in template.get("Resources", {}).values():
            if resource.get("Type") == MANIFEST_TYPE:
                docs.extend(json_property(resource["Properties"]["Manifest"], placeholder))
    return docs


def _helm_sources(app: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    spec = app.get("spec", {})
    sources = spec.get("sources") or ([spec["source"]] if "source" in spec else [])
    return [s for s in sources if s.get("chart")]


def argocd_releases(objects: Iterable[Mapping[str, Any]]) -> list[Release]:
    """Every ArgoCD Application source with a Helm chart: chart, targetRevision, releaseName, namespace, values."""
    out = []
    for app in objects:
        if app.get("kind") != "Application":
            continue
        name = app["metadata"]["name"]
        for source in _helm_sources(app):
            helm = source.get("helm", {})
            if helm.get("valueFiles"):
                raise RenderError(f"Application {name}: helm.valueFiles cannot be rendered offline; use valuesObject")
            values: dict[str, Any] = {}
            if isinstance(helm.get("values"), str):
                values = yaml_load.safe_load(helm["values"]) or {}
            values.update(helm.get("valuesObject") or {})
            out.append(
                Release(
                    origin=f"argocd Application {name}",
                    release=helm.get("releaseName", name),
                    namespace=app["spec"]["destination"]["namespace"],
                    chart=source["chart"],
                    version=str(source["targetRevision"]),
                    values=values,
                    include_crds=not helm.get("skipCrds", False),
                )
            )
    return out


def _pin(profile: str, release: Release) -> Any:
    pin = PROFILES[profile].charts.get(release.chart)
    if pin is None or pin.version != release.version:
        pinned = f"{pin.chart} {pin.version}" if pin else "no such chart"
        raise RenderError(
            f"{release.origin}: chart {release.chart} {release.version} is not the {profile} profile's pin ({pinned})"
        )
    return pin


@cache
def probed_capabilities(archive: Path) -> frozenset[str]:
    """Every `.Capabilities.APIVersions.Has "<x>"` a chart (or a subchart) of the archive asks about."""
    found: set[str] = set()
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.isfile() and "/templates/" in member.name:
                handle = tar.extractfile(member)
                if handle:
                    found.update(m.decode() for m in _PROBE.findall(handle.read()))
    return frozenset(found)


def builtin_capabilities(archive: Path, profile: str) -> list[str]:
    """The probed `group/version/Kind` built-ins this Kubernetes version serves. A cluster's discovery answers
    them (Helm asks it); `helm template` alone knows only group/versions, so e.g. Kyverno 3.2 falls back to a
    policy/v1beta1 PodDisruptionBudget that 1.25+ no longer serves."""
    out = []
    for probe in sorted(probed_capabilities(archive)):
        parts = probe.split("/")
        if len(parts) < 2 or not parts[-1][:1].isupper():
            continue
        api_version, kind = "/".join(parts[:-1]), parts[-1]
        if is_builtin_kind(api_version, kind, profile):
            out.append(probe)
    return out


def helm_template_command(
    release: Release, *, profile: str, values_file: Path, cache_dir: Path = CACHE_DIR
) -> list[str]:
    """The exact `helm template` invocation (profile Helm, pinned archive, profile Kubernetes version)."""
    archive = cached_chart(_pin(profile, release), cache_dir)
    kubernetes_version = PROFILES[profile].kubernetes.version
    cmd = [
        str(extract(profile)["helm"]),
        "template",
        release.release,
        str(archive),
        "--namespace",
        release.namespace,
        "--kube-version",
        kubernetes_version,
        "--values",
        str(values_file),
    ]
    for api in [*PLATFORM_API_VERSIONS, *builtin_capabilities(archive, profile)]:
        cmd += ["--api-versions", api]
    if release.include_crds:
        cmd.append("--include-crds")
    return cmd


def render_key(cmd: list[str], values_file: Path) -> str:
    """What a render depends on: the command with the values file's and every file argument's content (the Helm
    binary, the chart archive) in place of their paths."""
    parts = []
    for arg in cmd:
        path = Path(arg)
        if path == values_file:
            parts.append("values:" + hashlib.sha256(values_file.read_bytes()).hexdigest())
        elif path.is_file():
            parts.append(f"file:{path.name}:{file_digest(path)}")
        else:
            parts.append(arg)
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def helm_template(release: Release, *, profile: str, cache_dir: Path = CACHE_DIR) -> list[dict[str, Any]]:
    """Rendered objects of one release (`kind: List` expanded, empty documents dropped); RenderError with Helm's
    last error line when the chart refuses the values. With RENDER_CACHE_ENV set, a render of the same inputs is
    read from that directory (platform_checks/render_cache.py)."""
    with tempfile.TemporaryDirectory() as tmp:
        values_file = Path(tmp) / "values.json"
        values_file.write_text(json.dumps(release.values))  # JSON is YAML: exactly these values, nothing merged
        cmd = helm_template_command(release, profile=profile, values_file=values_file, cache_dir=cache_dir)
        return cached_render(render_key(cmd, values_file), lambda: _run_helm(release, cmd, tmp))


def _run_helm(release: Release, cmd: list[str], tmp: str) -> list[dict[str, Any]]:
    env = {"HELM_CACHE_HOME": tmp, "HELM_CONFIG_HOME": tmp, "HELM_DATA_HOME": tmp, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, timeout=120)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RenderError(f"{release.origin}: helm template {release.chart} {release.version} failed: {last}")
    docs: list[dict[str, Any]] = []
    for doc in yaml.load_all(result.stdout, Loader=_Loader):
        if not doc or "test" in str(((doc.get("metadata") or {}).get("annotations") or {}).get(HOOK, "")):
            continue  # `helm install` never creates test hooks (only `helm test` does)
        items = doc.get("items", []) if doc.get("kind") == "List" and doc.get("apiVersion") == "v1" else [doc]
        for item in items:
            item.setdefault("metadata", {})
            docs.append(item)
    return docs

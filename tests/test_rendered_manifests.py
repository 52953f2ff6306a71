"""Every manifest the CDK app applies and every values file it installs validates against the pinned schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from constructs_lib.helm_addon import deep_merge, load_values_file, values_files
from constructs_lib.shop_ingress import SHOP_NAMESPACE_FILE
from platform_checks import check_values, validate_manifest
from platform_checks.helm_template import cdk_manifests
from platform_config import yaml_load
from platform_config.addons import addons, cdk_namespaces, default_deny_namespaces
from platform_config.versions import PROFILES
from tests.conftest import ROOT, Synthesized

# Release -> chart of every add-on CDK installs with values (helm_values/<release>.yaml).
VALUES_FILES = {a.release: a.chart for a in addons() if a.by_cdk and a.takes_values}


def test_app_applies_the_expected_manifests(synthesized: Synthesized) -> None:
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in cdk_manifests(synthesized.templates))
    release = synthesized.config.release
    generated = [f"Namespace/{n}" for n in cdk_namespaces(release)]
    generated += [f"NetworkPolicy/{n}-default-deny-ingress" for n in default_deny_namespaces(release)]
    assert sorted(generated) == [k for k in kinds if k in generated]
    # The GitOps bootstrap (projects, CDK-owned Applications, sync identities) is tests/test_gitops_boundary's.
    gitops = {f"{m['kind']}/{m['metadata']['name']}" for m in synthesized.platform.addons.gitops.manifests}
    assert gitops <= set(kinds)
    # The image admission policies (signature verification, digests) are tests/test_supply_chain's.
    admission = {f"{m['kind']}/{m['metadata']['name']}" for m in synthesized.platform.addons.image_admission.manifests}
    assert admission and admission <= set(kinds)
    gitops |= admission
    # The shop's Namespace is Git's (apps/astronomy-shop/namespace.yaml), which CDK applies too.
    shop = yaml_load.safe_load(SHOP_NAMESPACE_FILE.read_text())["metadata"]["name"]
    assert [k for k in kinds if k not in generated and k not in gitops] == [
        "EC2NodeClass/default",
        "Ingress/astronomy-shop",
        f"Namespace/{shop}",
        "NetworkPolicy/allow-alb-to-frontend-proxy",
        "NetworkPolicy/allow-grafana-from-shop-proxy",
        "NetworkPolicy/allow-operator-webhook-from-api-server",
        "NetworkPolicy/allow-prometheus-scrape",
        "NetworkPolicy/allow-same-namespace",
        "NetworkPolicy/allow-webhooks-from-api-server",
        "NetworkPolicy/lb-controller-prometheus-scrape",
        "NetworkPolicy/lb-controller-webhooks-from-api-server",
        "NodePool/on-demand",
        "NodePool/spot",
        "StorageClass/gp3",
    ]


def test_every_applied_manifest_validates_against_the_profiles_kubernetes_and_crds(
    profile: str, synthesized: Synthesized
) -> None:
    errors = [e for doc in cdk_manifests(synthesized.templates) for e in validate_manifest(doc, profile=profile)]
    assert errors == []


def test_every_values_file_is_installed_and_checked() -> None:
    values_dir = ROOT / "helm_values"
    assert {p.stem for p in values_dir.glob("*.yaml")} == set(VALUES_FILES)
    # helm_values/<profile>/<release>.yaml: only for a known profile and release (a typo would be ignored).
    assert {p.name for p in values_dir.iterdir() if p.is_dir()} <= set(PROFILES)
    assert {p.stem for p in values_dir.glob("*/*.yaml")} <= set(VALUES_FILES)


@pytest.mark.parametrize(("release", "chart"), sorted(VALUES_FILES.items()))
def test_values_files_keys_exist_in_the_profiles_chart(profile: str, release: str, chart: str) -> None:
    """The shared file with the profile's file merged over it, as HelmAddon installs them."""
    values: dict[str, Any] = {}
    for path in values_files(release, profile):
        values = deep_merge(values, load_values_file(path))
    assert values
    assert check_values(chart, values, profile=profile) == []


def test_values_check_catches_the_wrong_karpenter_queue_key(profile: str, tmp_path: Path) -> None:
    errors = check_values("karpenter", {"settings": {"interruptionQueueName": "q"}}, profile=profile)
    assert any("interruptionQueueName" in e for e in errors)

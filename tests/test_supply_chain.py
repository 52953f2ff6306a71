"""Supply chain: every image comes from an admitted publisher (never a whole registry), the signing publishers are
verified at admission in Enforce with the verified digest, and the digest policy is Audit until its key says Enforce."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from constructs_lib.image_admission import DIGEST_POLICY, EXCLUDED_NAMESPACES, admission_manifests
from platform_checks.platform_render import PlatformRender
from platform_checks.wiring import all_images
from platform_config.config import IMAGE_DIGEST_ACTIONS, PlatformConfig
from platform_config.supply_chain import (
    PUBLISHERS,
    admitted_prefixes,
    has_digest,
    normalized_image,
    publisher_of,
    signer_prefixes,
    signers,
)
from tests import renovate_coverage as rc
from tests.conftest import PROFILE_NAMES, ROOT


def rendered_images(render: PlatformRender) -> list[tuple[str, str]]:
    """(where, image) of every container the platform runs."""
    return [(f"{origin}: {where}", image) for origin, obj in render.objects() for where, image in all_images(obj)]


def verification_policies(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == "ImageValidatingPolicy" or "verify-image" in m["metadata"]["name"]]


# --- publishers ---------------------------------------------------------------------------------------------


def test_every_rendered_image_comes_from_an_admitted_publisher(platform_render: PlatformRender) -> None:
    images = rendered_images(platform_render)
    assert images, "the render runs no container"
    admitted = admitted_prefixes()
    outside = [(w, i) for w, i in images if not any(normalized_image(i).startswith(p) for p in admitted)]
    assert outside == []
    assert [(w, i) for w, i in images if publisher_of(i) is None] == []


def test_no_admitted_prefix_is_a_bare_registry() -> None:
    for prefix in admitted_prefixes():
        registry, *path = prefix.removesuffix("/").split("/")
        assert prefix.endswith("/") and "." in registry, f"{prefix}: a registry host, then the publisher, then '/'"
        assert path and all(path), f"{prefix} admits a whole registry: name the publisher (organisation) too"


def test_the_guardrail_admits_exactly_the_publisher_table() -> None:
    prefixes = [p.prefix for p in PUBLISHERS]
    assert len(set(prefixes)) == len(prefixes)
    assert admitted_prefixes() == prefixes


def test_every_publisher_is_verified_or_says_why_not() -> None:
    assert PUBLISHERS
    for publisher in PUBLISHERS:
        assert (publisher.signer is None) == bool(publisher.unverified.strip()), publisher.prefix


def test_each_signer_is_a_documented_github_actions_identity_of_its_own_repository() -> None:
    assert signers()
    for signer in signers():
        assert signer.doc.startswith("https://"), signer.name
        assert signer.issuer == "https://token.actions.githubusercontent.com", signer.name
        # The subject names one repository's workflows: a glob may not widen the owner or the repository.
        assert signer.subject.startswith("https://github.com/"), signer.name
        owner_repo = signer.subject.removeprefix("https://github.com/").split("/.github/workflows/")[0]
        assert owner_repo.count("/") == 1 and "*" not in owner_repo, signer.subject


@pytest.mark.parametrize(
    ("image", "full"),
    [
        ("busybox:1.36.1", "docker.io/library/busybox:1.36.1"),
        ("docker.io/postgres:18.4", "docker.io/library/postgres:18.4"),
        ("jaegertracing/jaeger:2.19.0", "docker.io/jaegertracing/jaeger:2.19.0"),
        ("localhost:5000/app:1", "localhost:5000/app:1"),
        ("quay.io/argoproj/argocd:v3.4.4", "quay.io/argoproj/argocd:v3.4.4"),
    ],
)
def test_images_normalise_as_the_container_runtime_resolves_them(image: str, full: str) -> None:
    assert normalized_image(image) == full


# --- admission ----------------------------------------------------------------------------------------------


def _config(profile: str, **changes: Any) -> PlatformConfig:
    return replace(PlatformConfig(release=profile), **changes)


def _verified_globs(policy: dict[str, Any]) -> set[str]:
    if policy["kind"] == "ImageValidatingPolicy":
        return {m["glob"] for m in policy["spec"]["matchImageReferences"]}
    return {ref for rule in policy["spec"]["rules"] for v in rule["verifyImages"] for ref in v["imageReferences"]}


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_each_signer_is_verified_in_enforce_with_the_verified_digest(profile: str) -> None:
    policies = verification_policies(admission_manifests(_config(profile)))
    assert policies and signers()
    assert {g for p in policies for g in _verified_globs(p)} == {f"{p}*" for s in signers() for p in signer_prefixes(s)}
    for policy in policies:
        spec = policy["spec"]
        if policy["kind"] == "ImageValidatingPolicy":
            assert spec["validationActions"] == ["Deny"]
            assert spec["validationConfigurations"] == {"mutateDigest": True, "verifyDigest": True, "required": True}
            # Pods only: a digest in a controller's template would fight Argo CD's sync.
            assert spec["autogen"] == {"podControllers": {"controllers": []}}
        else:
            # Kyverno refuses mutateDigest in Audit.
            assert spec["validationFailureAction"] == "Enforce"
            assert policy["metadata"]["annotations"]["pod-policies.kyverno.io/autogen-controllers"] == "none"
            for rule in spec["rules"]:
                assert all(v["mutateDigest"] and v["verifyDigest"] and v["required"] for v in rule["verifyImages"])


def test_the_render_applies_the_profiles_admission_policies(platform_render: PlatformRender) -> None:
    expected = admission_manifests(_config(platform_render.profile))
    names = {(m["kind"], m["metadata"]["name"]) for m in platform_render.manifests}
    assert {(m["kind"], m["metadata"]["name"]) for m in expected} <= names


def _digest_action(policy: dict[str, Any]) -> str:
    spec = policy["spec"]
    if policy["kind"] == "ClusterPolicy":
        return str(spec["validationFailureAction"])
    return {"Deny": "Enforce", "Audit": "Audit"}[spec["validationActions"][0]]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_digest_policy_audits_by_default_and_one_key_enforces_it(profile: str) -> None:
    def digest_policy(config: PlatformConfig) -> dict[str, Any]:
        (policy,) = [m for m in admission_manifests(config) if m["metadata"]["name"] == DIGEST_POLICY]
        return policy

    assert _digest_action(digest_policy(_config(profile))) == PlatformConfig().image_digest_action == "Audit"
    for action in IMAGE_DIGEST_ACTIONS:
        assert _digest_action(digest_policy(_config(profile, image_digest_action=action))) == action


def test_a_digest_is_only_a_full_sha256() -> None:
    assert has_digest("public.ecr.aws/karpenter/controller:1.0.0@sha256:" + "a" * 64)
    assert not has_digest("quay.io/argoproj/argocd:v3.4.4")
    assert not has_digest("quay.io/argoproj/argocd@sha256:abc")


# --- coverage: every tag-only image is pinned by Renovate or verified at admission --------------------------

RENOVATE = json.loads((ROOT / "renovate.json").read_text())


def renovate_pinned_images() -> set[tuple[str, str]]:
    """(normalized repository, tag) of every image a Renovate docker dependency pins by digest (pinDigests on and
    its pinDigest update enabled: the frozen profile takes that update and no other)."""
    names = [str(p.relative_to(ROOT)) for top in ("helm_values", "infra", "apps") for p in (ROOT / top).rglob("*.y*ml")]
    deps = rc.extract(RENOVATE, rc.read_files(ROOT, names))
    pinned = set()
    for dep in deps:
        settings = rc.settings_for(RENOVATE, dep, update_type="pinDigest")
        if dep.datasource == "docker" and settings.get("enabled", True) and settings.get("pinDigests"):
            pinned.add((normalized_image(dep.depName), dep.currentValue))
    return pinned


def uncovered(containers: list[tuple[str, str]], pinned: set[tuple[str, str]]) -> list[str]:
    """Tag-only images of (image, namespace) that no Renovate digest pin tracks and no verification policy pins at
    admission (Kyverno never admits its excluded namespaces, so a signer's image there needs its pin too)."""
    out = []
    for image, namespace in containers:
        if has_digest(image):
            continue
        publisher = publisher_of(image)
        if publisher is not None and publisher.signer is not None and namespace not in EXCLUDED_NAMESPACES:
            continue
        repository, _, tag = image.rpartition(":")
        if (normalized_image(repository), tag) not in pinned:
            out.append(image)
    return sorted(set(out))


def test_every_tag_only_image_is_pinned_by_renovate_or_verified_at_admission(platform_render: PlatformRender) -> None:
    containers = [
        (image, str(obj["metadata"].get("namespace", "")))
        for _origin, obj in platform_render.objects()
        for _where, image in all_images(obj)
    ]
    assert containers
    assert uncovered(containers, renovate_pinned_images()) == []


def test_a_new_image_neither_pinned_nor_verified_is_reported() -> None:
    pinned = renovate_pinned_images()
    new = "ghcr.io/open-telemetry/demo:9.9.9-new-component"
    assert uncovered([(new, "astronomy-shop")], pinned) == [new]
    # A verified publisher is pinned to the verified digest at admission; a digest needs no pin.
    digest = "docker.io/library/busybox:1@sha256:" + "a" * 64
    assert uncovered([("quay.io/argoproj/argocd:v9.9.9", "argocd"), (digest, "astronomy-shop")], pinned) == []
    # ... but not where Kyverno admits nothing.
    assert uncovered([("quay.io/argoproj/argocd:v9.9.9", "kube-system")], pinned) == ["quay.io/argoproj/argocd:v9.9.9"]


def test_the_frozen_profiles_images_gain_their_digest_but_never_a_new_version_or_digest() -> None:
    frozen = rc.Dep(-1, f"helm_values/{rc.FROZEN_PROFILE}/x.yaml", 0, "quay.io/argoproj/argocd", "v1.0.0", "docker")
    pin = rc.settings_for(RENOVATE, frozen, update_type="pinDigest")
    assert pin.get("enabled", True) is True and pin["pinDigests"] is True
    for update in ("major", "minor", "patch", "digest"):
        assert rc.settings_for(RENOVATE, frozen, update_type=update)["enabled"] is False, update

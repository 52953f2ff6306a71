"""ImageAdmission: Kyverno verifies each signing publisher's images against its documented keyless identity
(Enforce, the verified digest replaces the tag) and a digest policy reports or refuses tag-only images
(`image_digest_action`). Applied by CDK, outside the GitOps content a Git commit can change."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from platform_config.addons import addon
from platform_config.config import PlatformConfig
from platform_config.guardrails import GUARDRAIL_KIND
from platform_config.supply_chain import Signer, signer_prefixes, signers

# Kyverno never receives these namespaces (the chart's webhook namespaceSelector); saying so keeps the intent visible.
EXCLUDED_NAMESPACES = ("kube-system", "kyverno")
# Verification calls the registry and Sigstore at admission: Kyverno's webhook default (10 s) is too short for that.
VERIFY_TIMEOUT_SECONDS = 30
DIGEST_POLICY = "require-image-digest"
DIGEST_MESSAGE = "Images must be pinned by digest: every container image must end in @sha256:<digest>."
ALL_CONTAINERS = (
    "object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : []) + "
    "(has(object.spec.ephemeralContainers) ? object.spec.ephemeralContainers : [])"
)
# Only Pods are verified and mutated, never their controllers (autogen off): a digest written into a Deployment's
# template would differ from Git and Argo CD would revert it forever; a Pod's image is what runs.
NO_AUTOGEN_ANNOTATION = {"pod-policies.kyverno.io/autogen-controllers": "none"}
PODS = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods"]}


def _not_excluded() -> dict[str, Any]:
    values = list(EXCLUDED_NAMESPACES)
    return {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": values}]}


def _annotations(title: str, description: str) -> dict[str, str]:
    return {
        "policies.kyverno.io/title": title,
        "policies.kyverno.io/category": "Supply chain",
        "policies.kyverno.io/subject": "Pod",
        "policies.kyverno.io/description": description,
    }


def _verify_description(signer: Signer) -> str:
    note = f" Note: {signer.note}." if signer.note else ""
    return (
        f"Verifies images under {', '.join(signer_prefixes(signer))} against the keyless signature of issuer "
        f"{signer.issuer} and subject {signer.subject} (documented at {signer.doc}), then replaces the tag with the "
        f"verified digest. Enforce: Kyverno refuses mutateDigest in Audit, and an unverified image must not run.{note}"
    )


def image_validating_policy(signer: Signer) -> dict[str, Any]:
    """Kyverno 1.19: one ImageValidatingPolicy per signer (policies.kyverno.io/v1)."""
    prefixes = signer_prefixes(signer)
    cosign: dict[str, Any] = {
        "keyless": {"identities": [{"issuer": signer.issuer, "subjectRegExp": signer.subject_regexp}]}
    }
    if signer.signatures:
        cosign["source"] = {"repository": signer.signatures}
    matched = " || ".join(f"image.startsWith('{p}')" for p in prefixes)
    images = (
        "images.containers + (has(images.initContainers) ? images.initContainers : []) + "
        "(has(images.ephemeralContainers) ? images.ephemeralContainers : [])"
    )
    return {
        "apiVersion": "policies.kyverno.io/v1",
        "kind": "ImageValidatingPolicy",
        "metadata": {
            "name": f"verify-{signer.name}-images",
            "annotations": _annotations(f"Verify {signer.name} image signatures", _verify_description(signer)),
        },
        "spec": {
            "validationActions": ["Deny"],
            "failurePolicy": "Fail",
            "webhookConfiguration": {"timeoutSeconds": VERIFY_TIMEOUT_SECONDS},
            "evaluation": {"background": {"enabled": False}},
            "autogen": {"podControllers": {"controllers": []}},
            "matchConstraints": {"resourceRules": [PODS], "namespaceSelector": _not_excluded()},
            "matchImageReferences": [{"glob": f"{p}*"} for p in prefixes],
            "validationConfigurations": {"mutateDigest": True, "verifyDigest": True, "required": True},
            "attestors": [{"name": signer.name, "cosign": cosign}],
            "validations": [
                {
                    "expression": (
                        f"({images}).filter(image, {matched})"
                        f".all(image, verifyImageSignatures(image, [attestors.{signer.name}]) > 0)"
                    ),
                    "message": f"{signer.name} images must carry the publisher's keyless signature ({signer.doc})",
                }
            ],
        },
    }


def _exclude() -> dict[str, Any]:
    return {"any": [{"resources": {"namespaces": list(EXCLUDED_NAMESPACES)}}]}


def verify_images_cluster_policy() -> dict[str, Any]:
    """Kyverno 1.12: one ClusterPolicy with a verifyImages rule per signer (kyverno.io/v1)."""
    rules = []
    for signer in signers():
        entry: dict[str, Any] = {"keyless": {"issuer": signer.issuer, "subject": signer.subject}}
        if signer.signatures:
            entry["repository"] = signer.signatures
        rules.append(
            {
                "name": f"verify-{signer.name}",
                "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "exclude": _exclude(),
                "verifyImages": [
                    {
                        "imageReferences": [f"{p}*" for p in signer_prefixes(signer)],
                        "mutateDigest": True,
                        "verifyDigest": True,
                        "required": True,
                        "attestors": [{"entries": [entry]}],
                    }
                ],
            }
        )
    description = " ".join(_verify_description(s) for s in signers())
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {
            "name": "verify-image-signatures",
            "annotations": {
                **_annotations("Verify image signatures", description),
                **NO_AUTOGEN_ANNOTATION,
            },
        },
        "spec": {
            "validationFailureAction": "Enforce",
            "background": False,
            "webhookTimeoutSeconds": VERIFY_TIMEOUT_SECONDS,
            "rules": rules,
        },
    }


def digest_policy(profile: str, action: str) -> dict[str, Any]:
    """Every container image by digest: `action` Audit reports tag-only images, Enforce refuses them."""
    group, kind = GUARDRAIL_KIND[profile]
    description = (
        "Requires every container, initContainer and ephemeralContainer image to carry an @sha256 digest, so what "
        "runs cannot change under a moved tag. Signature-verified publishers get the verified digest at admission "
        "(mutateDigest); the others are pinned in the values by Renovate (pinDigests). Failure action from the "
        f"config key image_digest_action (Audit by default). Excluded namespaces: {', '.join(EXCLUDED_NAMESPACES)}."
    )
    metadata = {"name": DIGEST_POLICY, "annotations": _annotations("Require image digests", description)}
    validation = {
        "expression": "variables.allContainers.all(c, c.image.contains('@sha256:'))",
        "message": DIGEST_MESSAGE,
    }
    variables = [{"name": "allContainers", "expression": ALL_CONTAINERS}]
    if kind == "ClusterPolicy":
        rule = {
            "name": "image-digests",
            "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "exclude": _exclude(),
            "validate": {"cel": {"variables": variables, "expressions": [validation]}},
        }
        spec = {"validationFailureAction": action, "background": True, "rules": [rule]}
    else:
        spec = {
            "validationActions": ["Deny" if action == "Enforce" else "Audit"],
            "evaluation": {"background": {"enabled": True}},
            "matchConstraints": {"resourceRules": [PODS], "namespaceSelector": _not_excluded()},
            "variables": variables,
            "validations": [validation],
        }
    return {"apiVersion": f"{group}/v1", "kind": kind, "metadata": metadata, "spec": spec}


def admission_manifests(config: PlatformConfig) -> list[dict[str, Any]]:
    """The profile's verification policies, then the digest policy."""
    # The policy kinds follow the Kyverno that runs: an upgrade step's is the one of the profile pinning its chart.
    profile = config.profile.files_profile(addon("kyverno").chart)
    if GUARDRAIL_KIND[profile][1] == "ClusterPolicy":
        verify = [verify_images_cluster_policy()]
    else:
        verify = [image_validating_policy(s) for s in signers()]
    return [*verify, digest_policy(profile, config.image_digest_action)]


class ImageAdmission(Construct):
    """Exposes `manifests` and `resource`; applied once Kyverno (its CRDs and webhooks) is installed."""

    def __init__(self, scope: Construct, id_: str, *, cluster: eks.ICluster, config: PlatformConfig) -> None:
        super().__init__(scope, id_)
        self.manifests = admission_manifests(config)
        self.resource = eks.KubernetesManifest(self, "Policies", cluster=cluster, manifest=self.manifests)

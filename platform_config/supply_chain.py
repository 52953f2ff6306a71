"""The image publishers the platform admits: one organisation-scoped prefix each (never a whole registry), with the
keyless signing identity upstream documents, or the reason its images are not verified. The registry guardrail's
allowedRegistries (infra/policies/settings/settings.yaml) lists exactly these prefixes (tests/test_supply_chain.py);
constructs_lib/image_admission.py turns the signers into Kyverno image verification."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from platform_config import yaml_load

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "infra" / "policies" / "settings" / "settings.yaml"
GITHUB_ACTIONS = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True)
class Signer:
    """A publisher's keyless (Sigstore Fulcio) signing identity as its documentation states it: the OIDC issuer, the
    certificate subject as a glob (`*` any text; Kyverno 1.12's keyless `subject` takes it), the repository that
    holds the signatures when it is not the image's own, and the page that documents it."""

    name: str
    issuer: str
    subject: str
    doc: str
    signatures: str = ""
    note: str = ""

    @property
    def subject_regexp(self) -> str:
        """The subject glob as an anchored regular expression (ImageValidatingPolicy's keyless `subjectRegExp`)."""
        return "^" + ".*".join(re.escape(part) for part in self.subject.split("*")) + "$"


ARGO_CD = Signer(
    name="argocd",
    issuer=GITHUB_ACTIONS,
    subject="https://github.com/argoproj/argo-cd/.github/workflows/image-reuse.yaml@refs/tags/v*",
    doc=(
        "https://argo-cd.readthedocs.io/en/stable/operator-manual/signed-release-assets/ "
        "(images signed keyless since 2.7)"
    ),
)
KYVERNO = Signer(
    name="kyverno",
    issuer=GITHUB_ACTIONS,
    # The page shows the subject .../workflows/reuse.yaml@refs/tags/<release_tag>; any workflow of kyverno/kyverno on
    # a release tag keeps the repository and the tag, the parts that make it genuine, across workflow renames.
    subject="https://github.com/kyverno/kyverno/.github/workflows/*@refs/tags/v*",
    doc="https://kyverno.io/docs/security/ (Verifying Kyverno Container Images)",
    signatures="ghcr.io/kyverno/signatures",
    note="Kyverno never admits its own namespace (chart config excludes it), so its own pods are not verified by it",
)
KARPENTER = Signer(
    name="karpenter",
    issuer=GITHUB_ACTIONS,
    subject="https://github.com/aws/karpenter-provider-aws/.github/workflows/release.yaml@*",
    doc=(
        "https://karpenter.sh/docs/getting-started/getting-started-with-karpenter/ (cosign verify of the release; "
        "hack/release/common.sh cosignImages signs the controller image in the same release workflow)"
    ),
    note=(
        "the controller runs in kube-system, which Kyverno never admits; there its chart's digest (upstream values, "
        "held in upstream_facts) is what runs"
    ),
)

# Why a publisher's images are not verified at admission: nothing documents an identity to verify against.
NO_IDENTITY = "upstream documents no keyless signing identity for these images"


@dataclass(frozen=True)
class Publisher:
    """One admitted image prefix (`<registry>/<organisation>/...`, ending in "/"), who publishes there, and either
    the Signer that verifies its images or why none does."""

    prefix: str
    name: str
    signer: Signer | None = None
    unverified: str = ""


PUBLISHERS: tuple[Publisher, ...] = (
    Publisher("quay.io/argoproj/", "Argo CD", ARGO_CD),
    Publisher("ghcr.io/kyverno/", "Kyverno (chart 3.2 images, 3.9 readiness checker)", KYVERNO),
    Publisher("reg.kyverno.io/kyverno/", "Kyverno (chart 3.4 and later)", KYVERNO),
    Publisher("public.ecr.aws/karpenter/", "Karpenter", KARPENTER),
    Publisher("public.ecr.aws/eks/", "AWS Load Balancer Controller", unverified=NO_IDENTITY),
    Publisher(
        "public.ecr.aws/docker/library/",
        "Docker Official Images on ECR Public (Argo CD's redis)",
        unverified=NO_IDENTITY + " (Docker signs official images with Docker Content Trust, not Sigstore)",
    ),
    Publisher(
        "ecr-public.aws.com/docker/library/",
        "Docker Official Images on ECR Public's newer domain (Argo CD 3's redis)",
        unverified=NO_IDENTITY + " (Docker signs official images with Docker Content Trust, not Sigstore)",
    ),
    Publisher(
        "docker.io/library/",
        "Docker Official Images (busybox, postgres)",
        unverified=NO_IDENTITY + " (Docker signs official images with Docker Content Trust, not Sigstore)",
    ),
    Publisher("quay.io/prometheus/", "Prometheus (server, alertmanager, node-exporter)", unverified=NO_IDENTITY),
    Publisher("quay.io/prometheus-operator/", "Prometheus Operator", unverified=NO_IDENTITY),
    Publisher("quay.io/kiwigrid/", "kiwigrid k8s-sidecar (Grafana's dashboard loader)", unverified=NO_IDENTITY),
    Publisher("docker.io/grafana/", "Grafana", unverified=NO_IDENTITY),
    Publisher(
        "registry.k8s.io/kube-state-metrics/",
        "kube-state-metrics",
        unverified=NO_IDENTITY + " (Kubernetes documents its krel-trust identity for release images only)",
    ),
    Publisher(
        "registry.k8s.io/ingress-nginx/",
        "ingress-nginx kube-webhook-certgen (seed's kube-prometheus-stack)",
        unverified=NO_IDENTITY + " (Kubernetes documents its krel-trust identity for release images only)",
    ),
    Publisher(
        "ghcr.io/jkroepke/", "kube-webhook-certgen fork (current's kube-prometheus-stack)", unverified=NO_IDENTITY
    ),
    Publisher("ghcr.io/open-telemetry/", "OpenTelemetry (demo, collector releases)", unverified=NO_IDENTITY),
    Publisher("docker.io/otel/", "OpenTelemetry collector on Docker Hub (seed)", unverified=NO_IDENTITY),
    Publisher("ghcr.io/open-feature/", "OpenFeature flagd", unverified=NO_IDENTITY),
    Publisher("docker.io/jaegertracing/", "Jaeger", unverified=NO_IDENTITY),
    Publisher("ghcr.io/valkey-io/", "Valkey", unverified=NO_IDENTITY),
    Publisher("docker.io/valkey/", "Valkey on Docker Hub (seed)", unverified=NO_IDENTITY),
    Publisher("docker.io/bitnami/", "Bitnami kubectl (seed's Kyverno hooks)", unverified=NO_IDENTITY),
)


def normalized_image(image: str) -> str:
    """The image as the container runtime resolves it: a name without a registry is Docker Hub's, and a Docker Hub
    name without an organisation an official image (busybox -> docker.io/library/busybox)."""
    first = image.split("/")[0]
    if not ("/" in image and ("." in first or ":" in first or first == "localhost")):
        image = "docker.io/" + image
    parts = image.split("/")
    return f"docker.io/library/{parts[1]}" if parts[0] == "docker.io" and len(parts) == 2 else image


def admitted_prefixes() -> list[str]:
    """The registry guardrail's allowedRegistries, as the cluster receives them."""
    data = yaml_load.safe_load(SETTINGS.read_text())["data"]
    return [p for p in str(data["allowedRegistries"]).split(",") if p]


def publisher_of(image: str) -> Publisher | None:
    """The publisher whose prefix the (normalized) image starts with; the longest prefix wins."""
    full = normalized_image(image)
    found = [p for p in PUBLISHERS if full.startswith(p.prefix)]
    return max(found, key=lambda p: len(p.prefix)) if found else None


def signers() -> list[Signer]:
    """Each signer once, in table order."""
    return list(dict.fromkeys(p.signer for p in PUBLISHERS if p.signer is not None))


def signer_prefixes(signer: Signer) -> list[str]:
    return [p.prefix for p in PUBLISHERS if p.signer == signer]


def has_digest(image: str) -> bool:
    """Whether the image reference pins a sha256 digest."""
    return bool(re.search(r"@sha256:[0-9a-f]{64}$", image))

"""The guardrails' shared facts: the Kyverno policy kind per release profile, the resources a rule may name, the
annotation keys and where each profile's generated policies live (tools/generate/build_policies writes them,
platform_checks/kyverno_cel evaluates them)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Kyverno 1.12 (seed) validates with kyverno.io ClusterPolicies; Kyverno 1.19 (current) deprecates them
# (removed in 1.20) in favour of policies.kyverno.io ValidatingPolicies. (API group, kind) per profile.
GUARDRAIL_KIND: dict[str, tuple[str, str]] = {
    "seed": ("kyverno.io", "ClusterPolicy"),
    "current": ("policies.kyverno.io", "ValidatingPolicy"),
}

# Kubernetes resources a rule's `kinds` may name: (apiGroup, version, resource).
RESOURCES = {
    "Pod": ("", "v1", "pods"),
    # `kubectl debug` adds ephemeral containers through this subresource: a rule on pods alone never sees them.
    "Pod/ephemeralcontainers": ("", "v1", "pods/ephemeralcontainers"),
    "Service": ("", "v1", "services"),
    "PersistentVolumeClaim": ("", "v1", "persistentvolumeclaims"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
}
GUARDRAIL = "eks-platform.io/guardrail"
GUARDRAIL_RULE = "eks-platform.io/guardrail-rule"
# A guardrail with `ephemeralContainers: true` gets, per Pod rule, a copy named <rule>-ephemeral that matches the
# ephemeralcontainers subresource (a separate rule: mixing it with Pod would turn Kyverno's autogen off).
EPHEMERAL_SUFFIX = "-ephemeral"
EPHEMERAL_KIND = "Pod/ephemeralcontainers"


def out_dir(profile: str) -> Path:
    """Where a profile's generated policies live (its infra overlay lists this directory)."""
    return ROOT / "infra" / "overlays" / profile / "policies"

"""The Kyverno policy kind each release profile's guardrails are written in (its Kyverno runs that kind)."""

from __future__ import annotations

# Kyverno 1.12 (seed) validates with kyverno.io ClusterPolicies; Kyverno 1.19 (current) deprecates them
# (removed in 1.20) in favour of policies.kyverno.io ValidatingPolicies. (API group, kind) per profile.
GUARDRAIL_KIND: dict[str, tuple[str, str]] = {
    "seed": ("kyverno.io", "ClusterPolicy"),
    "current": ("policies.kyverno.io", "ValidatingPolicy"),
}

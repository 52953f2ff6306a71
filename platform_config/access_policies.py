"""The EKS access policies the cluster's access entries grant (constructs_lib/eks_cluster; the synth summary
counts admins and viewers by them)."""

from __future__ import annotations

CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
# Read-only across the cluster (no Secrets): for people who look, not change.
VIEW_POLICY = "AmazonEKSViewPolicy"

"""The tag that names a resource's cluster: the app sets it on every resource; Karpenter's nodes, the shop's load
balancer and the Spot drill's target select by it, so each reads it from here."""

from __future__ import annotations

CLUSTER_TAG = "eks-platform.io/cluster"

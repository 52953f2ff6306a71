"""The placement contract: where a pod lands is decided by these labels and taints, and nothing else."""

from __future__ import annotations

# Stateful pods tolerate this taint and select this label; the on-demand NodePool sets both.
WORKLOAD_CLASS_KEY = "eks-platform.io/workload-class"
STATEFUL = "stateful"
STATEFUL_TOLERATION = {
    "key": WORKLOAD_CLASS_KEY,
    "operator": "Equal",
    "value": STATEFUL,
    "effect": "NoSchedule",
}
STATEFUL_NODE_SELECTOR = {WORKLOAD_CLASS_KEY: STATEFUL}
# Karpenter 1.0's annotation; `karpenter.sh/do-not-evict` is the pre-1.0 name and is ignored.
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
# The managed system node group: only CriticalAddonsOnly-tolerating add-ons run there.
SYSTEM_NODE_SELECTOR = {"eks-platform.io/node-role": "system"}
SYSTEM_TOLERATION = {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}
SPOT_NODEPOOL = "spot"
ON_DEMAND_NODEPOOL = "on-demand"
NODECLASS = "default"

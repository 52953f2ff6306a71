"""Karpenter v1 API manifests (1.0 and 1.14 alike): the EC2NodeClass and the split Spot / On-Demand NodePools of
the placement contract."""

from __future__ import annotations

from typing import Any

from platform_config import placement
from platform_config.config import PlatformConfig
from platform_config.tags import CLUSTER_TAG

NODECLASS_REF = {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": placement.NODECLASS}


def ec2_node_class(config: PlatformConfig, *, node_role_name: str, cluster_security_group_id: str) -> dict[str, Any]:
    """Nodes: pinned AL2023 alias, discovery-tagged private subnets, the cluster SG, IMDSv2 hop 1, encrypted gp3."""
    return {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": {"name": placement.NODECLASS},
        "spec": {
            "amiSelectorTerms": [{"alias": config.ami_alias}],
            "role": node_role_name,
            "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": config.cluster_name}}],
            # The EKS-created cluster security group by id: exactly the group managed nodes use, with no
            # tag that another security group could carry by accident.
            "securityGroupSelectorTerms": [{"id": cluster_security_group_id}],
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "disabled",
                "httpPutResponseHopLimit": 1,
                "httpTokens": "required",
            },
            "blockDeviceMappings": [
                {
                    "deviceName": "/dev/xvda",
                    "ebs": {
                        "volumeSize": "50Gi",
                        "volumeType": "gp3",
                        "encrypted": True,
                        "deleteOnTermination": True,
                    },
                }
            ],
            "tags": {
                CLUSTER_TAG: config.cluster_name,
                "eks-platform.io/managed-by": "karpenter",
            },
        },
    }


def _requirements(config: PlatformConfig, capacity_type: str) -> list[dict[str, Any]]:
    return [
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [capacity_type]},
        {
            "key": "karpenter.k8s.aws/instance-category",
            "operator": "In",
            "values": list(config.karpenter_categories),
        },
        {
            "key": "karpenter.k8s.aws/instance-generation",
            "operator": "Gt",
            "values": [str(config.karpenter_min_generation)],
        },
        {"key": "kubernetes.io/arch", "operator": "In", "values": list(config.karpenter_architectures)},
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        # Nitro virtualized only: bare-metal sizes (empty hypervisor) take minutes to boot, which breaks
        # the "node in < 45 s" promise.
        {"key": "karpenter.k8s.aws/instance-hypervisor", "operator": "In", "values": ["nitro"]},
    ]


def _node_pool(
    *,
    name: str,
    weight: int,
    capacity_type: str,
    config: PlatformConfig,
    cpu_limit: int,
    memory_limit_gib: int,
    disruption: dict[str, Any],
    labels: dict[str, str],
    taints: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The NodePool shape both pools share; the contract-specific parts are the arguments."""
    node_spec: dict[str, Any] = {"nodeClassRef": NODECLASS_REF, "requirements": _requirements(config, capacity_type)}
    if taints:
        node_spec["taints"] = taints
    node_spec["expireAfter"] = config.karpenter_expire_after
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name},
        "spec": {
            "weight": weight,
            "template": {
                "metadata": {"labels": {**labels, "eks-platform.io/capacity": capacity_type}},
                "spec": node_spec,
            },
            "limits": {"cpu": str(cpu_limit), "memory": f"{memory_limit_gib}Gi"},
            "disruption": disruption,
        },
    }


def spot_node_pool(config: PlatformConfig) -> dict[str, Any]:
    """Stateless default: Spot, diversified, consolidated when empty or underutilized, preferred by weight."""
    return _node_pool(
        name=placement.SPOT_NODEPOOL,
        weight=config.karpenter_spot_weight,
        capacity_type="spot",
        config=config,
        cpu_limit=config.karpenter_spot_cpu_limit,
        memory_limit_gib=config.karpenter_spot_memory_limit_gib,
        labels={},
        disruption={
            "consolidationPolicy": "WhenEmptyOrUnderutilized",
            "consolidateAfter": config.karpenter_consolidate_after,
            # At most 10% of Spot nodes are voluntarily disrupted at once; interruptions are not budgeted.
            "budgets": [{"nodes": "10%"}],
        },
    )


def on_demand_node_pool(config: PlatformConfig) -> dict[str, Any]:
    """Stateful: On-Demand, tainted and labelled by the contract, only emptied nodes are removed."""
    return _node_pool(
        name=placement.ON_DEMAND_NODEPOOL,
        weight=config.karpenter_on_demand_weight,
        capacity_type="on-demand",
        config=config,
        cpu_limit=config.karpenter_on_demand_cpu_limit,
        memory_limit_gib=config.karpenter_on_demand_memory_limit_gib,
        labels=dict(placement.STATEFUL_NODE_SELECTOR),
        taints=[{"key": placement.WORKLOAD_CLASS_KEY, "value": placement.STATEFUL, "effect": "NoSchedule"}],
        disruption={
            "consolidationPolicy": "WhenEmpty",
            "consolidateAfter": "5m",
            # Never drain a stateful node for underutilization; empty or drifted nodes go one at a time.
            "budgets": [
                {"nodes": "0", "reasons": ["Underutilized"]},
                {"nodes": "1", "reasons": ["Empty", "Drifted"]},
            ],
        },
    )

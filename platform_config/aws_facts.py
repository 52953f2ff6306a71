"""AWS facts the config is checked against, read from aws_facts.json (derived by tools/generate/derive_aws_facts.py)."""

from __future__ import annotations

import json
from pathlib import Path

_FACTS = json.loads((Path(__file__).with_name("aws_facts.json")).read_text())

# Region -> partition, for every region where botocore's endpoint data has an EKS endpoint.
EKS_REGIONS: dict[str, str] = dict(_FACTS["eks_regions"])
# Every EC2 instance type botocore's EC2 model knows.
INSTANCE_TYPES: frozenset[str] = frozenset(_FACTS["instance_types"])
# The AMI type the system node group runs, and the types CDK's Nodegroup accepts with it (x86_64, no GPU).
SYSTEM_NODE_AMI_TYPE: str = _FACTS["system_node_ami_type"]
SYSTEM_NODE_INSTANCE_TYPES: frozenset[str] = frozenset(_FACTS["system_node_instance_types"])
# CloudWatch Logs retention in days -> aws_logs.RetentionDays member (INFINITE left out on purpose).
LOG_RETENTION_DAYS: dict[int, str] = {int(days): member for days, member in _FACTS["log_retention_days"].items()}

"""platform_config/aws_facts.json is a fresh derivation from the pinned botocore and aws-cdk-lib, used as derived."""

from __future__ import annotations

import subprocess
import sys

from platform_config.aws_facts import (
    EKS_REGIONS,
    INSTANCE_TYPES,
    LOG_RETENTION_DAYS,
    SYSTEM_NODE_AMI_TYPE,
    SYSTEM_NODE_INSTANCE_TYPES,
)
from tests.conftest import ROOT, Synthesized
from tools.generate import derive_aws_facts


def test_committed_facts_are_a_fresh_derivation_from_the_pins() -> None:
    fresh = derive_aws_facts.render(derive_aws_facts.derive())
    assert derive_aws_facts.OUT.read_text() == fresh, "stale: run python -m tools.generate.derive_aws_facts"


def test_facts_hold_what_the_config_checks_against() -> None:
    assert EKS_REGIONS["us-east-1"] == "aws" and EKS_REGIONS["cn-north-1"] == "aws-cn"
    assert {"m6i.large", "m7g.large", "g5.xlarge"} <= INSTANCE_TYPES
    assert "m6i.large" in SYSTEM_NODE_INSTANCE_TYPES
    assert not {"m7g.large", "g5.xlarge"} & SYSTEM_NODE_INSTANCE_TYPES  # Graviton, GPU
    assert SYSTEM_NODE_INSTANCE_TYPES < INSTANCE_TYPES
    assert LOG_RETENTION_DAYS[3653] == "TEN_YEARS"


def test_system_node_group_runs_the_ami_type_its_instance_types_were_derived_for(synthesized: Synthesized) -> None:
    nodegroup = synthesized.only("cluster", "AWS::EKS::Nodegroup")
    assert nodegroup["Properties"]["AmiType"].upper() == SYSTEM_NODE_AMI_TYPE


def test_runtime_config_needs_no_dev_only_package() -> None:
    code = (
        "import sys, app, platform_stacks.platform_app\n"
        "print(sorted(m for m in ('botocore', 'boto3', 'hypothesis') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

"""`python app.py` reads its cdk.json itself; synth warns plainly when Kubernetes 1.29 is past EKS support."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from platform_stacks.platform_app import build_app, support_warnings
from tests.app_copy import app_copy
from tests.conftest import ROOT, Synthesized
from tests.fixed_context import TEST_CONTEXT, fixed_context
from tests.stack_fixtures import config
from tools.synth_summary import summarize


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without CDK/AWS settings that would override cdk.json."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "AWS_"))}
    return {**env, **extra}


def test_python_app_py_reads_cdk_json_zones_not_dummy_ones(tmp_path: Path) -> None:
    # A copy with a cdk.json of this test's choosing: the user's cdk.json plays no part in make test.
    zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    repo = app_copy(tmp_path / "repo", fixed_context(region="eu-west-1", availability_zones=zones))
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=repo, env=clean_env(CDK_OUTDIR=str(out)), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    network = json.loads((out / "eks-platform-Network.template.json").read_text())
    subnet_zones = {
        r["Properties"]["AvailabilityZone"] for r in network["Resources"].values() if r["Type"] == "AWS::EC2::Subnet"
    }
    assert subnet_zones == set(zones)


def test_python_app_py_reports_bad_config_in_one_line(tmp_path: Path) -> None:
    env = clean_env(CDK_OUTDIR=str(tmp_path), CDK_CONTEXT_JSON=json.dumps(fixed_context(nat_gateways=7)))
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: config key 'nat_gateways' = 7: accepted is 1 (cheap) to 3 (one per AZ, zonal HA)"
    )


def test_kubernetes_129_past_extended_support_warns_that_eks_no_longer_creates_it() -> None:
    (warning,) = support_warnings(config(), dt.date(2026, 11, 26))
    assert "left EKS extended support on 2026-03-23" in warning
    assert "EKS no longer creates clusters at this version" in warning


def test_between_standard_and_extended_support_warns_of_extra_cost() -> None:
    (warning,) = support_warnings(config(), dt.date(2025, 6, 1))
    assert "left EKS standard support on 2025-03-23" in warning


def test_no_warning_while_supported() -> None:
    assert support_warnings(config(), dt.date(2024, 6, 1)) == []


def test_synth_carries_the_support_warning_as_a_cdk_warning(synthesized: Synthesized) -> None:
    metadata = synthesized.platform.cluster.node.metadata
    warnings = [m.data for m in metadata if m.type == "aws:cdk:warning"]
    assert any("no longer creates clusters" in str(w) for w in warnings), warnings


def test_stack_names_follow_the_cluster_name() -> None:
    platform = build_app(fixed_context(cluster_name="blue"), env={}, nag=False)
    assert [s.stack_name for s in (platform.network, platform.cluster, platform.karpenter, platform.addons)] == [
        "blue-Network",
        "blue-Cluster",
        "blue-Karpenter",
        "blue-Addons",
    ]


def test_pinned_cdk_cli_synthesizes_all_stacks_offline_with_a_passing_summary(tmp_path: Path) -> None:
    repo = app_copy(tmp_path / "repo", TEST_CONTEXT)
    env = clean_env(
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        CDK_HOME=str(tmp_path / "home"),
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="true",
    )
    out = tmp_path / "cdk.out"
    cmd = ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--output", str(out)]
    result = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    text, passed = summarize(out)
    assert passed, text
    for stack in ("Network", "Cluster", "Karpenter", "Addons"):
        assert f"eks-platform-{stack}:" in text

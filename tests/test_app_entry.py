"""`python app.py` reads cdk.json itself; synth warns plainly when the profile's Kubernetes is past EKS support."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from platform_stacks.platform_app import build_app, cdk_json_context, support_warnings
from tests.conftest import ROOT, Synthesized
from tests.stack_fixtures import config


def test_python_app_py_uses_cdk_json_zones_not_dummy_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "AWS_"))}
    env["CDK_OUTDIR"] = str(tmp_path)
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    network = json.loads((tmp_path / "eks-platform-Network.template.json").read_text())
    zones = {
        r["Properties"]["AvailabilityZone"] for r in network["Resources"].values() if r["Type"] == "AWS::EC2::Subnet"
    }
    assert zones == {"us-east-1a", "us-east-1b", "us-east-1c"}


def test_python_app_py_reports_bad_config_in_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "AWS_"))}
    env["CDK_OUTDIR"] = str(tmp_path)
    env["CDK_CONTEXT_JSON"] = json.dumps({**cdk_json_context(), "nat_gateways": 7})
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: config key 'nat_gateways' = 7: accepted is 1 (cheap) to 3 (one per AZ, zonal HA)"
    )


def test_seed_past_extended_support_warns_that_eks_no_longer_creates_1_29() -> None:
    (warning,) = support_warnings(config(release="seed"), dt.date(2026, 11, 26))
    assert warning == (
        "Release profile seed: Kubernetes 1.29 left EKS extended support on 2026-03-23: EKS no longer creates "
        "clusters at this version, so a new deploy will fail and existing clusters are upgraded automatically. "
        "Select a supported release profile (release=current)."
    )


def test_seed_between_standard_and_extended_support_warns_of_extra_cost() -> None:
    (warning,) = support_warnings(config(release="seed"), dt.date(2025, 6, 1))
    assert "Kubernetes 1.29 left EKS standard support on 2025-03-23" in warning


@pytest.mark.parametrize(
    ("release", "today"),
    [("seed", dt.date(2024, 6, 1)), ("current", dt.date(2026, 11, 26)), ("current", dt.date(2027, 8, 2))],
)
def test_no_warning_while_in_standard_support(release: str, today: dt.date) -> None:
    assert support_warnings(config(release=release), today) == []


def test_current_warns_the_day_after_standard_support_ends() -> None:
    (warning,) = support_warnings(config(release="current"), dt.date(2027, 8, 3))
    assert warning.startswith("Release profile current: Kubernetes 1.36 left EKS standard support on 2027-08-02")


def test_synth_carries_the_profiles_support_warning_or_none(synthesized: Synthesized) -> None:
    metadata = synthesized.platform.cluster.node.metadata
    warnings = [str(m.data) for m in metadata if m.type == "aws:cdk:warning"]
    eks_no_longer_creates = any("no longer creates clusters" in w for w in warnings)
    # TODAY (conftest) is after 1.29's extended support and inside 1.36's standard support.
    assert eks_no_longer_creates == (synthesized.platform.config.release == "seed"), warnings
    if synthesized.platform.config.release == "current":
        assert not any("Release profile" in w for w in warnings), warnings


def test_stack_names_follow_the_cluster_name() -> None:
    platform = build_app({**cdk_json_context(), "cluster_name": "blue"}, env={}, nag=False)
    assert [s.stack_name for s in (platform.network, platform.cluster, platform.karpenter, platform.addons)] == [
        "blue-Network",
        "blue-Cluster",
        "blue-Karpenter",
        "blue-Addons",
    ]


def test_pinned_cdk_cli_synthesizes_all_stacks_offline_with_a_passing_summary(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from tools.synth_summary import summarize

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "AWS_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}:{env['PATH']}",
        CDK_HOME=str(tmp_path / "home"),
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="true",
    )
    out = tmp_path / "cdk.out"
    cmd = ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--output", str(out)]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    text, passed = summarize(out)
    assert passed, text
    for stack in ("Network", "Cluster", "Karpenter", "Addons"):
        assert f"eks-platform-{stack}:" in text

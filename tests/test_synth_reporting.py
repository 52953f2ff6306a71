"""What synth reports: the summary starts with where and what is deployed and repeats every warning; `make verify`
lists the warnings under its table; the deploy preflight refuses a Kubernetes version EKS no longer creates."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from scripts.preflight import main as preflight
from tests.conftest import Synthesized
from tests.fixed_context import fixed_context
from tools.report import verify as v
from tools.report.synth_summary import summarize, warnings

WARNING_KEYS = ("nobody will be able to use kubectl", "no longer creates clusters", "git_repo_url is the placeholder")


def expected_warnings(synthesized: Synthesized) -> tuple[str, ...]:
    """Seed's Kubernetes 1.29 is past EKS support on the suite's TODAY; current's 1.36 is not."""
    release = synthesized.config.release
    return tuple(k for k in WARNING_KEYS if release == "seed" or k != "no longer creates clusters")


def test_summary_starts_with_profile_account_region_version_nat_endpoint_and_shop_entry(
    synthesized: Synthesized,
) -> None:
    text, passed = summarize(synthesized.outdir)
    assert passed
    config = synthesized.config
    assert text.splitlines()[:9] == [
        f"Profile: {config.release}",
        "Account: 111111111111",
        "Region: us-east-1",
        f"Kubernetes: {config.kubernetes.version}",
        "NAT gateways: 1",
        "API endpoint: private (kubectl only from inside the VPC: docs/runbook.md, Private endpoint access)",
        f"Shop entry: internal ALB (HTTP only) from {config.vpc_cidr}",
        "Access: 0 admin principal(s), 0 viewer principal(s)",
        f"Git: {config.git_repo_url}",
    ]


def test_summary_counts_admin_and_viewer_principals_and_redacts_the_git_url(tmp_path: Path) -> None:
    from platform_stacks.platform_app import build_app
    from tools.report.synth_summary import settings

    roles = [f"arn:aws:iam::123456789012:role/{name}" for name in ("admins", "oncall", "auditors")]
    context = fixed_context(
        admin_principal_arns=roles[:2], viewer_principal_arns=roles[2:], git_repo_url="ssh://git@example.com/a/b.git"
    )
    build_app(context, env={}, today=dt.date(2026, 1, 1), outdir=str(tmp_path), nag=False).app.synth()
    lines = settings(tmp_path)
    assert "Access: 2 admin principal(s), 1 viewer principal(s)" in lines
    assert "Git: ssh://***@example.com/a/b.git" in lines


def test_summary_repeats_every_warning(synthesized: Synthesized) -> None:
    text, _ = summarize(synthesized.outdir)
    keys = expected_warnings(synthesized)
    tail = text.split(f"\nWarnings: {len(keys)}\n", 1)[1].splitlines()
    assert len(tail) == len(keys)
    for key in keys:
        assert sum(key in line for line in tail) == 1, key
    assert all(line.startswith("  WARNING eks-platform-") for line in tail)


def test_warnings_are_read_from_the_assembly_not_invented(tmp_path: Path) -> None:
    from platform_stacks.platform_app import build_app

    context = fixed_context(
        git_repo_url="https://github.com/acme/platform.git",
        admin_principal_arns=["arn:aws:iam::123456789012:role/admins"],
    )
    platform = build_app(context, env={}, today=dt.date(2024, 6, 1), outdir=str(tmp_path), nag=False)
    platform.app.synth()
    assert warnings(tmp_path) == []


def test_verify_lists_the_synth_warnings_under_its_table(tmp_path: Path, synthesized: Synthesized) -> None:
    # A "synth" check that copies the session's assembly into verify's {out}, so no second synth runs.
    copy = v.Check("synth", ("cp", "-r", str(synthesized.outdir), "{out}"), v.files_counter("stacks"))
    found: list[str] = []
    results = v.verify([copy], tmp_path, found)
    assert [r.passed for r in results] == [True]
    keys = expected_warnings(synthesized)
    assert len(found) == len(keys) and all(any(k in w for w in found) for k in keys)


def write_cdk_json(tmp_path: Path, **context: object) -> Path:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"app": "python3 app.py", "context": fixed_context(**context)}))
    return path


def test_preflight_refuses_a_version_eks_no_longer_creates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = preflight(
        ["--offline", "--cdk-json", str(write_cdk_json(tmp_path, release="seed"))], today=dt.date(2026, 11, 26), env={}
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "error: Kubernetes 1.29 left EKS extended support on 2026-03-23" in err
    assert "EKS no longer creates clusters at this version" in err
    assert "release=current" in err


def test_preflight_lets_the_current_profile_deploy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write_cdk_json(tmp_path, release="seed"))
    assert (
        preflight(["--offline", "--cdk-json", path, "-c", "release=current"], today=dt.date(2026, 11, 26), env={}) == 0
    )
    assert "release=current kubernetes=1.36" in capsys.readouterr().out


def test_preflight_counts_admins_with_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write_cdk_json(tmp_path))
    assert preflight(["--offline", "--script", "--cdk-json", path], today=dt.date(2024, 6, 1), env={}) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "admin_principals=0"
    arn = "admin_principal_arns=arn:aws:iam::123456789012:role/admins"
    assert preflight(["--offline", "--script", "--cdk-json", path, "-c", arn], today=dt.date(2024, 6, 1), env={}) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "admin_principals=1"


def test_preflight_reports_bad_config_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write_cdk_json(tmp_path))
    assert preflight(["--offline", "--cdk-json", path, "-c", "nat_gateways=7"], today=dt.date(2024, 6, 1), env={}) == 1
    assert capsys.readouterr().err.strip() == (
        "error: config key 'nat_gateways' = 7: accepted is 1 (cheap) to 3 (one per AZ, zonal HA)"
    )


def test_bench_prints_progress_for_each_timed_run(capsys: pytest.CaptureFixture[str]) -> None:
    from tools.report.bench import timed

    seconds = timed("cdk synth 1/5", ["true"])
    assert seconds >= 0
    assert re.fullmatch(r"  cdk synth 1/5 \.\.\. \d+\.\d s\n", capsys.readouterr().out)

"""Day two as commands: the runbook's teardown goes through make (never a bare `npx cdk` outside the venv), the
Spot interruption drill is `make drill` (a dry run unless DRILL_ARGS=--yes) and the SSM tunnel to a private
endpoint is `make tunnel`; both scripts print every command, call nothing dry and exactly what they print."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from tests.make_plan import make_dry_run
from tests.test_setup_scripts import BASH, calls

REPO = Path(__file__).resolve().parent.parent
RUNBOOK = (REPO / "docs" / "runbook.md").read_text()
SHIM = """#!/bin/sh
printf '%s\\n' "{name} $*" >> "$SHIM_LOG"
case "{name} $*" in
  "aws cloudformation describe-stacks"*) echo "${FAKE_TEMPLATE-EXT1a2b3c}" ;;
  "aws sqs get-queue-url"*) echo "https://sqs.example/q" ;;
  "aws fis start-experiment"*) echo "EXP9z" ;;
  "aws fis get-experiment"*) echo "${FAKE_STATUS:-completed}" ;;
  "aws sqs get-queue-attributes"*) echo 0 ;;
  "aws eks describe-cluster"*) echo "https://ABC123.gr7.us-east-1.eks.amazonaws.com" ;;
  "aws ec2 describe-instances"*) echo "${FAKE_INSTANCES-i-0aaa i-0bbb}" ;;
  "kubectl"*"jsonpath="*) printf "${FAKE_READY:-cart 2 2\\nad 1 1\\n}" ;;
esac
exit 0
"""


def repo_copy(tmp_path: Path) -> Path:
    """The scripts in a throwaway repo without cdk.json: defaults, never the user's configuration."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    for name in ("drill.sh", "ssm-tunnel.sh"):
        shutil.copy(REPO / "scripts" / name, repo / "scripts" / name)
    shutil.copytree(REPO / "scripts" / "lib", repo / "scripts" / "lib")
    return repo


def run(tmp_path: Path, script: str, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for tool in ("aws", "kubectl", "session-manager-plugin"):
        (bindir / tool).write_text(SHIM.replace("{name}", tool))
        (bindir / tool).chmod(0o755)
    full = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path), "SHIM_LOG": str(tmp_path / "calls.log"), **env}
    path = (
        repo_copy(tmp_path) / "scripts" / script
        if not (tmp_path / "repo").exists()
        else tmp_path / "repo" / "scripts" / script
    )
    return subprocess.run([BASH, str(path), *args], capture_output=True, text=True, env=full, timeout=60, check=False)


def printed(stdout: str) -> list[str]:
    return [" ".join(shlex.split(line[2:])) for line in stdout.splitlines() if line.startswith("+ ")]


# --- teardown through make ---------------------------------------------------------------------------------------


def test_the_runbook_runs_no_cdk_command_outside_the_project_venv() -> None:
    assert "npx cdk" not in RUNBOOK, "npx cdk outside the venv ends in ModuleNotFoundError: use make"
    assert "make destroy-stacks" in RUNBOOK


def test_make_destroy_stacks_is_cdk_destroy_of_every_stack_and_asks_first() -> None:
    (plan,) = [line for line in make_dry_run("destroy-stacks").splitlines() if " destroy " in line]
    assert plan.startswith("npx --no-install cdk destroy ") and " --all" in plan
    assert "--force" not in plan


# --- make drill -------------------------------------------------------------------------------------------------


def test_make_drill_is_a_dry_run_unless_told_yes() -> None:
    assert "bash scripts/drill.sh --dry-run" in make_dry_run("drill")
    assert "bash scripts/drill.sh --yes" in make_dry_run("drill", "DRILL_ARGS=--yes")


def test_drill_dry_run_prints_every_step_and_calls_nothing(tmp_path: Path) -> None:
    result = run(tmp_path, "drill.sh", ["--dry-run"])
    assert result.returncode == 0, result.stderr
    commands = printed(result.stdout)
    assert any(c.startswith("aws fis start-experiment --experiment-template-id") for c in commands)
    assert any(c.startswith("aws sqs get-queue-attributes") for c in commands)
    assert any(c.startswith("kubectl get nodeclaims -l karpenter.sh/nodepool=spot") for c in commands)
    assert any(c.startswith("kubectl -n astronomy-shop get deployments") for c in commands)
    assert calls(tmp_path) == []


def test_drill_without_yes_refuses(tmp_path: Path) -> None:
    result = run(tmp_path, "drill.sh", [])
    assert result.returncode == 2 and "without --yes" in result.stderr
    assert calls(tmp_path) == []


def test_drill_runs_exactly_what_it_prints_and_passes_when_the_shop_stays_ready(tmp_path: Path) -> None:
    result = run(tmp_path, "drill.sh", ["--yes"])
    assert result.returncode == 0, result.stderr
    assert calls(tmp_path) == printed(result.stdout)
    assert "aws fis start-experiment --experiment-template-id EXT1a2b3c --query experiment.id --output text" in calls(
        tmp_path
    )
    assert "experiment: completed" in result.stdout


def test_drill_fails_when_a_shop_deployment_is_not_ready_afterwards(tmp_path: Path) -> None:
    result = run(tmp_path, "drill.sh", ["--yes"], FAKE_READY="cart 1 2\\n")
    assert result.returncode == 1
    assert "not ready: cart (1/2)" in result.stdout
    assert result.stderr.strip().endswith("experiment completed, 1 shop Deployment(s) not ready")


def test_drill_says_how_to_enable_it_when_the_stack_has_no_template(tmp_path: Path) -> None:
    result = run(tmp_path, "drill.sh", ["--yes"], FAKE_TEMPLATE="None")
    assert result.returncode == 1
    assert "set spot_drill=true" in result.stderr
    assert not [c for c in calls(tmp_path) if c.startswith("aws fis")]


# --- make tunnel ------------------------------------------------------------------------------------------------


def test_tunnel_dry_run_calls_nothing(tmp_path: Path) -> None:
    result = run(tmp_path, "ssm-tunnel.sh", ["--dry-run"])
    assert result.returncode == 0, result.stderr
    assert printed(result.stdout)[-1].startswith("aws ssm start-session --target ")
    assert calls(tmp_path) == []
    assert "bash scripts/ssm-tunnel.sh" in make_dry_run("tunnel")


def test_tunnel_forwards_to_the_endpoint_host_through_the_first_node(tmp_path: Path) -> None:
    result = run(tmp_path, "ssm-tunnel.sh", ["--local-port", "9443"])
    assert result.returncode == 0, result.stderr
    assert calls(tmp_path) == printed(result.stdout)
    assert calls(tmp_path)[-1] == (
        "aws ssm start-session --target i-0aaa --document-name AWS-StartPortForwardingSessionToRemoteHost "
        "--parameters host=ABC123.gr7.us-east-1.eks.amazonaws.com,portNumber=443,localPortNumber=9443"
    )
    assert (
        "kubectl --server https://127.0.0.1:9443 --tls-server-name ABC123.gr7.us-east-1.eks.amazonaws.com get nodes"
        in result.stdout
    )


def test_tunnel_without_a_node_says_what_to_do(tmp_path: Path) -> None:
    result = run(tmp_path, "ssm-tunnel.sh", [], FAKE_INSTANCES="")
    assert result.returncode == 1 and "no running On-Demand Karpenter node" in result.stderr
    assert not [c for c in calls(tmp_path) if c.startswith("aws ssm")]

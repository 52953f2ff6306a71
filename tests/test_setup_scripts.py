"""setup-cluster.sh runs its six steps in order, calls nothing under --dry-run; its .ps1 twin matches."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pinned_tools import shellcheck

REPO = Path(__file__).resolve().parent.parent
BASH_SCRIPT = REPO / "scripts" / "setup-cluster.sh"
PS1_SCRIPT = REPO / "scripts" / "setup-cluster.ps1"
BASH = shutil.which("bash") or "/bin/bash"

STEP_TITLES = [
    "check prerequisites (aws kubectl node npx python3, and the pinned CDK CLI)",
    "bootstrap the CDK environment",
    "deploy every stack",
    "write the kubeconfig",
    "wait for ArgoCD application platform-root to be Healthy and Synced (timeout 1800s)",
    "show the nodes and their capacity type",
]


ARGO_JSONPATH = "'jsonpath={.status.health.status} {.status.sync.status}'"


def expected_commands(cluster: str, region: str) -> list[str]:
    ctx = f"-c cluster_name={cluster} -c region={region}"
    return [
        f"npx cdk bootstrap {ctx}",
        f"npx cdk deploy --all --require-approval never {ctx}",
        f"aws eks update-kubeconfig --name {cluster} --region {region}",
        f"kubectl -n argocd get application platform-root -o {ARGO_JSONPATH}",
        "kubectl get nodes -L karpenter.sh/capacity-type",
    ]


# Each shim appends "<name> <args>" to $SHIM_LOG; kubectl answers the ArgoCD status from $FAKE_ARGO_STATUS.
SHIM = """#!/bin/sh
echo "{name} $*" >> "$SHIM_LOG"
case "$*" in *"get application"*) echo "$FAKE_ARGO_STATUS" ;; esac
exit 0
"""


def make_bin(tmp_path: Path, tools: list[str]) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for tool in tools:
        if tool == "python3":
            (bindir / "python3").symlink_to(sys.executable)
            continue
        shim = bindir / tool
        shim.write_text(SHIM.replace("{name}", tool))
        shim.chmod(0o755)
    return bindir


def make_repo(tmp_path: Path, context: dict[str, str] | None, with_cdk_cli: bool = True) -> Path:
    """A copy of the script in a throwaway repo, so cdk.json and node_modules are under test control."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(BASH_SCRIPT, repo / "scripts" / "setup-cluster.sh")
    shutil.copytree(REPO / "scripts" / "lib", repo / "scripts" / "lib")
    if context is not None:
        (repo / "cdk.json").write_text(json.dumps({"app": "python3 app.py", "context": context}))
    if with_cdk_cli:
        cdk = repo / "node_modules" / ".bin" / "cdk"
        cdk.parent.mkdir(parents=True)
        cdk.write_text("#!/bin/sh\nexit 0\n")
        cdk.chmod(0o755)
    return repo


def run_script(
    script: Path, args: list[str], bindir: Path, tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    full_env = {"PATH": str(bindir), "HOME": str(tmp_path), "SHIM_LOG": str(tmp_path / "calls.log")}
    full_env.update(env)
    return subprocess.run(
        [BASH, str(script), *args], capture_output=True, text=True, env=full_env, timeout=30, check=False
    )


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def steps_and_commands(stdout: str) -> tuple[list[str], list[str]]:
    titles = re.findall(r"^==> Step \d/6: (.*)$", stdout, flags=re.M)
    commands = [line[2:] for line in stdout.splitlines() if line.startswith("+ ")]
    return titles, commands


ALL_TOOLS = ["aws", "kubectl", "node", "npx", "python3"]


def test_dry_run_lists_every_step_in_order_and_calls_nothing(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, {"cluster_name": "ctx-cluster", "region": "eu-west-1"})
    result = run_script(repo / "scripts" / "setup-cluster.sh", ["--dry-run"], bindir, tmp_path)
    assert result.returncode == 0, result.stderr
    titles, commands = steps_and_commands(result.stdout)
    assert titles == STEP_TITLES
    assert commands == expected_commands("ctx-cluster", "eu-west-1")
    assert "dry run done; nothing was called" in result.stdout
    assert calls(tmp_path) == [], "a dry run must not invoke aws, kubectl, npx or node"


def test_repo_script_dry_run_honours_flags_over_cdk_json(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    result = run_script(
        BASH_SCRIPT,
        ["--dry-run", "--cluster-name", "flag-cluster", "--region", "ap-south-1"],
        bindir,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert steps_and_commands(result.stdout)[1] == expected_commands("flag-cluster", "ap-south-1")
    assert calls(tmp_path) == []


def test_region_from_environment_wins_over_cdk_json_like_the_app(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, {"cluster_name": "ctx-cluster", "region": "eu-west-1"})
    script = repo / "scripts" / "setup-cluster.sh"
    result = run_script(script, ["--dry-run"], bindir, tmp_path, AWS_REGION="us-west-2")
    assert "cluster=ctx-cluster region=us-west-2" in result.stdout


def test_defaults_without_cdk_json_are_env_cluster_name_and_us_east_1(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, None)
    result = run_script(
        repo / "scripts" / "setup-cluster.sh", ["--dry-run"], bindir, tmp_path, CLUSTER_NAME="env-cluster"
    )
    assert "cluster=env-cluster region=us-east-1" in result.stdout
    plain = run_script(repo / "scripts" / "setup-cluster.sh", ["--dry-run"], bindir, tmp_path)
    assert "cluster=eks-platform region=us-east-1" in plain.stdout


def test_dry_run_reports_missing_tools_with_install_hints_and_goes_on(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ["aws", "python3"])
    repo = make_repo(tmp_path, {"cluster_name": "c", "region": "eu-west-1"}, with_cdk_cli=False)
    result = run_script(repo / "scripts" / "setup-cluster.sh", ["--dry-run"], bindir, tmp_path)
    assert result.returncode == 0
    assert "MISSING kubectl: install kubectl within one minor of the cluster (1.36 for release current" in result.stderr
    assert "MISSING node: install Node.js 20" in result.stderr
    assert "MISSING npx: it comes with npm" in result.stderr
    assert "MISSING the pinned CDK CLI (node_modules/.bin/cdk): run 'npm ci'" in result.stderr
    assert "missing prerequisites: kubectl node npx cdk-cli (dry run goes on" in result.stderr
    assert "MISSING aws" not in result.stderr
    assert steps_and_commands(result.stdout)[0] == STEP_TITLES
    assert calls(tmp_path) == []


def test_dry_run_works_with_no_tools_at_all(tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_script(BASH_SCRIPT, ["--dry-run"], empty, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "missing prerequisites: aws kubectl node npx python3" in result.stderr
    assert len(steps_and_commands(result.stdout)[1]) == 5


def test_real_run_stops_before_any_call_when_a_tool_is_missing(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ["aws", "kubectl", "npx", "python3"])
    repo = make_repo(tmp_path, {"cluster_name": "c", "region": "eu-west-1"})
    result = run_script(repo / "scripts" / "setup-cluster.sh", [], bindir, tmp_path)
    assert result.returncode == 1
    assert "setup-cluster: error: missing prerequisites: node; install them and run again" in result.stderr
    assert "Step 2/6" not in result.stdout
    assert calls(tmp_path) == []


def test_real_run_calls_exactly_the_printed_commands_in_order(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, {"cluster_name": "ctx-cluster", "region": "eu-west-1"})
    script = repo / "scripts" / "setup-cluster.sh"
    result = run_script(script, [], bindir, tmp_path, FAKE_ARGO_STATUS="Healthy Synced")
    assert result.returncode == 0, result.stderr
    # The shim logs "$*", so the jsonpath argument shows unquoted there.
    printed = [c.replace("'", "") for c in expected_commands("ctx-cluster", "eu-west-1")]
    assert calls(tmp_path) == printed
    assert "platform-root: health=Healthy sync=Synced" in result.stdout
    assert result.stdout.rstrip().endswith("setup-cluster: done")


def test_wait_for_root_app_times_out_with_a_clear_error(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, {"cluster_name": "c", "region": "eu-west-1"})
    result = run_script(
        repo / "scripts" / "setup-cluster.sh",
        ["--timeout", "0"],
        bindir,
        tmp_path,
        FAKE_ARGO_STATUS="Progressing OutOfSync",
    )
    assert result.returncode == 1
    assert "[0s/0s] platform-root: health=Progressing sync=OutOfSync" in result.stdout
    assert "error: platform-root not Healthy and Synced after 0s" in result.stderr
    assert not any(c.startswith("kubectl get nodes") for c in calls(tmp_path))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "setup-cluster: error: unknown option '--bogus' (see --help)"),
        (["--region"], "setup-cluster: error: option '--region' needs a value (see --help)"),
        (["--cluster-name", "--dry-run"], "option '--cluster-name' needs a value"),
        (["--timeout", "soon"], "option '--timeout' needs a whole number of seconds, got 'soon'"),
    ],
)
def test_bad_flag_is_one_clear_error_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    result = run_script(BASH_SCRIPT, args, bindir, tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert message in result.stderr
    assert calls(tmp_path) == []


def test_help_names_every_flag(tmp_path: Path) -> None:
    result = run_script(BASH_SCRIPT, ["--help"], make_bin(tmp_path, []), tmp_path)
    assert result.returncode == 0
    for flag in ("--dry-run", "--cluster-name NAME", "--region REGION", "--timeout SECONDS", "--help"):
        assert flag in result.stdout


@pytest.mark.parametrize(
    "script", sorted([*(REPO / "scripts").glob("*.sh"), *(REPO / "scripts" / "lib").glob("*.sh")]), ids=lambda p: p.name
)
def test_shell_scripts_are_shellcheck_clean(script: Path) -> None:
    result = shellcheck(script)
    assert result.returncode == 0, result.stdout


def test_shellcheck_flags_an_unquoted_variable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\ntarget=$1\nrm -rf $target/cache\n")
    result = shellcheck(bad)
    assert result.returncode != 0
    assert "SC2086" in result.stdout


# The PowerShell twin cannot run here (no PowerShell from Debian, PyPI or npm), so it is compared as text.


def bash_usage() -> str:
    text = BASH_SCRIPT.read_text()
    after = text.split("<<'USAGE'", 1)[1]
    return after.split("\n", 1)[1].split("\nUSAGE\n", 1)[0]


def ps1_usage() -> str:
    text = PS1_SCRIPT.read_text()
    return text.split("$Usage = @'\n", 1)[1].split("\n'@", 1)[0]


def normalise_vars(title: str) -> str:
    return re.sub(r"\$\{?[A-Za-z_]+\}?", "<var>", title)


def test_ps1_usage_text_and_flags_match_bash() -> None:
    assert ps1_usage().replace("setup-cluster.ps1", "setup-cluster.sh") == bash_usage()
    ps1 = PS1_SCRIPT.read_text()
    for flag in ("--dry-run", "--cluster-name", "--region", "--timeout", "--help", "-h"):
        assert f"'{flag}'" in ps1, f"{flag} is not parsed by the .ps1"


def test_ps1_declares_the_same_steps_in_the_same_order() -> None:
    bash_titles = re.findall(r'^step "(.*)"$', BASH_SCRIPT.read_text(), flags=re.M)
    ps1_titles = re.findall(r"^Write-Step ['\"](.*)['\"]$", PS1_SCRIPT.read_text(), flags=re.M)
    assert len(bash_titles) == 6
    assert [normalise_vars(t) for t in ps1_titles] == [normalise_vars(t) for t in bash_titles]


def test_ps1_runs_the_same_commands_in_the_same_order() -> None:
    ps1 = PS1_SCRIPT.read_text()
    arrays = [
        " ".join(re.findall(r"'([^']*)'", body))
        for body in re.findall(r"@\(('[^)]*)\)", ps1)
        if body.startswith(("'npx', 'cdk'", "'aws', 'eks'", "'kubectl', "))
    ]
    # The literal words of each command; the cluster name, region and namespace are variables in both scripts.
    prefixes = [
        "npx cdk bootstrap",
        "npx cdk deploy --all --require-approval never",
        "aws eks update-kubeconfig --name",
        "kubectl -n",
        "kubectl get nodes -L karpenter.sh/capacity-type",
    ]
    assert len(arrays) == len(prefixes), arrays
    for array, prefix in zip(arrays, prefixes, strict=True):
        assert array.startswith(prefix), (array, prefix)
    assert "jsonpath={.status.health.status} {.status.sync.status}" in ps1
    assert "$RootApp = 'platform-root'" in ps1 and "$RootAppNamespace = 'argocd'" in ps1


def test_ps1_has_the_same_hints_and_errors_as_bash() -> None:
    # The bash side is the script plus the helpers it sources (install hints, usage errors, prerequisites).
    bash = BASH_SCRIPT.read_text() + (REPO / "scripts" / "lib" / "common.sh").read_text()
    ps1 = PS1_SCRIPT.read_text()
    hints = re.findall(r'^    \w+\) echo "(.*)" ;;$', bash, flags=re.M)
    assert len(hints) == 5
    for hint in hints:
        assert hint in ps1, hint
    for fragment in (
        "needs a value",
        "unknown option '",
        "missing prerequisites: ",
        "(dry run goes on; a real run stops here)",
        "not Healthy and Synced after ",
        "dry run done; nothing was called",
        "exit 2",
    ):
        assert fragment in bash and fragment in ps1, fragment
    assert "foreach ($tool in @('aws', 'kubectl', 'node', 'npx', 'python3'))" in ps1
    assert "for tool in aws kubectl node npx python3; do" in bash


def test_setup_scripts_hold_no_secrets() -> None:
    for script in (BASH_SCRIPT, PS1_SCRIPT):
        text = script.read_text()
        assert not re.search(r"AKIA[0-9A-Z]{16}|aws_secret_access_key|BEGIN [A-Z ]*PRIVATE KEY", text)
        assert os.access(BASH_SCRIPT, os.X_OK)

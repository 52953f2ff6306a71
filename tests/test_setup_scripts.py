"""setup-cluster.sh runs its nine steps in order, checks credentials, account and config first, calls nothing
under --dry-run, surfaces kubectl errors and ends with the Outputs; its .ps1 twin matches."""

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
from tests.test_pre_commit import tree_files

REPO = Path(__file__).resolve().parent.parent
BASH_SCRIPT = REPO / "scripts" / "setup-cluster.sh"
PS1_SCRIPT = REPO / "scripts" / "setup-cluster.ps1"
BASH = shutil.which("bash") or "/bin/bash"

STEP_TITLES = [
    "check prerequisites (aws kubectl node npx python3 make)",
    "prepare the project environment (make deps: .venv and the pinned CDK CLI)",
    "check AWS credentials, region and target account",
    "check the configuration (a Kubernetes version EKS still creates, admin access)",
    "bootstrap the CDK environment",
    "deploy every stack",
    "write the kubeconfig",
    "wait for ArgoCD application platform-root to be Healthy and Synced (timeout 1800s)",
    "show the nodes and their capacity type",
]


ARGO_JSONPATH = "'jsonpath={.status.health.status} {.status.sync.status}'"


IDENTITY = "aws sts get-caller-identity --query '[Account,Arn]' --output text"


def expected_commands(cluster: str, region: str, repo: Path, account: str = "'aws://<account>/") -> list[str]:
    ctx = f"-c cluster_name={cluster} -c region={region}"
    target = f"{account}{region}'" if account.startswith("'") else f"aws://{account}/{region}"
    return [
        f"make -C {repo} deps",
        IDENTITY,
        f"{repo}/.venv/bin/python scripts/preflight.py --script {ctx}",
        f"npx cdk bootstrap {target} {ctx}",
        f"npx cdk deploy --all --require-approval broadening --outputs-file cdk.out/outputs.json {ctx}",
        f"aws eks update-kubeconfig --name {cluster} --region {region}",
        f"kubectl -n argocd get application platform-root -o {ARGO_JSONPATH}",
        "kubectl get nodes -L karpenter.sh/capacity-type",
    ]


# Each shim appends "<name> <args>" to $SHIM_LOG and answers from FAKE_* variables: aws the caller identity
# (or FAKE_AWS_ERROR), kubectl the ArgoCD status (or FAKE_KUBECTL_ERROR), make its exit code, npx the Outputs.
SHIM = """#!/bin/sh
echo "{name} $*" >> "$SHIM_LOG"
case "{name} $*" in
  "aws sts get-caller-identity"*)
    if [ -n "$FAKE_AWS_ERROR" ]; then echo "$FAKE_AWS_ERROR" >&2; exit 255; fi
    printf '%s\\t%s\\n' "${FAKE_ACCOUNT:-123456789012}" \\
      "${FAKE_ARN:-arn:aws:sts::123456789012:assumed-role/Admin/me}" ;;
  "kubectl"*"get application"*)
    if [ -n "$FAKE_KUBECTL_ERROR" ]; then echo "$FAKE_KUBECTL_ERROR" >&2; exit 1; fi
    echo "$FAKE_ARGO_STATUS" ;;
  "make"*) exit "${FAKE_MAKE_RC:-0}" ;;
  "npx"*"--outputs-file"*) echo "${FAKE_OUTPUTS:-{\\}}" > cdk.out/outputs.json ;;
esac
exit 0
"""
# The venv's python: preflight.py answers FAKE_PREFLIGHT (exit FAKE_PREFLIGHT_RC); anything else is real python.
VENV_PYTHON = """#!/bin/sh
case "$1" in
  scripts/preflight.py) echo "python $*" >> "$SHIM_LOG"; printf '%s\\n' "${FAKE_PREFLIGHT:-admin_principals=1}";
    exit "${FAKE_PREFLIGHT_RC:-0}" ;;
esac
exec {python} "$@"
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


def make_repo(
    tmp_path: Path, context: dict[str, object] | None, with_venv: bool = True, real_preflight: bool = False
) -> Path:
    """A copy of the script in a throwaway repo, so cdk.json and node_modules are under test control; with
    real_preflight the repo also holds the real scripts/preflight.py and platform_config (run by python3)."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(BASH_SCRIPT, repo / "scripts" / "setup-cluster.sh")
    shutil.copytree(REPO / "scripts" / "lib", repo / "scripts" / "lib")
    if real_preflight:
        shutil.copy(REPO / "scripts" / "preflight.py", repo / "scripts" / "preflight.py")
        shutil.copytree(
            REPO / "platform_config", repo / "platform_config", ignore=shutil.ignore_patterns("__pycache__")
        )
        # The config reads pinned upstream facts through platform_checks (its own path resolves to this repo's).
        (repo / "platform_checks").symlink_to(REPO / "platform_checks")
    if context is not None:
        (repo / "cdk.json").write_text(json.dumps({"app": "python3 app.py", "context": context}))
    (repo / "cdk.out").mkdir()
    if with_venv:
        python = repo / ".venv" / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text(VENV_PYTHON.replace("{python}", sys.executable))
        python.chmod(0o755)
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
    titles = re.findall(r"^==> Step \d/9: (.*)$", stdout, flags=re.M)
    commands = [line[2:] for line in stdout.splitlines() if line.startswith("+ ")]
    return titles, commands


ALL_TOOLS = ["aws", "kubectl", "node", "npx", "python3", "make"]


def test_dry_run_lists_every_step_in_order_and_calls_nothing(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, {"cluster_name": "ctx-cluster", "region": "eu-west-1"})
    result = run_script(repo / "scripts" / "setup-cluster.sh", ["--dry-run"], bindir, tmp_path)
    assert result.returncode == 0, result.stderr
    titles, commands = steps_and_commands(result.stdout)
    assert titles == STEP_TITLES
    assert commands == expected_commands("ctx-cluster", "eu-west-1", repo)
    assert "dry run done; nothing that needs AWS was called" in result.stdout
    # The preflight needs no AWS: a dry run runs it, offline; aws, kubectl, npx and node are never called.
    ctx = "-c cluster_name=ctx-cluster -c region=eu-west-1"
    assert calls(tmp_path) == [f"python scripts/preflight.py --script {ctx} --offline"]


def test_dry_run_honours_flags_over_cdk_json(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, {"cluster_name": "ctx-cluster", "region": "eu-west-1"})
    result = run_script(
        repo / "scripts" / "setup-cluster.sh",
        ["--dry-run", "--cluster-name", "flag-cluster", "--region", "ap-south-1"],
        bindir,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert steps_and_commands(result.stdout)[1] == expected_commands("flag-cluster", "ap-south-1", repo)
    assert not [c for c in calls(tmp_path) if not c.startswith("python scripts/preflight.py")]


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_an_environment_region_other_than_the_configured_one_stops_before_anything(
    tmp_path: Path, variable: str
) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, {"cluster_name": "ctx-cluster", "region": "eu-west-1"})
    script = repo / "scripts" / "setup-cluster.sh"
    result = run_script(script, ["--dry-run"], bindir, tmp_path, **{variable: "us-east-1"})
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"setup-cluster: error: your environment sets {variable}=us-east-1 but the configured")
    assert "region is eu-west-1" in line and "--region us-east-1" in line
    assert "Step 1/9" not in result.stdout
    agreeing = run_script(script, ["--dry-run"], bindir, tmp_path, **{variable: "eu-west-1"})
    assert agreeing.returncode == 0, agreeing.stderr
    assert "cluster=ctx-cluster region=eu-west-1" in agreeing.stdout


def test_dry_run_prints_the_configured_target_account_admins_and_stacks(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    admin = "arn:aws:iam::123456789012:role/platform-admins"
    context = {
        "cluster_name": "acme-prod",
        "region": "eu-west-1",
        "availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        "account": "123456789012",
        "admin_principal_arns": [admin],
    }
    repo = make_repo(tmp_path, context, with_venv=False, real_preflight=True)
    result = run_script(repo / "scripts" / "setup-cluster.sh", ["--dry-run"], bindir, tmp_path, AWS_PROFILE="acme")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "    target account: 123456789012\n" in out
    assert "target: account 123456789012, region eu-west-1, AWS profile acme (AWS_PROFILE)" in out
    assert "stacks: acme-prod-Network, acme-prod-Cluster, acme-prod-Karpenter, acme-prod-Addons" in out
    assert "access: 1 admin principal, 0 viewer principals" in out
    assert "admin_principal_arns is empty" not in out and "no admin_principal_arns" not in out
    assert "+ npx cdk bootstrap aws://123456789012/eu-west-1 " in out
    assert out.index("target: account") < out.index("Step 5/9")


def test_dry_run_refuses_a_bad_configuration_like_a_real_run(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    context = {"region": "eu-west-1", "availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-2c"]}
    repo = make_repo(tmp_path, context, with_venv=False, real_preflight=True)
    result = run_script(repo / "scripts" / "setup-cluster.sh", ["--dry-run"], bindir, tmp_path)
    assert result.returncode == 1
    assert "config key 'availability_zones' = 'eu-west-2c'" in result.stderr
    assert "the configuration cannot be deployed" in result.stderr


def test_dry_run_with_no_admins_says_what_a_real_run_will_offer(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, {"cluster_name": "c", "region": "us-east-1"}, with_venv=False, real_preflight=True)
    result = run_script(repo / "scripts" / "setup-cluster.sh", ["--dry-run"], bindir, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "admin_principal_arns is empty: a real run offers the deploying principal" in result.stdout


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
    repo = make_repo(tmp_path, {"cluster_name": "c", "region": "us-east-1"}, with_venv=False, real_preflight=True)
    result = run_script(repo / "scripts" / "setup-cluster.sh", ["--dry-run"], bindir, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "MISSING kubectl: install kubectl within one minor of the cluster (1.36 for release current" in result.stderr
    assert "MISSING node: install Node.js 22 LTS" in result.stderr
    assert "MISSING npx: it comes with npm" in result.stderr
    assert "MISSING make: install GNU make" in result.stderr
    assert "missing prerequisites: kubectl node npx make (dry run goes on" in result.stderr
    assert "MISSING aws" not in result.stderr
    assert steps_and_commands(result.stdout)[0] == STEP_TITLES
    assert calls(tmp_path) == []


def test_dry_run_works_with_no_tools_at_all(tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    repo = make_repo(tmp_path, {"cluster_name": "c", "region": "eu-west-1"}, with_venv=False)
    result = run_script(repo / "scripts" / "setup-cluster.sh", ["--dry-run"], empty, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "missing prerequisites: aws kubectl node npx python3 make" in result.stderr
    assert len(steps_and_commands(result.stdout)[1]) == 8


def test_real_run_stops_before_any_call_when_a_tool_is_missing(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ["aws", "kubectl", "npx", "python3", "make"])
    repo = make_repo(tmp_path, {"cluster_name": "c", "region": "eu-west-1"})
    result = run_script(repo / "scripts" / "setup-cluster.sh", [], bindir, tmp_path)
    assert result.returncode == 1
    assert "setup-cluster: error: missing prerequisites: node; install them and run again" in result.stderr
    assert "Step 2/9" not in result.stdout
    assert calls(tmp_path) == []


def test_real_run_calls_exactly_the_printed_commands_in_order(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, {"cluster_name": "ctx-cluster", "region": "eu-west-1"})
    script = repo / "scripts" / "setup-cluster.sh"
    result = run_script(script, [], bindir, tmp_path, FAKE_ARGO_STATUS="Healthy Synced")
    assert result.returncode == 0, result.stderr
    # The shim logs "$*", so the jsonpath argument shows unquoted there.
    printed = [c.replace("'", "") for c in expected_commands("ctx-cluster", "eu-west-1", repo, "123456789012")]
    # The venv's python shim logs itself as "python"; its path is printed in full.
    assert [c.replace(f"{repo}/.venv/bin/", "") for c in printed] == calls(tmp_path)
    assert "platform-root: health=Healthy sync=Synced" in result.stdout
    assert result.stdout.rstrip().endswith("setup-cluster: done")


def run_real(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A real run (no --dry-run) against shims, in a throwaway repo whose cdk.json names the placeholder account."""
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, {"cluster_name": "c", "region": "eu-west-1", "account": "111111111111"})
    env = {"FAKE_ARGO_STATUS": "Healthy Synced", **env}
    return run_script(repo / "scripts" / "setup-cluster.sh", list(args), bindir, tmp_path, **env)


def test_credentials_region_and_account_are_one_line_each_before_anything_is_deployed(tmp_path: Path) -> None:
    result = run_real(tmp_path, FAKE_ACCOUNT="222233334444", FAKE_ARN="arn:aws:iam::222233334444:user/ana")
    assert result.returncode == 0, result.stderr
    for line in (
        "credentials: arn:aws:iam::222233334444:user/ana",
        "region: eu-west-1",
        "target account: 222233334444",
    ):
        assert f"    {line}\n" in result.stdout
    assert "npx cdk bootstrap aws://222233334444/eu-west-1" in "\n".join(calls(tmp_path))


def test_no_credentials_stop_with_one_clear_line_before_cdk(tmp_path: Path) -> None:
    result = run_real(tmp_path, FAKE_AWS_ERROR="Unable to locate credentials. You can configure credentials by running")
    assert result.returncode == 1
    assert "setup-cluster: error: no usable AWS credentials: Unable to locate credentials." in result.stderr
    assert "aws sso login" in result.stderr
    assert not any(c.startswith(("npx", "python")) for c in calls(tmp_path))


def test_credentials_for_another_account_than_cdk_json_stop(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, {"cluster_name": "c", "region": "eu-west-1", "account": "999988887777"})
    result = run_script(repo / "scripts" / "setup-cluster.sh", [], bindir, tmp_path, FAKE_ACCOUNT="123456789012")
    assert result.returncode == 1
    assert "cdk.json sets account 999988887777 but your credentials are for 123456789012" in result.stderr
    assert not any(c.startswith("npx") for c in calls(tmp_path))


def test_no_venv_stops_after_make_deps_fails(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    repo = make_repo(tmp_path, {"cluster_name": "c", "region": "eu-west-1"}, with_venv=False)
    result = run_script(repo / "scripts" / "setup-cluster.sh", [], bindir, tmp_path, FAKE_MAKE_RC="0")
    assert result.returncode == 1
    assert "make deps did not create" in result.stderr and ".venv/bin/python" in result.stderr
    failed = run_script(repo / "scripts" / "setup-cluster.sh", [], bindir, tmp_path, FAKE_MAKE_RC="2")
    assert failed.returncode == 2
    assert calls(tmp_path)[-1] == f"make -C {repo} deps"


def test_a_profile_eks_no_longer_creates_is_refused_before_cdk(tmp_path: Path) -> None:
    result = run_real(
        tmp_path, FAKE_PREFLIGHT="error: Kubernetes 1.29 left EKS extended support", FAKE_PREFLIGHT_RC="1"
    )
    assert result.returncode == 1
    assert "the configuration cannot be deployed" in result.stderr
    assert not any(c.startswith("npx") for c in calls(tmp_path))


def test_no_admin_principals_adds_the_deploying_role_with_add_me(tmp_path: Path) -> None:
    result = run_real(tmp_path, "--add-me", FAKE_PREFLIGHT="admin_principals=0")
    assert result.returncode == 0, result.stderr
    assert "nobody would be able to use kubectl" in result.stdout
    deploy = next(c for c in calls(tmp_path) if c.startswith("npx cdk deploy"))
    assert deploy.endswith("-c admin_principal_arns=arn:aws:iam::123456789012:role/Admin")


def test_an_iam_user_is_told_that_admin_access_needs_a_role_before_anything_is_deployed(tmp_path: Path) -> None:
    result = run_real(
        tmp_path, "--add-me", FAKE_PREFLIGHT="admin_principals=0", FAKE_ARN="arn:aws:iam::123456789012:user/ana"
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "setup-cluster: error: cannot derive an IAM role from arn:aws:iam::123456789012:user/ana; admin access "
        "entries accept IAM roles only: deploy through a role (aws sso login, or assume one) or set "
        "admin_principal_arns to a role ARN"
    )
    assert not any(c.startswith("npx") for c in calls(tmp_path))


def test_no_admin_principals_without_a_terminal_or_add_me_stops(tmp_path: Path) -> None:
    result = run_real(tmp_path, FAKE_PREFLIGHT="admin_principals=0")
    assert result.returncode == 1
    assert "no admin principal; set admin_principal_arns in cdk.json or run with --add-me" in result.stderr
    assert not any(c.startswith("npx") for c in calls(tmp_path))


@pytest.mark.parametrize(
    ("error", "message", "hint"),
    [
        ("error: You must be logged in to the server (Unauthorized)", "kubectl was refused", "admin_principal_arns"),
        ("Unable to connect to the server: dial tcp 10.0.1.5:443: i/o timeout", "unreachable", "Private endpoint"),
    ],
)
def test_kubectl_errors_are_shown_with_what_to_do(tmp_path: Path, error: str, message: str, hint: str) -> None:
    result = run_real(tmp_path, FAKE_KUBECTL_ERROR=error)
    assert result.returncode == 1
    assert f"{message}: {error}" in result.stderr
    assert hint in result.stderr


def test_final_message_prints_the_stack_outputs(tmp_path: Path) -> None:
    outputs = {
        "c-Cluster": {"UpdateKubeconfigCommand": "aws eks update-kubeconfig --name c --region eu-west-1"},
        "c-Addons": {"ArgoCdPortForward": "kubectl -n argocd port-forward svc/argocd-server 8080:443"},
    }
    result = run_real(tmp_path, FAKE_OUTPUTS=json.dumps(outputs))
    assert result.returncode == 0, result.stderr
    tail = result.stdout.split("How to reach the cluster", 1)[1]
    assert "    UpdateKubeconfigCommand: aws eks update-kubeconfig --name c --region eu-west-1" in tail
    assert "    ArgoCdPortForward: kubectl -n argocd port-forward svc/argocd-server 8080:443" in tail


@pytest.mark.parametrize(
    ("caller", "principal"),
    [
        ("arn:aws:sts::123456789012:assumed-role/Admin/me@example.com", "arn:aws:iam::123456789012:role/Admin"),
        ("arn:aws:iam::123456789012:role/ops/Deployer", "arn:aws:iam::123456789012:role/ops/Deployer"),
        ("arn:aws-cn:sts::123456789012:assumed-role/Admin/s", "arn:aws-cn:iam::123456789012:role/Admin"),
        # Admin access entries accept roles only (config refuses users): an IAM user gets no offer.
        ("arn:aws:iam::123456789012:user/ana", ""),
        ("arn:aws:iam::123456789012:root", ""),
    ],
)
def test_iam_principal_of_a_caller(caller: str, principal: str) -> None:
    script = f'source {REPO}/scripts/lib/common.sh; iam_principal "$1"'
    result = subprocess.run([BASH, "-c", script, "x", caller], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == principal


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
    # The elapsed seconds depend on the machine's load; the timeout is what matters.
    assert re.search(r"\[\d+s/0s\] platform-root: health=Progressing sync=OutOfSync", result.stdout)
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


def tracked_shell_scripts() -> list[Path]:
    """What a commit of the tree would hold (tracked files and new ones git does not ignore): its shell scripts."""
    return sorted(REPO / name for name in tree_files() if name.endswith(".sh"))


# Every shell script of the repository (operator scripts, their library, the set-up script, jsii's Node script).
@pytest.mark.parametrize("script", tracked_shell_scripts(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_shell_script_is_shellcheck_clean(script: Path) -> None:
    result = shellcheck(script)
    assert result.returncode == 0, result.stdout


def test_the_shellcheck_listing_holds_every_script_of_the_tree() -> None:
    on_disk = {p for p in REPO.glob("**/*.sh") if not ({".venv", "node_modules", ".tools", "cdk.out"} & set(p.parts))}
    assert on_disk and on_disk <= set(tracked_shell_scripts())


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
    for flag in ("--dry-run", "--add-me", "--cluster-name", "--region", "--timeout", "--help", "-h"):
        assert f"'{flag}'" in ps1, f"{flag} is not parsed by the .ps1"


def test_ps1_declares_the_same_steps_in_the_same_order() -> None:
    bash_titles = re.findall(r'^step "(.*)"$', BASH_SCRIPT.read_text(), flags=re.M)
    ps1_titles = re.findall(r"^Write-Step ['\"](.*)['\"]$", PS1_SCRIPT.read_text(), flags=re.M)
    assert len(bash_titles) == 9
    assert [normalise_vars(t) for t in ps1_titles] == [normalise_vars(t) for t in bash_titles]


def test_ps1_runs_the_same_commands_in_the_same_order() -> None:
    ps1 = PS1_SCRIPT.read_text()
    arrays = [
        " ".join(re.findall(r"'([^']*)'", body))
        for body in re.findall(r"@\(('[^)]*)\)", ps1)
        if body.startswith(("'make', ", "'aws', 'sts'", "'aws', 'eks'", "'npx', 'cdk'", "'kubectl', "))
    ]
    # The literal words of each command; the cluster name, region and namespace are variables in both scripts.
    prefixes = [
        "make -C deps",
        "aws sts get-caller-identity --query [Account,Arn] --output text",
        "npx cdk bootstrap",
        "npx cdk deploy --all --require-approval broadening --outputs-file",
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
    assert len(hints) == 6
    for hint in hints:
        assert hint in ps1, hint
    for fragment in (
        "needs a value",
        "unknown option '",
        "missing prerequisites: ",
        "(dry run goes on; a real run stops here)",
        "not Healthy and Synced after ",
        "dry run done; nothing that needs AWS was called",
        "the configuration decides the region, so both must agree",
        "exit 2",
        "no usable AWS credentials: ",
        "but your credentials are for ",
        "the configuration cannot be deployed",
        "nobody would be able to use kubectl",
        "no admin principal; set admin_principal_arns in cdk.json or run with --add-me",
        "cannot derive an IAM role from ",
        "deploy through a role (aws sso login, or assume one) or set admin_principal_arns to a role ARN",
        "kubectl was refused: ",
        "the cluster API endpoint is unreachable: ",
        "make deps did not create ",
    ):
        assert fragment in bash and fragment in ps1, fragment
    assert "foreach ($tool in @('aws', 'kubectl', 'node', 'npx', 'python3', 'make'))" in ps1
    assert "check_prerequisites aws kubectl node npx python3 make\n" in bash


def test_setup_scripts_hold_no_secrets() -> None:
    for script in (BASH_SCRIPT, PS1_SCRIPT):
        text = script.read_text()
        assert not re.search(r"AKIA[0-9A-Z]{16}|aws_secret_access_key|BEGIN [A-Z ]*PRIVATE KEY", text)
        assert os.access(BASH_SCRIPT, os.X_OK)


def test_scripts_silence_the_jsii_node_banner_and_run_cdk_with_the_venv() -> None:
    common = (REPO / "scripts" / "lib" / "common.sh").read_text()
    prepare = common.split("prepare_environment() {", 1)[1].split("\n}\n", 1)[0]
    assert 'export PATH="$repo_root/.venv/bin:$PATH"' in prepare
    assert "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20" in prepare
    destroy = (REPO / "scripts" / "destroy.sh").read_text()
    assert "\nprepare_environment\n" in destroy
    ps1 = PS1_SCRIPT.read_text()
    assert "$env:JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION = '20'" in ps1
    assert '$env:PATH = "$VenvBin$([IO.Path]::PathSeparator)$env:PATH"' in ps1

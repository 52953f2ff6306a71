"""Workflows pass actionlint, least privilege; ci-diff.sh diffs offline; the runbook names real things."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_config import yaml_load
from tests.pinned_tools import tool_binary

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
CI_DIFF = REPO / "scripts" / "ci-diff.sh"
RUNBOOK = REPO / "docs" / "runbook.md"
BASH = shutil.which("bash") or "/bin/bash"


def actionlint(cwd: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    # -shellcheck: lint every `run:` script too, with the pinned shellcheck rather than whatever is on PATH.
    cmd = [tool_binary("actionlint"), "-no-color", "-shellcheck", tool_binary("shellcheck"), *map(str, files)]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


# zizmor's severities: a finding at medium or high fails; low and informational ones are left to review.
ZIZMOR_FAILS_FROM = "medium"


def zizmor(*paths: Path) -> list[dict[str, Any]]:
    """zizmor's findings at ZIZMOR_FAILS_FROM or above (offline: no GitHub API, so no online-only audits)."""
    cmd = [tool_binary("zizmor"), "--offline", "--no-progress", "--format=json", f"--min-severity={ZIZMOR_FAILS_FROM}"]
    result = subprocess.run([*cmd, *map(str, paths)], capture_output=True, text=True, timeout=120, check=False)
    assert result.stdout.strip(), f"zizmor printed no report (exit {result.returncode}): {result.stderr[-2000:]}"
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def load(path: Path) -> dict[str, Any]:
    doc = yaml_load.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as boolean True.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith(action + "@")]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in steps(job))


# Each action at one commit, with the release tag it was at (read from the action's own repository at
# that tag: `git rev-parse <tag>^{commit}`). A tag can be moved; a commit cannot.
ACTION_PINS = {
    "actions/checkout": ("11d5960a326750d5838078e36cf38b85af677262", "v4.4.0"),
    "actions/setup-python": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "actions/setup-node": ("49933ea5288caeca8642d1e84afbd3f7d6820020", "v4.4.0"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
    "aws-actions/configure-aws-credentials": ("7474bc4690e29a8392af63c5b98e7449536d5c3a", "v4.3.1"),
}


def unpinned_actions(text: str) -> list[str]:
    """`uses:` lines not pinned to a reviewed commit SHA with its version comment (`@<sha> # vX.Y.Z`)."""
    out = []
    for line in re.findall(r"uses:\s*(.+)", text):
        match = re.fullmatch(r"([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)", line.strip())
        if not match or ACTION_PINS.get(match[1]) != (match[2], match[3]):
            out.append(line.strip())
    return out


def stored_aws_keys(text: str) -> list[str]:
    """Static AWS credentials in a workflow: the OIDC role must be the only way in."""
    keys = r"aws-access-key-id|aws-secret-access-key|aws-session-token|AWS_SECRET_ACCESS_KEY"
    return re.findall(keys, text)


# actionlint


def test_actionlint_accepts_both_workflows() -> None:
    result = actionlint(REPO, CI, DEPLOY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    needs: missing-job\n"
        "    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    result = actionlint(tmp_path, bad)
    assert result.returncode == 1
    assert 'needs job "missing-job" which does not exist' in result.stdout
    assert '"github.event.pull_request.title" is potentially untrusted' in result.stdout


# Both workflows


@pytest.mark.parametrize("path", [CI, DEPLOY], ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_sha_with_the_version_comment(path: Path) -> None:
    assert unpinned_actions(path.read_text()) == []


def test_unpinned_action_detector_catches_tags_branches_and_unreviewed_shas() -> None:
    sha, tag = ACTION_PINS["actions/checkout"]
    text = (
        "- uses: actions/checkout@main\n- uses: actions/setup-node\n- uses: actions/cache@v4\n"
        f"- uses: actions/checkout@{sha} # {tag}\n- uses: actions/checkout@{'0' * 40} # {tag}\n"
        f"- uses: actions/checkout@{sha}\n"
    )
    assert unpinned_actions(text) == [
        "actions/checkout@main",
        "actions/setup-node",
        "actions/cache@v4",
        f"actions/checkout@{'0' * 40} # {tag}",
        f"actions/checkout@{sha}",
    ]


@pytest.mark.parametrize("path", [CI, DEPLOY], ids=lambda p: p.name)
def test_no_stored_aws_keys_or_secrets(path: Path) -> None:
    text = path.read_text()
    assert stored_aws_keys(text) == []
    assert re.search(r"secrets\.[A-Za-z_]", text) is None, "no repository secret is needed"


def test_stored_key_detector_catches_static_credentials() -> None:
    text = "with:\n  aws-access-key-id: ${{ secrets.K }}\n  aws-secret-access-key: ${{ secrets.S }}\n"
    assert stored_aws_keys(text) == ["aws-access-key-id", "aws-secret-access-key"]


@pytest.mark.parametrize("path", [CI, DEPLOY], ids=lambda p: p.name)
def test_setup_python_311_and_node_20_with_caches(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        for step in uses(job, "actions/setup-python"):
            assert step["with"] == {
                "python-version": "3.11",
                "cache": "pip",
                "cache-dependency-path": "requirements*.txt",
            }, name
        for step in uses(job, "actions/setup-node"):
            assert step["with"] == {"node-version": "22", "cache": "npm"}, name


# ci.yml


def test_ci_runs_on_pull_requests_and_pushes_to_main() -> None:
    on = load(CI)["on"]
    assert "pull_request" in on
    assert on["push"] == {"branches": ["main"]}


def test_ci_token_is_read_only() -> None:
    doc = load(CI)
    assert doc["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in doc["jobs"].values()), "no job may widen the token"


def test_ci_cancels_superseded_pull_request_runs_only() -> None:
    concurrency = load(CI)["concurrency"]
    assert "github.event.pull_request.number" in concurrency["group"]
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_ci_tests_synthesizes_and_uploads_cdk_out() -> None:
    job = load(CI)["jobs"]["test-and-synth"]
    checkout = uses(job, "actions/checkout")[0]
    # A bare 0 would be falsy in `cond && 0 || 1`, which then always yields 1.
    assert checkout["with"]["fetch-depth"] == "${{ github.event_name == 'pull_request' && '0' || '1' }}"
    commands = [s.get("run") for s in steps(job) if "run" in s]
    assert commands == ["make test", "make synth"]
    upload = uses(job, "actions/upload-artifact")[0]
    assert upload["with"]["name"] == "cdk-out" and upload["with"]["path"] == "cdk.out"
    assert upload["with"]["if-no-files-found"] == "error"


def test_pr_diff_job_synthesizes_the_base_and_writes_the_step_summary() -> None:
    job = load(CI)["jobs"]["infra-diff"]
    assert job["if"] == "github.event_name == 'pull_request'"
    assert job["needs"] == "test-and-synth"
    assert uses(job, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    assert uses(job, "actions/download-artifact")[0]["with"] == {"name": "cdk-out", "path": "cdk.out"}
    script = runs(job)
    assert 'git worktree add --detach "$base_dir" "$BASE_SHA"' in script
    assert 'make -C "$base_dir" synth' in script
    diff_call = 'scripts/ci-diff.sh --full "$RUNNER_TEMP/cdk-diff.txt" "$RUNNER_TEMP/base/cdk.out" cdk.out'
    assert diff_call in script
    assert 'tee -a "$GITHUB_STEP_SUMMARY"' in script
    base_step = next(s for s in steps(job) if "git worktree" in str(s.get("run")))
    assert base_step["env"] == {"BASE_SHA": "${{ github.event.pull_request.base.sha }}"}
    # No AWS credentials in CI at all: the PR diff must stay offline.
    assert not uses(job, "aws-actions/configure-aws-credentials")


# deploy.yml


def test_deploy_runs_on_push_to_main_and_by_hand() -> None:
    on = load(DEPLOY)["on"]
    assert on["push"] == {"branches": ["main"]}
    assert "workflow_dispatch" in on


def test_deploy_token_reads_and_only_the_jobs_that_assume_a_role_mint_oidc() -> None:
    doc = load(DEPLOY)
    assert doc["permissions"] == {"contents": "read"}
    jobs = doc["jobs"]
    assert all("permissions" in job for job in jobs.values()), "every job states its token"
    minting = {name for name, job in jobs.items() if job["permissions"].get("id-token") == "write"}
    assuming = {name for name, job in jobs.items() if uses(job, "aws-actions/configure-aws-credentials")}
    assert minting == assuming == {"diff", "deploy"}
    for name in minting:
        assert jobs[name]["permissions"] == {"id-token": "write", "contents": "read"}
    # The guard reads the environment's protection rules (no OIDC there).
    assert jobs["guard"]["permissions"] == {"actions": "read", "contents": "read"}


def test_deploys_never_overlap_nor_cancel_each_other() -> None:
    assert load(DEPLOY)["concurrency"] == {"group": "deploy-production", "cancel-in-progress": False}


def test_diff_assumes_the_read_only_role_and_only_the_gated_job_the_deploy_role() -> None:
    jobs = load(DEPLOY)["jobs"]
    roles = {}
    for name in ("diff", "deploy"):
        creds = uses(jobs[name], "aws-actions/configure-aws-credentials")
        assert len(creds) == 1, name
        assert creds[0]["with"]["aws-region"] == "${{ vars.AWS_REGION }}"
        roles[name] = creds[0]["with"]["role-to-assume"]
    assert roles == {"diff": "${{ vars.AWS_DIFF_ROLE_ARN }}", "deploy": "${{ vars.AWS_DEPLOY_ROLE_ARN }}"}
    # The guard only checks that the variable is set; no other job assumes the deploy role.
    gated = [n for n, job in jobs.items() if any("AWS_DEPLOY_ROLE_ARN" in str(s.get("with", "")) for s in steps(job))]
    assert gated == ["deploy"] and jobs["deploy"]["environment"] == "production"
    # A template diff reads deployed templates only: no change set, so the read-only role suffices.
    assert "make diff DIFF_FLAGS=--method=template" in runs(jobs["diff"])


def test_deploy_needs_the_diff_and_runs_in_the_production_environment() -> None:
    jobs = load(DEPLOY)["jobs"]
    assert "make diff" in runs(jobs["diff"])
    assert "environment" not in jobs["diff"]
    assert jobs["deploy"]["needs"] == ["guard", "diff"]
    assert jobs["deploy"]["environment"] == "production"
    # Unattended after the reviewed diff: CI passes the approval flag explicitly (make deploy asks by default).
    deploy_runs = [s["run"] for s in steps(jobs["deploy"]) if "run" in s]
    assert deploy_runs[-1:] == ['make deploy DEPLOY_FLAGS="--require-approval never"']
    installs = deploy_runs[:-1]  # the locked install, before it
    assert installs and all(r.startswith("python -m venv .venv") for r in installs)


def test_deploy_diff_is_published_to_the_step_summary() -> None:
    script = runs(load(DEPLOY)["jobs"]["diff"])
    assert "set -o pipefail" in script and "make diff DIFF_FLAGS=--method=template 2>&1 | tee" in script
    assert '>>"$GITHUB_STEP_SUMMARY"' in script


# scripts/ci-diff.sh, with a fake `npx` that records its arguments and prints a canned diff.

FAKE_NPX = """#!/bin/sh
echo "$*" >> "$NPX_LOG"
for last; do :; done
echo "Stack $last"
if [ "$last" = "$FAIL_STACK" ]; then echo "boom" >&2; exit 1; fi
i=0; while [ $i -lt "${DIFF_LINES:-2}" ]; do echo "[~] line $i"; i=$((i+1)); done
"""


def assembly(root: Path, stacks: list[str]) -> Path:
    root.mkdir(parents=True)
    artifacts: dict[str, Any] = {"Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}
    for name in stacks:
        template = f"{name}.template.json"
        (root / template).write_text("{}")
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "displayName": name,
            "properties": {"templateFile": template},
        }
        artifacts[f"{name}.assets"] = {"type": "cdk:asset-manifest", "properties": {"file": "x"}}
    (root / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": artifacts}))
    return root


def ci_diff(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    npx = bindir / "npx"
    npx.write_text(FAKE_NPX)
    npx.chmod(0o755)
    full_env = {"PATH": f"{bindir}:/usr/bin:/bin", "NPX_LOG": str(tmp_path / "npx.log"), "FAIL_STACK": ""}
    full_env.update(env)
    return subprocess.run(
        [BASH, str(CI_DIFF), *args], capture_output=True, text=True, env=full_env, timeout=30, check=False
    )


def npx_calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "npx.log").read_text().splitlines()


def test_ci_diff_compares_each_head_stack_with_its_base_template_offline(tmp_path: Path) -> None:
    base = assembly(tmp_path / "base", ["eks-platform-Network", "eks-platform-Cluster", "eks-platform-Old"])
    head_stacks = ["eks-platform-Network", "eks-platform-Cluster", "eks-platform-Addons"]
    head = assembly(tmp_path / "head", head_stacks)
    result = ci_diff(tmp_path, str(base), str(head))
    assert result.returncode == 0, result.stderr
    network, cluster, addons = npx_calls(tmp_path)
    assert network == (
        f"--no-install cdk diff --app {head} --exclusively --no-notices "
        f"--template {base}/eks-platform-Network.template.json eks-platform-Network"
    )
    assert cluster.endswith(f"--template {base}/eks-platform-Cluster.template.json eks-platform-Cluster")
    # A stack new in head is diffed against an empty template, so everything in it shows as added.
    assert re.search(r"--template \S+/empty\.template\.json eks-platform-Addons$", addons)
    out = result.stdout
    assert out.index("### `eks-platform-Network`") < out.index("### `eks-platform-Cluster`")
    assert "### `eks-platform-Addons`\n_New stack (not in base)._" in out
    assert "### `eks-platform-Old`\n_Removed: the stack is in base but not in head._" in out
    assert "Stack eks-platform-Network\n[~] line 0" in out


def test_ci_diff_without_a_base_assembly_shows_every_stack_as_new(tmp_path: Path) -> None:
    head = assembly(tmp_path / "head", ["eks-platform-Network"])
    result = ci_diff(tmp_path, str(tmp_path / "missing"), str(head))
    assert result.returncode == 0
    assert "Base branch has no cloud assembly; every stack is shown as new." in result.stdout
    assert "empty.template.json eks-platform-Network" in npx_calls(tmp_path)[0]


def test_ci_diff_truncates_long_diffs_but_keeps_them_whole_in_the_full_file(tmp_path: Path) -> None:
    base = assembly(tmp_path / "base", ["S"])
    head = assembly(tmp_path / "head", ["S"])
    full = tmp_path / "full.txt"
    result = ci_diff(tmp_path, "--max-lines", "5", "--full", str(full), str(base), str(head), DIFF_LINES="50")
    assert result.returncode == 0
    assert "[~] line 3" in result.stdout and "[~] line 4" not in result.stdout
    assert "_Truncated: 51 lines, first 5 shown" in result.stdout
    assert "[~] line 49" in full.read_text()


def test_ci_diff_fails_when_cdk_diff_fails_but_still_reports_every_stack(tmp_path: Path) -> None:
    base = assembly(tmp_path / "base", ["A", "B"])
    head = assembly(tmp_path / "head", ["A", "B"])
    result = ci_diff(tmp_path, str(base), str(head), FAIL_STACK="A")
    assert result.returncode == 1
    assert "### `A` (cdk diff FAILED)" in result.stdout and "boom" in result.stdout
    assert "### `B`\n" in result.stdout


def test_ci_diff_rejects_bad_usage(tmp_path: Path) -> None:
    result = ci_diff(tmp_path, "only-one")
    assert result.returncode == 2
    assert "ci-diff.sh: expected BASE_CDK_OUT and HEAD_CDK_OUT (see --help)" in result.stderr
    missing = ci_diff(tmp_path, "base", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "no cloud assembly at" in missing.stderr


# docs/runbook.md: every make target, file, pin, dashboard and alert it tells operators to use exists.


def test_runbook_make_targets_are_makefile_rules() -> None:
    rules = set(re.findall(r"^([a-z][\w-]*):", (REPO / "Makefile").read_text(), flags=re.M))
    named = set(re.findall(r"`make ([a-z][\w-]*)`", RUNBOOK.read_text()))
    assert {"destroy", "diff", "deploy", "test"} <= named
    assert named - rules == set(), "the runbook names make targets the Makefile does not define"


def test_runbook_paths_exist() -> None:
    paths = set(re.findall(r"`((?:scripts|platform_config|apps|infra)/[\w./-]+)`", RUNBOOK.read_text()))
    assert "platform_config/versions.py" in paths
    missing = sorted(p for p in paths if "<" not in p and not (REPO / p).exists())
    assert missing == []


def test_runbook_version_pins_and_observability_names_exist() -> None:
    text = RUNBOOK.read_text()
    versions = (REPO / "platform_config" / "versions.py").read_text()
    for pin in ("karpenter_version=", "ami_alias="):
        # a field of every ReleaseProfile in versions.py
        assert pin in text and len(re.findall(rf"^\s+{pin}", versions, flags=re.M)) >= 2, pin
    rules = "\n".join(p.read_text() for p in (REPO / "infra").rglob("*.yaml"))
    names = r"`(Karpenter[A-Za-z]+|karpenter[:_][a-z_:0-9]+|dashboard-karpenter-[a-z-]+)`"
    for name in re.findall(names, text):
        if name.startswith("karpenter_") and name not in rules:
            # Raw metrics the runbook adds beyond the rules must be Karpenter 1.0 interruption metrics.
            assert name.startswith("karpenter_interruption_"), name
            continue
        assert name in rules, f"{name} is in the runbook but in no manifest under infra/"


def locked_pins(text: str) -> dict[str, str]:
    """name -> version of each `name==version` entry of a requirements file (names normalised like pip)."""
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)", text, re.M)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def test_every_deploy_job_installs_hash_locked_wheels_before_it_has_credentials() -> None:
    jobs = load(DEPLOY)["jobs"]
    assert all(
        s.get("with", {}).get("persist-credentials") is False
        for j in jobs.values()
        for s in uses(j, "actions/checkout")
    )
    with_role = {n: j for n, j in jobs.items() if uses(j, "aws-actions/configure-aws-credentials")}
    assert set(with_role) >= {"diff", "deploy"}
    for name, job in with_role.items():
        names = [s.get("uses", "") or s.get("run", "") for s in steps(job)]
        credentials = next(i for i, n in enumerate(names) if n.startswith("aws-actions/configure-aws-credentials"))
        before = "\n".join(s.get("run", "") for s in steps(job)[:credentials])
        assert "--require-hashes --only-binary=:all:" in before and "-r requirements.lock" in before, name
        assert "touch .venv/.installed" in before and "npm ci" in before, name


def test_the_lock_pins_requirements_txt_exactly_with_a_hash_for_every_package() -> None:
    lock = (REPO / "requirements.lock").read_text()
    runtime = locked_pins((REPO / "requirements.txt").read_text())
    locked = locked_pins(lock)
    assert runtime and {k: locked.get(k) for k in runtime} == runtime
    body = "\n".join(line for line in lock.splitlines() if not line.startswith("#"))
    entries = re.split(r"\n(?=[A-Za-z0-9])", body.strip())
    assert len(entries) == len(locked) and all("--hash=sha256:" in e for e in entries)


# zizmor


def test_zizmor_finds_nothing_above_low_in_the_workflows() -> None:
    findings = zizmor(*sorted(WORKFLOWS.glob("*.yml")))
    assert [(f["ident"], f["determinations"]["severity"]) for f in findings] == []


def test_zizmor_reports_a_workflow_wide_oidc_permission(tmp_path: Path) -> None:
    planted = tmp_path / "planted.yml"
    doc = load(DEPLOY)
    # The shape zizmor reported high before: the OIDC permission workflow-wide, inherited by jobs without their own.
    doc["permissions"] = {"id-token": "write", "contents": "read"}
    for name in ("diff", "deploy"):
        del doc["jobs"][name]["permissions"]
    planted.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert "excessive-permissions" in {f["ident"] for f in zizmor(planted)}

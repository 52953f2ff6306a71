"""tools/ is grouped by job (generate/, report/, setup/), every tool finds the repository root through
tools/_paths.py rather than its own depth, runs from the root as a module, and every generator has --check; so
moving a tool between folders never breaks its paths, and the repository names only tool paths that exist."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools import _paths
from tools.generate import deployed_baseline

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"
JOBS = ("generate", "report", "setup")
# The only files beside the job folders: the package marker, the shared root finder and the folder's guide.
TOP_LEVEL = {"__init__.py", "_paths.py", "README.md"}


def tool_files() -> list[Path]:
    return sorted(p for p in TOOLS.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def modules(job: str | None = None) -> list[str]:
    """Dotted names of every Python module under tools/ (of one job folder when given)."""
    found = [p for p in tool_files() if p.suffix == ".py" and p.name != "__init__.py"]
    names = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in found]
    return [n for n in names if job is None or n.startswith(f"tools.{job}.")]


def entry_points(job: str) -> list[str]:
    """Modules of a job folder that run as a program (an `if __name__ == "__main__"` block)."""
    return [m for m in modules(job) if '__name__ == "__main__"' in (ROOT / (m.replace(".", "/") + ".py")).read_text()]


def test_every_tool_is_in_one_job_folder() -> None:
    misplaced = [
        str(p.relative_to(TOOLS))
        for p in tool_files()
        if not (p.parent == TOOLS and p.name in TOP_LEVEL) and not (p.parent.parent == TOOLS and p.parent.name in JOBS)
    ]
    assert not misplaced, f"put each tool in tools/<{'|'.join(JOBS)}>/ (tools/README.md says which): {misplaced}"
    for job in JOBS:
        assert (TOOLS / job / "__init__.py").is_file(), f"tools/{job}/ is a package (python -m tools.{job}.<name>)"


def test_no_tool_finds_the_root_by_its_own_depth() -> None:
    """The root is tools/_paths.ROOT; `__file__` arithmetic or sys.path edits in a tool break when it moves."""
    offenders = []
    for name in modules():
        if name == "tools._paths":
            continue
        tree = ast.parse((ROOT / (name.replace(".", "/") + ".py")).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "__file__":
                offenders.append(f"{name}:{node.lineno} uses __file__")
            if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", "") == "sys":
                offenders.append(f"{name}:{node.lineno} edits sys.path")
    for script in TOOLS.rglob("*.sh"):
        for number, line in enumerate(script.read_text().splitlines(), 1):
            if not line.lstrip().startswith("#") and re.search(r"\$0\"?\)?/\.\.", line):
                offenders.append(f"{script.relative_to(ROOT)}:{number} climbs a fixed number of directories")
    assert not offenders, f"use `from tools._paths import ROOT` (scripts: walk up to cdk.json): {offenders}"


def test_the_root_is_the_nearest_directory_holding_cdk_json(tmp_path: Path) -> None:
    assert _paths.ROOT == ROOT
    nested = tmp_path / "tools" / "job" / "deeper"
    nested.mkdir(parents=True)
    (tmp_path / "cdk.json").write_text("{}")
    assert _paths.repo_root(nested) == tmp_path
    with pytest.raises(FileNotFoundError, match=r"cdk\.json"):
        _paths.repo_root(Path(tmp_path.anchor))


@pytest.mark.parametrize("name", modules())
def test_every_tool_imports_cleanly(name: str) -> None:
    importlib.import_module(name)


def test_every_generator_runs_as_a_module_from_the_root_and_has_check() -> None:
    generators = entry_points("generate")
    assert generators, "tools/generate/ has no runnable generator"
    running = {
        name: subprocess.Popen(
            [sys.executable, "-m", name, "--help"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in generators
    }
    outputs = {name: process.communicate(timeout=300) for name, process in running.items()}
    failed = {name: out for name, (out, _) in outputs.items() if running[name].returncode != 0}
    assert not failed, f"python -m <generator> --help failed from the root: {failed}"
    missing = [name for name, (out, _) in outputs.items() if "--check" not in out]
    assert not missing, (
        f"a generator writes checked-in files and so needs --check (fails when they are stale): {missing}"
    )


def test_the_repository_names_only_tool_paths_and_modules_that_exist() -> None:
    """Makefile, hooks, workflows, docs and code name tools by path or module; after a move each must still exist
    (tests plant throwaway tool files in copies, and the CHANGELOG keeps history, so both are left out)."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    path_re = re.compile(r"(?<![\w./-])tools/[\w/]+\.(?:py|sh)\b")
    module_re = re.compile(r"(?<![\w./-])tools(?:\.\w+)+")
    missing = []
    for rel in tracked:
        if rel.startswith("tests/") or rel == "CHANGELOG.md" or rel.startswith("upstream_facts/"):
            continue
        try:
            text = (ROOT / rel).read_text()
        except (UnicodeDecodeError, IsADirectoryError):
            continue
        missing += [f"{rel}: {m}" for m in path_re.findall(text) if not (ROOT / m).is_file()]
        for dotted in module_re.findall(text):
            parts = dotted.split(".")
            # tools.<job>.<name>[.attribute]: the module file (or the job package) must exist.
            target = ROOT.joinpath(*parts[:3])
            if not (target.with_suffix(".py").is_file() or (target / "__init__.py").is_file()):
                missing.append(f"{rel}: {dotted}")
    assert not missing, f"these tool paths or modules do not exist (moved? update the reference): {missing}"


def test_the_baseline_check_names_a_replaced_resource_and_ignores_a_new_one() -> None:
    recorded = {"current-network": {"Vpc": {"Type": "AWS::EC2::VPC", "CreateOnly": {"CidrBlock": "10.0.0.0/16"}}}}
    moved = {"current-network": {"Vpc": {"Type": "AWS::EC2::VPC", "CreateOnly": {"CidrBlock": "10.1.0.0/16"}}}}
    added = {"current-network": {**recorded["current-network"], "Extra": {"Type": "AWS::SNS::Topic"}}}
    assert deployed_baseline.replaced(recorded, moved) == ["current-network: Vpc AWS::EC2::VPC"]
    assert deployed_baseline.replaced(recorded, added) == []
    assert deployed_baseline.replaced(recorded, {}) == ["current-network: Vpc AWS::EC2::VPC"]

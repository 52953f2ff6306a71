"""Adding a Helm add-on is one registry record and its values file: tried in a copy of the repository, the only tests
that fail are the generated files' checks, each naming how to regenerate, and after regenerating they pass."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

# A CDK add-on on a chart the profiles already pin (so no new upstream data is needed): the OpenTelemetry
# collector once more, as a fixture release in its own namespace on the system nodes.
RECORD = """    Addon(
        release="fixture-collector",
        chart="opentelemetry-collector",
        title="Fixture collector",
        namespace="fixture",
        pod_security="baseline",
        installer="addons-stack",
        construct_id="FixtureCollector",
        after=("namespace-guards",),
    ),
"""
VALUES = """mode: deployment
image:
  repository: ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib
nodeSelector:
  eks-platform.io/node-role: system
tolerations:
  - key: CriticalAddonsOnly
    operator: Exists
    effect: NoSchedule
resources:
  requests: {cpu: 50m, memory: 64Mi}
  limits: {cpu: 200m, memory: 128Mi}
"""
# The rules a new add-on meets (registry, stack wiring, namespace guards, CDK manifests) and the generated files
# it changes (template snapshots, the architecture picture).
RULE_TESTS = ("test_addon_registry.py", "test_addons.py", "test_rendered_manifests.py")
GENERATED = {
    "test_snapshots.py": "make snapshot-update",
    "test_architecture_diagram.py": "make diagram",
    "test_docs.py": "make docs",
}
# The generated files' checks among those files' tests (the rest of test_architecture_diagram tests the drawing).
GENERATED_CHECKS = (
    "tests/test_snapshots.py",
    "tests/test_architecture_diagram.py::test_committed_picture_is_the_one_the_synthesized_platform_draws",
    "tests/test_docs.py::test_generated_blocks_match_the_code",
)
# Local state and caches: linked, not copied.
CACHES = (".venv", ".tools", ".charts", "node_modules", ".cdk-home")


def repo_copy(dest: Path) -> Path:
    """The tracked files as they are in the working tree, with the installed tools and caches linked."""
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    )
    for rel in filter(None, files):
        source = ROOT / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    for cache in CACHES:
        if (ROOT / cache).exists():
            (dest / cache).symlink_to(ROOT / cache)
    return dest


def add_fixture_addon(repo: Path) -> None:
    registry = repo / "platform_config" / "addons.py"
    text = registry.read_text()
    anchor = "ADDONS: tuple[Addon, ...] = (\n"
    assert anchor in text, "the registry's list moved; update this test's anchor"
    registry.write_text(text.replace(anchor, anchor + RECORD, 1))
    (repo / "helm_values" / "fixture-collector.yaml").write_text(VALUES)


# The whole recipe in one Python process in the copy: the checks, the regenerators (each run as its command line
# runs it) and the checks again. One process starts the CDK's JavaScript bridge once; the three pytest sessions and
# the diagram's synth reuse it instead of each paying its start-up (about ten CPU seconds a process).
RECIPE = """
import json, os, runpy, sys
import pytest

steps = json.loads(sys.argv[1])

def mark(text):
    print(f"\\n@@ {text}", flush=True)

def module(argv):
    sys.argv = list(argv)
    try:
        runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
    except SystemExit as done:
        return done.code or 0
    return 0

base = ["-q", "-p", "no:cacheprovider", "-n", "0"]
mark("before")
mark(f"before exit {int(pytest.main([*base, *steps['before']]))}")
for argv in steps["regenerate"]:
    mark(f"regenerate {argv}")
    code = int(pytest.main([*base, *argv[1:]])) if argv[0] == "pytest" else module(argv)
    mark(f"regenerate {argv} exit {code}")
mark("after")
mark(f"after exit {int(pytest.main([*base, *steps['after']]))}")
"""
REGENERATE = (
    ("pytest", "tests/test_snapshots.py", "--snapshot-update"),
    ("tools.generate.diagram", "--reference", "--out", "docs"),
    ("tools.generate.gen_docs", "--skip-rendered"),
)


def run_recipe(repo: Path, before: list[str], after: list[str]) -> dict[str, str]:
    """Output of each step (before, each regenerator, after), and each step's exit status under "<step> exit"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    steps = {"before": before, "regenerate": [list(argv) for argv in REGENERATE], "after": after}
    result = subprocess.run(
        [sys.executable, "-c", RECIPE, json.dumps(steps)],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out: dict[str, str] = {}
    step = ""
    for line in result.stdout.splitlines():
        if line.startswith("@@ "):
            label = line[3:]
            if " exit " in label:
                name, code = label.rsplit(" exit ", 1)
                out[f"{name} exit"] = code
            else:
                step = label
            continue
        out[step] = out.get(step, "") + line + "\n"
    return out


def failed_files(output: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^FAILED tests/([\w.]+)::", output, re.MULTILINE)}


def test_a_new_add_on_fails_only_the_generated_files_checks_until_they_are_regenerated(tmp_path: Path) -> None:
    repo = repo_copy(tmp_path / "repo")
    add_fixture_addon(repo)
    steps = run_recipe(repo, [*(f"tests/{name}" for name in RULE_TESTS), *GENERATED_CHECKS], list(GENERATED_CHECKS))
    before = steps["before"]
    assert steps["before exit"] != "0" and failed_files(before) == set(GENERATED), before[-3000:]
    for name, how in GENERATED.items():
        assert how in before, f"{name} fails without saying `{how}`"
    for argv in REGENERATE:
        assert steps[f"regenerate {list(argv)} exit"] == "0", steps[f"regenerate {list(argv)}"][-3000:]
    assert steps["after exit"] == "0", steps["after"][-3000:]
    assert "namespace fixture" in (repo / "docs" / "architecture.dot").read_text()
    assert "| `fixture-collector` |" in (repo / "docs" / "addons.md").read_text()

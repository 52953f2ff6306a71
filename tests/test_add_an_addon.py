"""Adding a Helm add-on is one registry record and its values file: tried in a copy of the repository, the only tests
that fail are the generated files' checks, each naming how to regenerate, and after regenerating they pass."""

from __future__ import annotations

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


def pytest_in(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def failed_files(output: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^FAILED tests/([\w.]+)::", output, re.MULTILINE)}


def test_a_new_add_on_fails_only_the_generated_files_checks_until_they_are_regenerated(tmp_path: Path) -> None:
    repo = repo_copy(tmp_path / "repo")
    add_fixture_addon(repo)
    before = pytest_in(repo, *(f"tests/{name}" for name in RULE_TESTS), *GENERATED_CHECKS)
    assert failed_files(before.stdout) == set(GENERATED), before.stdout[-3000:]
    for name, how in GENERATED.items():
        assert how in before.stdout, f"{name} fails without saying `{how}`"

    regenerate = [
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "tests/test_snapshots.py",
         "--snapshot-update"],
        [sys.executable, "-m", "tools.generate.diagram", "--reference", "--out", "docs"],
        [sys.executable, "-m", "tools.generate.gen_docs", "--skip-rendered"],
    ]  # fmt: skip
    for command in regenerate:
        subprocess.run(command, cwd=repo, capture_output=True, text=True, check=True)

    after = pytest_in(repo, *GENERATED_CHECKS)
    assert after.returncode == 0, after.stdout[-3000:]
    assert "namespace fixture" in (repo / "docs" / "architecture.dot").read_text()
    assert "| `fixture-collector` |" in (repo / "docs" / "addons.md").read_text()

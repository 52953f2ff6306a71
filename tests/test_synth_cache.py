"""The suite's synth cache (SYNTH_CACHE_ENV) copies the assembly a synth of the same key wrote, synthesizes again for
any other key, keys on every file a synth can read, and is not used when the variable is unset."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests import synth_cache as sc
from tests.conftest import ROOT, TODAY, Synthesized, synthesize


class FakeSynth:
    """Writes a one-template assembly and counts its runs."""

    def __init__(self, body: str) -> None:
        self.body, self.runs = body, 0

    def __call__(self, out: Path) -> dict[str, dict[str, Any]]:
        self.runs += 1
        out.mkdir(parents=True, exist_ok=True)
        (out / "manifest.json").write_text(json.dumps({"body": self.body}))
        return {"network": {"Resources": {"Body": {"Type": self.body}}}}


def test_a_synth_of_the_same_key_is_copied_and_another_key_synthesizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(sc.SYNTH_CACHE_ENV, str(tmp_path / "store"))
    (tmp_path / "store").mkdir()
    first, second = FakeSynth("A"), FakeSynth("B")
    made = sc.shared_synth(tmp_path / "one", "key-a", first)
    copied = sc.shared_synth(tmp_path / "two", "key-a", second)
    assert (first.runs, second.runs) == (1, 0)
    assert copied == made
    assert (tmp_path / "two" / "manifest.json").read_text() == (tmp_path / "one" / "manifest.json").read_text()
    assert sc.shared_synth(tmp_path / "three", "key-b", second) == second(tmp_path / "four")
    assert second.runs == 2


def test_without_the_cache_every_call_synthesizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sc.SYNTH_CACHE_ENV, raising=False)
    synth = FakeSynth("A")
    sc.shared_synth(tmp_path / "one", "key", synth)
    sc.shared_synth(tmp_path / "two", "key", synth)
    assert synth.runs == 2


def _tree(root: Path) -> Path:
    for rel in ("app.py", "helm_values/a.yaml", "tests/test_x.py", "docs/page.md", "README.md", ".venv/x.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    return root


def test_the_key_follows_the_context_and_every_file_but_the_suite_documents_and_dot_directories(
    tmp_path: Path,
) -> None:
    root = _tree(tmp_path / "repo")
    key = sc.synth_key(root, {"release": "seed"}, "2026-11-26")
    assert sc.synth_key(root, {"release": "current"}, "2026-11-26") != key
    assert sc.synth_key(root, {"release": "seed"}, "2026-11-27") != key
    for unread in ("tests/test_x.py", "docs/page.md", "README.md", ".venv/x.py"):
        (root / unread).write_text("changed")
        assert sc.synth_key(root, {"release": "seed"}, "2026-11-26") == key, unread
    for read in ("app.py", "helm_values/a.yaml", "helm_values/new.yaml"):
        (root / read).write_text("changed")
        assert sc.synth_key(root, {"release": "seed"}, "2026-11-26") != key, read
        key = sc.synth_key(root, {"release": "seed"}, "2026-11-26")


def test_the_suites_synth_from_the_cache_equals_the_session_synth_and_builds_its_platform(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    # The session's synth (or a worker's copy of it) is in this run's cache: the suite's entry copies it.
    key = sc.synth_key(ROOT, synthesized.context, TODAY.isoformat())
    assert (Path(os.environ[sc.SYNTH_CACHE_ENV]) / key / "templates.json").is_file()
    again = synthesize(tmp_path / "again", synthesized.config.release)
    assert again.templates == synthesized.templates
    assert sorted(p.name for p in again.outdir.iterdir()) == sorted(p.name for p in synthesized.outdir.iterdir())
    assert again.platform.config == again.config == synthesized.config
    names = {stack.stack_name.rsplit("-", 1)[-1].lower() for stack in again.platform.app.node.children}
    assert names >= set(again.templates)


def test_the_apps_code_reads_nothing_the_key_leaves_out() -> None:
    # The key leaves out tests/, docs/ and Markdown: the app's code never imports the suite or reads a document.
    paths = [ROOT / "app.py"]
    for package in ("constructs_lib", "platform_stacks", "platform_config", "platform_checks"):
        paths += sorted((ROOT / package).rglob("*.py"))
    assert len(paths) > 4
    for path in paths:
        text = path.read_text()
        assert "from tests" not in text and "import tests" not in text, path
        assert '"docs"' not in text and "'docs'" not in text, path
        assert not any(f"{name}.md" in text for name in ("README", "CHANGELOG", "CONTRIBUTING")), path


def test_a_shared_directory_is_built_once_and_a_failed_build_is_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(sc.SYNTH_CACHE_ENV, str(tmp_path))
    builds: list[Path] = []

    def failing(path: Path) -> None:
        (path / "half").write_text("x")
        raise RuntimeError("build failed")

    with pytest.raises(RuntimeError):
        sc.shared_dir("probe", failing)
    first = sc.shared_dir("probe", builds.append)
    assert sc.shared_dir("probe", builds.append) == first and builds == [first]
    assert not (first / "half").exists()  # the failed build's leftovers are gone
    monkeypatch.delenv(sc.SYNTH_CACHE_ENV)
    assert sc.shared_dir("probe", builds.append) != first and len(builds) == 2


def test_a_shared_result_is_computed_once_per_key_and_on_every_call_without_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def compute() -> list[int]:
        calls.append(1)
        return [len(calls)]

    monkeypatch.setenv(sc.SYNTH_CACHE_ENV, str(tmp_path))
    assert sc.shared_result("k", compute) == sc.shared_result("k", compute) == [1]
    assert sc.shared_result("other", compute) == [2]
    monkeypatch.delenv(sc.SYNTH_CACHE_ENV)
    assert sc.shared_result("k", compute) == [3]

"""The suite's render cache (RENDER_CACHE_ENV) returns exactly what Helm or kustomize rendered for the same inputs,
renders again for any other input and for a render they refused, and is not used when the variable is unset."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest

from platform_checks import helm_template as ht
from platform_checks import kustomize as kz
from platform_checks.platform_render import PlatformRender
from platform_checks.render_cache import RENDER_CACHE_ENV
from platform_config.versions import DEFAULT_PROFILE


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every command run through subprocess.run from here on (Helm and kubectl alike)."""
    runs: list[list[str]] = []
    real = subprocess.run

    def counting(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        runs.append(list(cmd))
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting)
    return runs


def stored(store: Path) -> list[str]:
    """What a cache directory holds besides its locks and the binaries' digests: the stored renders."""
    return [p.name for p in store.iterdir() if p.suffix != ".lock" and not p.name.startswith("digest-")]


def count(runs: list[list[str]], program: str) -> int:
    return sum(Path(cmd[0]).name == program for cmd in runs)


def _collector(render: PlatformRender) -> ht.Release:
    return next(r for r in render.releases.values() if r.chart == "opentelemetry-collector")


# The cache's rules do not depend on the profile (its key reads the command, the values and the binaries' and
# archives' contents, whichever profile they come from): the Helm tests run on the default profile's release.
on_the_default_profile = pytest.mark.parametrize("profile", [DEFAULT_PROFILE], indirect=True)


@on_the_default_profile
def test_a_cached_render_is_helms_own_and_other_inputs_render_again(
    platform_render: PlatformRender, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: list[list[str]]
) -> None:
    release, profile = _collector(platform_render), platform_render.profile
    monkeypatch.delenv(RENDER_CACHE_ENV)
    uncached = ht.helm_template(release, profile=profile)
    monkeypatch.setenv(RENDER_CACHE_ENV, str(tmp_path))
    first = ht.helm_template(release, profile=profile)
    second = ht.helm_template(release, profile=profile)
    assert count(runs, "helm") == 2  # the uncached call and the first cached one; the second is read back
    assert first == second == uncached
    second[0]["metadata"]["name"] = "changed by a caller"
    assert ht.helm_template(release, profile=profile) == uncached  # every read is a fresh copy
    other = dataclasses.replace(release, values={**release.values, "replicaCount": 7})
    assert ht.helm_template(other, profile=profile) != uncached
    assert count(runs, "helm") == 3


@on_the_default_profile
def test_without_the_variable_every_render_runs_helm(
    platform_render: PlatformRender, monkeypatch: pytest.MonkeyPatch, runs: list[list[str]]
) -> None:
    monkeypatch.delenv(RENDER_CACHE_ENV)
    release = _collector(platform_render)
    assert ht.helm_template(release, profile=platform_render.profile) == ht.helm_template(
        release, profile=platform_render.profile
    )
    assert count(runs, "helm") == 2


@on_the_default_profile
def test_a_refused_render_is_not_cached(
    platform_render: PlatformRender, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: list[list[str]]
) -> None:
    monkeypatch.setenv(RENDER_CACHE_ENV, str(tmp_path))
    broken = dataclasses.replace(_collector(platform_render), values={})
    for _ in range(2):
        with pytest.raises(ht.RenderError, match="helm template opentelemetry-collector"):
            ht.helm_template(broken, profile=platform_render.profile)
    assert count(runs, "helm") == 2
    assert stored(tmp_path) == []


def test_the_key_reads_file_contents_not_paths(tmp_path: Path) -> None:
    values = tmp_path / "values.json"
    values.write_text('{"a": 1}')
    binary = tmp_path / "helm"
    binary.write_bytes(b"one")
    key = ht.render_key([str(binary), "template", "x", "--values", str(values)], values)
    binary.write_bytes(b"other")  # another size: a same-size rewrite within a clock tick would look unchanged
    assert ht.render_key([str(binary), "template", "x", "--values", str(values)], values) != key
    moved = tmp_path / "elsewhere.json"
    moved.write_text('{"a": 1}')
    binary.write_bytes(b"one")
    assert ht.render_key([str(binary), "template", "x", "--values", str(moved)], moved) == key


# --- kustomize builds: the same cache, keyed by kubectl and every file the build can read ---


def _overlay(root: Path) -> Path:
    """An overlay in its own directory on a base in another: the build reads both."""
    (root / "base").mkdir(parents=True)
    (root / "base" / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (root / "base" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: '1'}\n")
    (root / "overlay").mkdir()
    (root / "overlay" / "kustomization.yaml").write_text("resources: [../base]\nnamePrefix: team-\n")
    return root / "overlay"


def test_a_cached_kustomize_build_is_kubectls_own_and_a_changed_base_builds_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: list[list[str]]
) -> None:
    overlay = _overlay(tmp_path / "tree")
    monkeypatch.delenv(RENDER_CACHE_ENV, raising=False)
    uncached = kz.kustomize_build(overlay)
    monkeypatch.setenv(RENDER_CACHE_ENV, str(tmp_path / "store"))
    (tmp_path / "store").mkdir()
    assert kz.kustomize_build(overlay) == kz.kustomize_build(overlay) == uncached
    assert uncached[0]["metadata"]["name"] == "team-cm"
    assert count(runs, "kubectl") == 2  # the uncached build and the first cached one
    assert (tmp_path / "tree" / "base" / "cm.yaml") in (kz.build_inputs(overlay) or [])
    (tmp_path / "tree" / "base" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: 'two'}\n"
    )
    assert kz.kustomize_build(overlay)[0]["data"] == {"a": "two"}
    assert count(runs, "kubectl") == 3


def test_a_refused_kustomize_build_is_not_cached_and_a_remote_base_is_never_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: list[list[str]]
) -> None:
    overlay = _overlay(tmp_path / "tree")
    (overlay / "kustomization.yaml").write_text("resources: [../base, broken.yaml]\n")
    (overlay / "broken.yaml").write_text("kind: [\n")
    assert kz.build_inputs(overlay) is not None  # cacheable inputs: only kubectl's refusal keeps it out
    (store := tmp_path / "store").mkdir()
    monkeypatch.setenv(RENDER_CACHE_ENV, str(store))
    for _ in range(2):
        with pytest.raises(RuntimeError, match="kubectl kustomize"):
            kz.kustomize_build(overlay)
    assert count(runs, "kubectl") == 2
    assert stored(store) == []
    (overlay / "kustomization.yaml").write_text("resources: [https://github.com/o/r//base?ref=v1]\n")
    assert kz.build_inputs(overlay) is None

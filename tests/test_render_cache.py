"""The suite's render cache (RENDER_CACHE_ENV) returns exactly what Helm rendered for the same inputs, runs Helm
again for any other input and for a render Helm refused, and is not used when the variable is unset."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest

from platform_checks import helm_template as ht
from platform_checks.platform_render import PlatformRender


@pytest.fixture
def helm_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every Helm command run from here on."""
    runs: list[list[str]] = []
    real = subprocess.run

    def counting(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        runs.append(list(cmd))
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(ht.subprocess, "run", counting)
    return runs


def _collector(render: PlatformRender) -> ht.Release:
    return next(r for r in render.releases.values() if r.chart == "opentelemetry-collector")


def test_a_cached_render_is_helms_own_and_other_inputs_render_again(
    platform_render: PlatformRender, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helm_runs: list[list[str]]
) -> None:
    release, profile = _collector(platform_render), platform_render.profile
    monkeypatch.delenv(ht.RENDER_CACHE_ENV)
    uncached = ht.helm_template(release, profile=profile)
    monkeypatch.setenv(ht.RENDER_CACHE_ENV, str(tmp_path))
    first = ht.helm_template(release, profile=profile)
    second = ht.helm_template(release, profile=profile)
    assert len(helm_runs) == 2  # the uncached call and the first cached one; the second is read back
    assert first == second == uncached
    second[0]["metadata"]["name"] = "changed by a caller"
    assert ht.helm_template(release, profile=profile) == uncached  # every read is a fresh copy
    other = dataclasses.replace(release, values={**release.values, "replicaCount": 7})
    assert ht.helm_template(other, profile=profile) != uncached
    assert len(helm_runs) == 3


def test_without_the_variable_every_render_runs_helm(
    platform_render: PlatformRender, monkeypatch: pytest.MonkeyPatch, helm_runs: list[list[str]]
) -> None:
    monkeypatch.delenv(ht.RENDER_CACHE_ENV)
    release = _collector(platform_render)
    assert ht.helm_template(release, profile=platform_render.profile) == ht.helm_template(
        release, profile=platform_render.profile
    )
    assert len(helm_runs) == 2


def test_a_refused_render_is_not_cached(
    platform_render: PlatformRender, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helm_runs: list[list[str]]
) -> None:
    monkeypatch.setenv(ht.RENDER_CACHE_ENV, str(tmp_path))
    broken = dataclasses.replace(_collector(platform_render), values={})
    for _ in range(2):
        with pytest.raises(ht.RenderError, match="helm template opentelemetry-collector"):
            ht.helm_template(broken, profile=platform_render.profile)
    assert len(helm_runs) == 2
    assert not list(tmp_path.glob("*.pickle"))


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

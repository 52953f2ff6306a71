"""`make charts`: .charts/ holds exactly the pinned archive of every chart of every profile, or it fails clearly."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from platform_checks.charts import (
    CACHE_DIR,
    ChartCacheError,
    all_pins,
    archive_name,
    cached_chart,
    chart_identity,
    source_dir,
)
from platform_config.addons import addons
from platform_config.versions import PROFILES
from tests.conftest import ROOT
from tools.setup.charts import fill, pull_command


def fake_archive(path: Path, name: str, version: str) -> Path:
    """A minimal chart archive: <name>/Chart.yaml with that name and version."""
    data = f"apiVersion: v2\nname: {name}\nversion: {version}\n".encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(f"{name}/Chart.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def source_with_every_pin(directory: Path) -> Path:
    directory.mkdir()
    for pin in all_pins():
        fake_archive(directory / archive_name(pin), pin.chart, pin.version)
    return directory


def test_pins_cover_every_chart_of_every_profile() -> None:
    wanted = {(c.chart, c.version) for p in PROFILES.values() for c in p.charts.values()}
    assert {(p.chart, p.version) for p in all_pins()} == wanted
    registry = {(a.pin(p).chart, a.pin(p).version) for p in PROFILES.values() for a in addons(p.name)}
    assert registry == wanted, "every pin is a registry add-on's chart and every add-on's chart is pinned"


def test_the_cache_holds_every_pinned_archive() -> None:
    for pin in all_pins():
        assert chart_identity(cached_chart(pin)) == (pin.chart, pin.version)


def test_fill_copies_every_pin_from_a_local_directory(tmp_path: Path) -> None:
    source = source_with_every_pin(tmp_path / "src")
    assert fill(tmp_path / "cache", source, online=False) == []
    for pin in all_pins():
        assert chart_identity(cached_chart(pin, tmp_path / "cache")) == (pin.chart, pin.version)


def test_a_missing_chart_is_one_clear_line(tmp_path: Path) -> None:
    source = source_with_every_pin(tmp_path / "src")
    pin = PROFILES["seed"].charts["karpenter"]
    (source / archive_name(pin)).unlink()
    errors = fill(tmp_path / "cache", source, online=False)
    assert errors == [f"chart karpenter {pin.version}: {source / archive_name(pin)} is missing"]


def test_an_archive_holding_another_version_is_refused(tmp_path: Path) -> None:
    source = source_with_every_pin(tmp_path / "src")
    pin = PROFILES["seed"].charts["kyverno"]
    fake_archive(source / archive_name(pin), "kyverno", "0.0.1")
    errors = fill(tmp_path / "cache", source, online=False)
    assert errors == [
        f"chart kyverno {pin.version}: {source / archive_name(pin)} holds Chart.yaml name=kyverno version=0.0.1; "
        f"accepted is name=kyverno version={pin.version}"
    ]
    assert not (tmp_path / "cache" / archive_name(pin)).exists()


def test_a_wrong_archive_in_the_cache_is_replaced(tmp_path: Path) -> None:
    source = source_with_every_pin(tmp_path / "src")
    pin = PROFILES["seed"].charts["jaeger"]
    (tmp_path / "cache").mkdir()
    fake_archive(tmp_path / "cache" / archive_name(pin), "jaeger", "0.0.1")
    assert fill(tmp_path / "cache", source, online=False) == []
    assert chart_identity(tmp_path / "cache" / archive_name(pin)) == ("jaeger", pin.version)


def test_a_render_from_an_unfilled_cache_fails_saying_how_to_fill_it(tmp_path: Path) -> None:
    pin = PROFILES["seed"].charts["argo-cd"]
    with pytest.raises(
        ChartCacheError, match=r"argo-cd-6\.7\.18\.tgz is missing; run `make charts` \(offline: CHARTS_DIR="
    ):
        cached_chart(pin, tmp_path)


def test_charts_dir_must_exist() -> None:
    with pytest.raises(ChartCacheError, match="CHARTS_DIR=/no/such/dir is not a directory; accepted is a directory"):
        source_dir({"CHARTS_DIR": "/no/such/dir"})
    assert source_dir({"CHARTS_DIR": str(ROOT)}) == ROOT


def test_make_charts_fails_with_one_line_per_chart_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "tools.setup.charts", "--cache", str(tmp_path / "cache")],
        cwd=ROOT,
        env={"CHARTS_DIR": str(tmp_path / "empty"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(all_pins()) + 1
    assert all(line.startswith("make charts: chart ") and line.endswith(" is missing") for line in lines[:-1])
    assert "put the pinned <chart>-<version>.tgz in CHARTS_DIR" in lines[-1]


def test_the_cache_is_git_ignored() -> None:
    assert ".charts/" in (ROOT / ".gitignore").read_text().splitlines()
    assert CACHE_DIR == ROOT / ".charts"


def test_online_pulls_use_each_pins_repository() -> None:
    karpenter, kyverno = PROFILES["current"].charts["karpenter"], PROFILES["current"].charts["kyverno"]
    assert karpenter.repository.startswith("oci://") and not kyverno.repository.startswith("oci://")
    assert pull_command(karpenter, "helm") == [
        "helm", "pull", f"{karpenter.repository}/karpenter", "--version", karpenter.version
    ]  # fmt: skip
    assert pull_command(kyverno, "helm") == [
        "helm", "pull", "kyverno", "--repo", kyverno.repository, "--version", kyverno.version
    ]  # fmt: skip


def test_make_test_fills_the_cache_before_any_test_runs() -> None:
    targets = {
        line.split(":", 1)[0]: line.split(":", 1)[1].split()
        for line in (ROOT / "Makefile").read_text().splitlines()
        if ":" in line and not line.startswith(("\t", "#", " ")) and "=" not in line.split(":", 1)[0]
    }
    assert "charts" in targets["test"] and "charts" in targets["unit"]
    assert "charts" in targets["capacity"] and "synth" in targets["capacity"]

"""The chart cache .charts/ holds exactly the pinned archive of every chart of every release profile."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import yaml

from platform_config import yaml_load
from platform_config.versions import PROFILES, ChartPin

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / ".charts"
SHARED_DIR = ROOT.parent / "shared" / "charts"
FILL_HINT = (
    "run `make charts` (offline: CHARTS_DIR=<directory holding <chart>-<version>.tgz>; "
    "online: it runs `helm pull` from each pin's repository)"
)


class ChartCacheError(Exception):
    """A pinned chart archive is missing or is not the pinned chart and version."""


def all_pins() -> list[ChartPin]:
    """Every chart pin of every profile, once, sorted by chart and version."""
    pins = {(p.chart, p.version): p for profile in PROFILES.values() for p in profile.charts.values()}
    return [pins[key] for key in sorted(pins)]


def archive_name(pin: ChartPin) -> str:
    return f"{pin.chart}-{pin.version}.tgz"


def chart_identity(archive: Path) -> tuple[str, str]:
    """(name, version) of the archive's top-level Chart.yaml; ChartCacheError when it has none."""
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == "Chart.yaml":
                    handle = tar.extractfile(member)
                    meta = yaml_load.safe_load(handle.read()) if handle else None
                    if isinstance(meta, dict):
                        return str(meta.get("name")), str(meta.get("version"))
    except (tarfile.TarError, OSError, yaml.YAMLError) as err:
        raise ChartCacheError(f"{archive}: not a readable chart archive ({err})") from None
    raise ChartCacheError(f"{archive}: no <chart>/Chart.yaml at the top of the archive")


def verify_archive(archive: Path, pin: ChartPin) -> None:
    """The archive exists and its Chart.yaml name and version equal the pin; else one clear ChartCacheError."""
    if not archive.is_file():
        raise ChartCacheError(f"chart {pin.chart} {pin.version}: {archive} is missing")
    name, version = chart_identity(archive)
    if (name, version) != (pin.chart, pin.version):
        raise ChartCacheError(
            f"chart {pin.chart} {pin.version}: {archive} holds Chart.yaml name={name} version={version}; "
            f"accepted is name={pin.chart} version={pin.version}"
        )


def cached_chart(pin: ChartPin, cache_dir: Path = CACHE_DIR) -> Path:
    """The verified archive of a pin in the cache; ChartCacheError saying how to fill the cache otherwise."""
    archive = cache_dir / archive_name(pin)
    try:
        verify_archive(archive, pin)
    except ChartCacheError as err:
        raise ChartCacheError(f"{err}; {FILL_HINT}") from None
    return archive


def source_dir(environ: dict[str, str] | None = None) -> Path | None:
    """CHARTS_DIR when set (it must exist), else ../shared/charts when it exists, else None (pull online)."""
    env = os.environ if environ is None else environ
    given = env.get("CHARTS_DIR", "")
    if given:
        path = Path(given).expanduser()
        if not path.is_dir():
            raise ChartCacheError(
                f"CHARTS_DIR={given} is not a directory; accepted is a directory of <chart>-<version>.tgz"
            )
        return path
    return SHARED_DIR if SHARED_DIR.is_dir() else None

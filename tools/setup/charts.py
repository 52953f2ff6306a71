"""`make charts`: fill .charts/ with the pinned archive of every chart of every profile (offline dir or helm pull)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from platform_checks.charts import (
    CACHE_DIR,
    ChartCacheError,
    all_pins,
    archive_name,
    source_dir,
    verify_archive,
)
from platform_checks.layer_tools import extract
from platform_config.versions import ChartPin


def pull_command(pin: ChartPin, helm: str) -> list[str]:
    """`helm pull` of exactly the pinned version: oci://<registry>/<chart> for OCI, --repo for HTTP repositories."""
    if pin.repository.startswith("oci://"):
        return [helm, "pull", f"{pin.repository.rstrip('/')}/{pin.chart}", "--version", pin.version]
    return [helm, "pull", pin.chart, "--repo", pin.repository, "--version", pin.version]


def _pull(pin: ChartPin, dest: Path, cache: Path) -> None:
    """helm pull the exact version from the pin's repository (OCI or HTTP) into dest."""
    cmd = pull_command(pin, str(extract()["helm"]))
    env = {**os.environ}
    for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        env[var] = str(cache / ".helm" / var.split("_")[1].lower())
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run([*cmd, "--destination", tmp], capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise ChartCacheError(f"chart {pin.chart} {pin.version}: `{' '.join(cmd[1:])}` failed: {last}")
        pulled = Path(tmp) / archive_name(pin)
        if not pulled.is_file():
            raise ChartCacheError(f"chart {pin.chart} {pin.version}: helm pull wrote no {pulled.name}")
        verify_archive(pulled, pin)
        shutil.copyfile(pulled, dest)


def fill(cache: Path = CACHE_DIR, source: Path | None = None, online: bool = True) -> list[str]:
    """Make cache hold every pinned archive; return one error line per chart that could not be placed."""
    cache.mkdir(parents=True, exist_ok=True)
    errors = []
    for pin in all_pins():
        dest = cache / archive_name(pin)
        try:
            try:
                verify_archive(dest, pin)
                continue  # already cached and correct
            except ChartCacheError:
                dest.unlink(missing_ok=True)
            if source is not None:
                candidate = source / archive_name(pin)
                verify_archive(candidate, pin)
                shutil.copyfile(candidate, dest)
            elif online:
                _pull(pin, dest, cache)
            else:
                raise ChartCacheError(f"chart {pin.chart} {pin.version}: no CHARTS_DIR and pulling is off")
        except ChartCacheError as err:
            errors.append(str(err))
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="cache directory (default .charts/)")
    cache = parser.parse_args(argv).cache
    try:
        source = source_dir()
    except ChartCacheError as err:
        sys.stderr.write(f"make charts: {err}\n")
        return 1
    errors = fill(cache, source)
    where = f"from {source}" if source else "with helm pull from each pin's repository"
    for line in errors:
        sys.stderr.write(f"make charts: {line}\n")
    if errors:
        sys.stderr.write(
            "make charts: fix the lines above: put the pinned <chart>-<version>.tgz in CHARTS_DIR, "
            "or unset CHARTS_DIR (and have no ../shared/charts) to pull online\n"
        )
        return 1
    sys.stdout.write(f"make charts: {len(all_pins())} pinned charts in {cache} ({where})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

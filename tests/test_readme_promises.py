"""What the README promises about configuration and the two commands is what the code and Makefile do."""

from __future__ import annotations

import re
import subprocess
from dataclasses import fields

import pytest

from platform_config.config import PlatformConfig
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()


def config_table_rows() -> dict[str, str]:
    """Each config key the README's configuration table names, with the row that names it."""
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            for key in re.findall(r"`([a-z0-9_]+)`", first_cell):
                rows[key] = line
    return rows


def default_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return str(value[0]) if value else "[]"
    return str(value)


@pytest.mark.parametrize("field", [f.name for f in fields(PlatformConfig)])
def test_every_config_key_is_in_the_readme_table_with_its_default(field: str) -> None:
    rows = config_table_rows()
    assert field in rows, f"README configuration table has no row for {field}"
    default = default_text(getattr(PlatformConfig(), field))
    assert default in rows[field].split("|")[2], f"{field}: default {default!r} not in {rows[field]!r}"


def test_readme_table_names_no_key_the_config_lacks() -> None:
    assert set(config_table_rows()) <= {f.name for f in fields(PlatformConfig)}


def make_dry_run(target: str, *args: str) -> str:
    result = subprocess.run(["make", "-n", target, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout


def test_second_run_reinstalls_nothing() -> None:
    # make test has installed everything before pytest runs, so the stamps are fresh.
    for target in ("synth", "test"):
        planned = make_dry_run(target)
        for installer in ("pip install", "npm ci", "apt-get", "-m venv"):
            assert installer not in planned, f"make {target} would run {installer} again"


def test_synth_is_offline_and_quiet() -> None:
    planned = make_dry_run("synth")
    assert "cdk synth --no-notices --no-version-reporting" in planned
    for setting in (
        "CDK_HOME := $(CURDIR)/.cdk-home",
        "CDK_DISABLE_VERSION_CHECK := 1",
        "CDK_DISABLE_CLI_TELEMETRY := true",
    ):
        assert f"export {setting}" in MAKEFILE
    assert ".cdk-home/" in (ROOT / ".gitignore").read_text()


def test_make_destroy_only_prints_steps_unless_told_yes() -> None:
    assert "scripts/destroy.sh --dry-run" in make_dry_run("destroy")
    assert "scripts/destroy.sh --yes" in make_dry_run("destroy", "DESTROY_ARGS=--yes")


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make synth" in README and "make test" in README

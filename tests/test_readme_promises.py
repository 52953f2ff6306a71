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
        for installer in ("pip install", "npm ci", "npm pack", "apt-get", "-m venv"):
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


# ---- licence, contributing guide, changelog -------------------------------------------------------------------

DOCS = ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")


def relative_links(text: str) -> list[str]:
    """Markdown link targets that point into the repository (no scheme, no pure anchor), without anchors."""
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def test_readme_links_the_licence_contributing_guide_changelog_and_notice() -> None:
    assert {"LICENSE", "CONTRIBUTING.md", "CHANGELOG.md", "upstream_facts/NOTICE"} <= set(relative_links(README))


@pytest.mark.parametrize("doc", DOCS)
def test_every_relative_link_resolves(doc: str) -> None:
    links = relative_links((ROOT / doc).read_text())
    missing = [link for link in links if not (ROOT / link).exists()]
    assert missing == [], f"{doc} links to missing files: {missing}"


def test_licence_is_mit_with_year_and_project() -> None:
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License\n\nCopyright (c) 2026 The eks-platform authors\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in licence


def test_changelog_follows_keep_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "[Keep a Changelog](https://keepachangelog.com/en/1.1.0/)" in text
    releases = re.findall(r"^## (.+)$", text, re.M)
    assert releases[0] == "[Unreleased]", "the first section collects unreleased changes"
    for release in releases[1:]:
        assert re.fullmatch(r"\[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}", release), release
    kinds = set(re.findall(r"^### (.+)$", text, re.M))
    assert kinds and kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_contributing_names_only_real_make_targets_and_paths() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", MAKEFILE, re.M))
    for target in re.findall(r"`make ([a-z][\w-]*)", text):
        assert target in targets, f"CONTRIBUTING.md names `make {target}`, which the Makefile lacks"
    for token in re.findall(r"`([^`\s<>]+)`", text):
        path = token.split(" ")[0].rstrip(":")
        top = path.split("/")[0]
        # Paths into this repository; ../shared (maintainers only) and what make creates are not checked.
        if "/" in path and top not in ("..", ".venv", ".tools") and (ROOT / top).exists():
            assert (ROOT / path).exists(), f"CONTRIBUTING.md names {path}, which does not exist"

"""What the README promises about configuration and the two commands is what the code and Makefile do."""

from __future__ import annotations

import re
import subprocess
from dataclasses import fields

import pytest

from platform_config.config import PlatformConfig
from tests.conftest import ROOT
from tests.make_plan import make_dry_run, make_env

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
    # The maintainers' CI has ../shared: the upstream-facts freshness test may not skip there.
    assert "export REQUIRE_UPSTREAM_DATA=1\nmake test" in (ROOT / ".ci" / "run").read_text()
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


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, flags=re.M))


def test_make_help_lists_every_target_with_one_line() -> None:
    cmd = ["make", "--no-print-directory", "help"]
    result = subprocess.run(cmd, cwd=ROOT, env=make_env(), capture_output=True, text=True, check=True)
    listed = dict(re.findall(r"^  make (\S+)\s+(\S.*)$", result.stdout, flags=re.M))
    assert set(listed) == makefile_targets()
    # Then one heading and one line per variable (tests/test_make_interface.py checks those).
    variables = re.findall(r"^  [A-Z_]+\s", result.stdout, flags=re.M)
    assert len(result.stdout.splitlines()) == len(listed) + 1 + len(variables)


def test_readme_other_targets_names_every_target() -> None:
    section = README.split("Other targets", 1)[1].split("\n## ", 1)[0]
    assert {t for t in makefile_targets() if f"`make {t}`" not in section} == set()


def test_diff_uses_no_option_the_pinned_cli_rejects_and_deploy_asks_on_broadening() -> None:
    assert "--all" not in make_dry_run("diff")
    assert "cdk deploy --no-notices --no-version-reporting --all --require-approval broadening" in make_dry_run(
        "deploy"
    )
    planned = make_dry_run("deploy", "ARGS=-c nat_gateways=3").splitlines()
    # The preflight (unsupported Kubernetes version, bad config) runs with the same overrides, before the deploy.
    assert planned[-2].endswith("scripts/preflight.py -c nat_gateways=3")
    assert planned[-1].endswith("--all --require-approval broadening -c nat_gateways=3")
    deploy_workflow = (ROOT / ".github" / "workflows" / "deploy.yml").read_text()
    assert 'make deploy DEPLOY_FLAGS="--require-approval never"' in deploy_workflow


def test_node_22_is_recommended_and_used_in_ci() -> None:
    assert "Node 20+" not in README and "Node 22 LTS" in README
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        versions = re.findall(r'node-version: "(\d+)"', workflow.read_text())
        assert versions and set(versions) == {"22"}, workflow.name


def test_readme_and_runbook_name_the_addons_stack() -> None:
    assert "-Addons`" in README.split("## Configuration", 1)[1]
    assert "eks-platform-Addons" in (ROOT / "docs" / "runbook.md").read_text()


def test_runbook_forwards_every_ui_and_shows_a_generated_cost_plan_per_profile() -> None:
    from constructs_lib.access import uis
    from platform_config.versions import PROFILES

    runbook = (ROOT / "docs" / "runbook.md").read_text()
    for profile in PROFILES:
        for ui in uis(profile).values():
            assert f"`{ui.port_forward}`" in runbook, (profile, ui.name)
    # The plans themselves are generated and kept fresh by tests/test_cost_surfaces.py.
    costs = runbook.split("## 13. What it costs", 1)[1]
    for profile in PROFILES:
        assert f"<!-- cost-plan {profile}:" in costs and f"<!-- end cost-plan {profile} -->" in costs, profile


def test_runbook_exception_example_targets_an_enforce_policy() -> None:
    runbook = (ROOT / "docs" / "runbook.md").read_text()
    (policy,) = re.findall(r"- policyName: (\S+)", runbook)
    # The YAML example is the seed profile's kyverno.io PolicyException (policies are generated per profile).
    text = (ROOT / "infra" / "overlays" / "seed" / "policies" / f"{policy}.yaml").read_text()
    assert "validationFailureAction: Enforce" in text


def test_readme_add_on_table_shows_each_profiles_chart_pins() -> None:
    from platform_config.versions import PROFILES

    table = r"^\| [^|]+ \| `([\w-]+)` \([^)]*\) \| ([^|]+; seed [^|]+) \|"  # the add-on table's version column
    rows = {m[0]: m[1] for m in re.findall(table, README, re.M)}
    current, seed = PROFILES["current"].charts, PROFILES["seed"].charts
    assert set(rows) == set(current), sorted(rows)
    for chart, cell in rows.items():
        now, then = cell.strip().split("; seed ")
        assert now.split(" ")[0] == current[chart].version and then.split(" ")[0] == seed[chart].version, chart

"""The release profile travels through every entry point: make targets and the setup scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_config.versions import DEFAULT_PROFILE, PROFILES
from tests.conftest import ROOT
from tests.make_plan import make_dry_run
from tests.test_setup_scripts import ALL_TOOLS, make_bin, make_repo, run_script, steps_and_commands


@pytest.mark.parametrize("target", ["synth", "diff", "deploy"])
def test_make_passes_release_to_the_cdk_cli_only_when_given(target: str) -> None:
    assert f"cdk {target} --no-notices --no-version-reporting -c release=seed" in make_dry_run(target, "RELEASE=seed")
    assert "release=" not in make_dry_run(target)


def test_setup_script_passes_release_from_the_environment(tmp_path: Path) -> None:
    bindir = make_bin(tmp_path, ALL_TOOLS)
    # A throwaway repo (never the user's cdk.json) whose zones match the region the flags name.
    zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    script = make_repo(tmp_path, {"availability_zones": zones}, real_preflight=True) / "scripts" / "setup-cluster.sh"
    args = ["--dry-run", "--cluster-name", "c", "--region", "eu-west-1"]
    commands = steps_and_commands(run_script(script, args, bindir, tmp_path, RELEASE="seed").stdout)[1]
    cdk = [c for c in commands if c.startswith("npx cdk")]
    assert len(cdk) == 2 and all(c.endswith("-c release=seed") for c in cdk), cdk
    plain = steps_and_commands(run_script(script, args, bindir, tmp_path).stdout)[1]
    assert not any("release=" in c for c in plain)


def test_profiles_pin_what_the_requirements_install() -> None:
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    for profile in PROFILES.values():
        assert profile.kubernetes.kubectl_layer_package in requirements, profile.name


def test_each_profile_pins_karpenter_once_for_both_of_its_charts() -> None:
    for profile in PROFILES.values():
        assert profile.charts["karpenter"].version == profile.charts["karpenter-crd"].version
        assert profile.charts["karpenter"].version == profile.karpenter_version


def test_default_profile_is_a_profile() -> None:
    assert DEFAULT_PROFILE in PROFILES


def test_a_release_exported_in_the_shell_does_not_change_the_tests_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    # `export RELEASE=seed` is how a developer may work on seed; the plan tests must still see their own args.
    monkeypatch.setenv("RELEASE", "seed")
    assert "release=" not in make_dry_run("synth")

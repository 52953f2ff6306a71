"""Every intermediate state of the seed-to-current plan is a generated release profile: the committed file is the
planner's, each step resolves as `release` (or is refused with the charts no profile pins), and a representative
step synthesizes with its own pins."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from platform_config import versions
from platform_config.config import ConfigError, PlatformConfig
from platform_config.eks_rules import kubectl_layer
from platform_config.versions import PROFILES, release_profile, step_profiles
from tests.fixed_context import fixed_context
from tools.report import upgrade_plan

ROOT = Path(__file__).resolve().parent.parent
PLAN = upgrade_plan.plan("seed", "current")
STEPS = step_profiles()


def test_the_committed_step_profiles_are_the_planners_intermediate_states() -> None:
    assert versions.STEP_PROFILES_FILE.read_text() == upgrade_plan.step_profiles_text(PLAN), (
        "regenerate: python -m tools.report.upgrade_plan --from seed --to current --write-profiles"
    )
    assert list(STEPS) == [s["profile"]["name"] for s in PLAN["steps"][:-1]]  # the last state is `current`


def test_the_check_flag_fails_on_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "step_profiles.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(upgrade_plan, "STEP_PROFILES_FILE", stale)
    assert upgrade_plan.main(["--check-profiles"]) == 1
    monkeypatch.setattr(upgrade_plan, "STEP_PROFILES_FILE", versions.STEP_PROFILES_FILE)
    assert upgrade_plan.main(["--check-profiles"]) == 0


@pytest.mark.parametrize("name", list(STEPS))
def test_each_step_resolves_as_release_with_its_states_pins_or_is_refused_naming_what_no_profile_pins(
    name: str,
) -> None:
    step: dict[str, Any] = STEPS[name]
    (planned,) = [s for s in PLAN["steps"] if s["profile"]["name"] == name]
    if step["not_pinned"]:
        with pytest.raises(ConfigError, match="'release'") as err:
            PlatformConfig.from_context(fixed_context(release=name), {})
        assert all(reason in str(err.value) for reason in step["not_pinned"])
        assert planned["profile"]["rendered_offline"] is False or step["gitops"] == ""
        return
    config = PlatformConfig.from_context(fixed_context(release=name), {})
    profile = config.profile
    assert profile.kubernetes.version == planned["after"]["kubernetes"]
    assert profile.kubernetes.kubectl_layer_package == kubectl_layer(profile.kubernetes.version)
    assert config.ami_alias == planned["after"]["ami_alias"]
    assert {c: p.version for c, p in profile.charts.items()} == planned["after"]["charts"]
    for chart, pin in profile.charts.items():  # each chart's files come from a profile pinning that very version
        assert PROFILES[profile.files_profile(chart)].charts[chart].version == pin.version
    assert profile.gitops_profile in PROFILES
    assert planned["profile"]["rendered_offline"] is True


def test_steps_not_rendered_offline_stay_marked_and_the_rest_build() -> None:
    buildable = [n for n, s in STEPS.items() if not s["not_pinned"]]
    marked = [s["profile"]["name"] for s in PLAN["steps"][:-1] if not s["profile"]["rendered_offline"]]
    assert buildable and marked and not set(buildable) & set(marked)


def representative() -> str:
    """The first buildable step whose charts come from more than one profile (the hardest case: mixed files)."""
    return next(
        n for n, s in STEPS.items() if not s["not_pinned"] and len({c["source"] for c in s["charts"].values()}) > 1
    )


def test_a_representative_step_synthesizes_with_its_own_kubernetes_and_chart_pins(tmp_path: Path) -> None:
    from platform_stacks.platform_app import build_app

    name = representative()
    profile = release_profile(name)
    platform = build_app(
        fixed_context(release=name), env={}, today=dt.date(2026, 1, 1), outdir=str(tmp_path), nag=False
    )
    platform.app.synth()
    templates = {p.name: json.loads(p.read_text()) for p in tmp_path.glob("*.template.json")}
    resources = [r for t in templates.values() for r in t["Resources"].values()]
    (cluster,) = [r for r in resources if r["Type"] == "AWS::EKS::Cluster"]
    assert cluster["Properties"]["Version"] == profile.kubernetes.version
    charts = {
        r["Properties"]["Chart"]: r["Properties"]["Version"]
        for r in resources
        if r["Type"] == "Custom::AWSCDK-EKS-HelmChart"
    }
    assert charts and all(profile.charts[c].version == v for c, v in charts.items())
    assert any(PROFILES[profile.files_profile(c)].name != profile.gitops_profile for c in charts)  # mixed sources
    (lookup,) = [r for r in resources if r["Type"] == "Custom::EksAddonVersions"]
    assert lookup["Properties"]["KubernetesVersion"] == profile.kubernetes.version
    recorded = {t.get("Metadata", {}).get("EksPlatform", {}).get("Release") for t in templates.values()} - {None}
    assert recorded == {name}


def test_a_step_whose_minors_kubectl_layer_is_not_installed_is_refused_with_the_pip_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.metadata

    from platform_config.config import app_config

    pinned = {p.kubernetes.version for p in PROFILES.values()}
    name = next(n for n, s in STEPS.items() if not s["not_pinned"] and s["kubernetes"] not in pinned)
    package = kubectl_layer(STEPS[name]["kubernetes"])

    def missing(distribution: str) -> str:
        raise importlib.metadata.PackageNotFoundError(distribution)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    with pytest.raises(ConfigError, match="'release'") as err:
        app_config(fixed_context(release=name), {})
    assert f".venv/bin/pip install {package}" in str(err.value)

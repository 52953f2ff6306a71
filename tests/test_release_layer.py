"""`make synth|diff|deploy|bootstrap|cost RELEASE=<step>` install the step's kubectl layer before the CDK runs."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from platform_config.eks_rules import layer_minor
from platform_config.versions import PROFILES, UnbuildableStep, release_profile, step_profiles
from tests.make_plan import make_dry_run
from tools.setup import release_layer


def buildable_steps() -> list[str]:
    names = []
    for name in step_profiles():
        try:
            release_profile(name)
        except UnbuildableStep:
            continue
        names.append(name)
    return names


def test_every_buildable_step_asks_for_the_layer_of_its_own_kubernetes_minor() -> None:
    steps = buildable_steps()
    assert steps, "no buildable step: the plan's data changed"
    for name in [*PROFILES, *steps]:
        profile = release_profile(name)
        requirement = release_layer.requirement_of(name)
        assert requirement == profile.kubernetes.kubectl_layer_package, name
        assert layer_minor(requirement) == profile.kubernetes.version, name


def test_a_name_that_is_no_profile_installs_nothing_and_leaves_the_refusal_to_the_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail(f"pip ran: {a}"))
    assert release_layer.requirement_of("no-such-profile") is None
    assert release_layer.main(["--release", "no-such-profile"]) == 0


def test_an_installed_layer_is_not_installed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail(f"pip ran: {a}"))
    for name in PROFILES:  # requirements.txt installs the profiles' own layers
        assert not release_layer.missing(release_profile(name).kubernetes.kubectl_layer_package), name
        assert release_layer.main(["--release", name]) == 0


def test_a_missing_layer_is_installed_with_exactly_its_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(release_layer, "missing", lambda requirement: True)
    step = buildable_steps()[-1]
    assert release_layer.main(["--release", step]) == 0
    assert len(calls) == 1 and calls[0][-1] == release_profile(step).kubernetes.kubectl_layer_package
    assert calls[0][1:4] == ["-m", "pip", "install"]


def test_a_different_installed_version_counts_as_missing() -> None:
    name, _, version = release_profile(next(iter(PROFILES))).kubernetes.kubectl_layer_package.partition("==")
    assert release_layer.missing(f"{name}==0.0.0-not-{version}")


@pytest.mark.parametrize("target", ["synth", "diff", "deploy", "bootstrap", "cost", "diagram"])
def test_make_installs_the_release_layer_before_the_cdk_runs(target: str) -> None:
    step = buildable_steps()[0]
    lines = make_dry_run(target, f"RELEASE={step}").splitlines()
    layer = next(i for i, line in enumerate(lines) if f"tools.setup.release_layer --release {step}" in line)
    # The CLI, or the diagram's reference synth in Python.
    cdk = next(i for i, line in enumerate(lines) if " cdk " in f" {line} " or "tools.generate.diagram" in line)
    assert layer < cdk

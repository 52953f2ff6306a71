"""`make bench` fails (exit 1) when any of its targets is missed and passes when all are met; each printed line names
its target. The measurements are stubbed: the figures around each target come from bench's own constants."""

from __future__ import annotations

import pytest

from platform_config.versions import PROFILES
from tools.report import bench, synth_phases

BASELINE = 4.0  # seconds of the one-bucket synth in the stubbed runs


def within(target: float) -> float:
    return target * 0.9


def beyond(target: float) -> float:
    return target * 1.1


def run(monkeypatch: pytest.MonkeyPatch, **figures: float) -> tuple[int, str]:
    """bench.main() on stubbed measurements: synth ratio, suite, cost plan and upgrade plan as given."""
    synth = {"one-bucket": (BASELINE, BASELINE), bench.SAME_NODE: (BASELINE, BASELINE)} | dict.fromkeys(
        PROFILES, (BASELINE * figures["ratio"], BASELINE * figures["ratio"])
    )
    timed = {
        "test suite": figures["suite"],
        "upgrade plan": figures["plan"] / 2,
        "plan check": figures["plan"] / 2,
    }
    printed: list[str] = []
    monkeypatch.setattr(bench, "synth_times", lambda runs: synth)
    monkeypatch.setattr(bench, "cost_plan_times", lambda runs=0: (1.0, figures["cost"]))
    # Labels end in the run's number ("test suite 2/3"): every run of a step takes the step's figure.
    monkeypatch.setattr(bench, "timed", lambda label, cmd, cwd=None: timed[label.rsplit(" ", 1)[0]])
    monkeypatch.setattr(bench, "host_loop_s", lambda: 1.0)
    monkeypatch.setattr(synth_phases, "adopt_orphans", lambda on=True: None)
    monkeypatch.setattr(synth_phases, "measure", lambda apps, runs, out: {})
    monkeypatch.setattr(synth_phases, "table", lambda phases, apps: "")
    monkeypatch.setattr(synth_phases, "recorded", dict)
    monkeypatch.setattr("builtins.print", lambda *a, **k: printed.append(" ".join(str(x) for x in a)))
    return bench.main([]), "\n".join(printed)


@pytest.fixture
def met() -> dict[str, float]:
    return {
        "ratio": within(bench.SYNTH_RATIO_TARGET),
        "suite": within(bench.SUITE_TARGET_S),
        "cost": within(bench.COST_PLAN_TARGET_S),
        "plan": within(bench.UPGRADE_PLAN_TARGET_S),
    }


def test_bench_passes_when_every_target_is_met(monkeypatch: pytest.MonkeyPatch, met: dict[str, float]) -> None:
    code, out = run(monkeypatch, **met)
    assert code == 0 and "every target met" in out.splitlines(), out


@pytest.mark.parametrize(
    ("figure", "target", "named"),
    [
        ("ratio", "SYNTH_RATIO_TARGET", "synth release="),
        ("suite", "SUITE_TARGET_S", "suite"),
        ("cost", "COST_PLAN_TARGET_S", "cost plan"),
        ("plan", "UPGRADE_PLAN_TARGET_S", "upgrade plan"),
    ],
)
def test_bench_fails_when_one_target_is_missed_and_names_it(
    monkeypatch: pytest.MonkeyPatch, met: dict[str, float], figure: str, target: str, named: str
) -> None:
    limit = getattr(bench, target)
    code, out = run(monkeypatch, **{**met, figure: beyond(limit)})
    assert code == 1, out
    (missed,) = [row for row in out.splitlines() if row.startswith("missed: ")]
    assert named in missed and f"> {limit:g}" in missed, missed
    # The other targets were met: only this one is named (once per profile for the synth ratio).
    assert all(part.startswith(named) for part in missed.removeprefix("missed: ").split("; ")), missed


def test_the_performance_page_names_exactly_the_targets_a_record_misses() -> None:
    record = {
        # The one-bucket app with the platform's Node settings is a reference row, never judged as a profile.
        "synth": {"one-bucket": [BASELINE, BASELINE], bench.SAME_NODE: [BASELINE * 2 * bench.SYNTH_RATIO_TARGET, 1.0]}
        | {name: [BASELINE * within(bench.SYNTH_RATIO_TARGET), 1.0] for name in PROFILES},
        "suite": within(bench.SUITE_TARGET_S),
        "cost": [1.0, within(bench.COST_PLAN_TARGET_S)],
    }
    assert synth_phases.missed_targets(record) == []
    record["suite"] = beyond(bench.SUITE_TARGET_S)
    (missed,) = synth_phases.missed_targets(record)
    assert missed.startswith("suite") and f"> {bench.SUITE_TARGET_S:g} s" in missed

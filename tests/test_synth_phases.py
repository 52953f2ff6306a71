"""The synth phase breakdown (make bench): marks are read strictly, and the table's differences are what it says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools.report import synth_phases as sp

MARKS = {
    "started": 10.0,
    "cdk_imported": 10.5,
    "nag_imported": 10.6,
    "app_imported": 11.0,
    "built": 11.5,
    "synthesized": 13.5,
}


def sample(shift: float = 0.0, synth: float = 2.0, exit_: float = 0.5) -> sp.Sample:
    marks = {**MARKS, "synthesized": MARKS["built"] + synth}
    return sp.parse_marks(
        "noise\nMARKS " + json.dumps({k: v + shift for k, v in marks.items()}),
        spawned=9.9 + shift,
        exited=marks["synthesized"] + shift + exit_,
    )


def test_phases_run_from_spawn_to_exit_and_add_up_to_the_total() -> None:
    s = sample()
    phases = [s.phase(start, end) for _, start, end in sp.PHASES]
    assert phases == pytest.approx([0.1, 0.5, 0.1, 0.4, 0.5, 2.0, 0.5])
    assert sum(phases) == pytest.approx(s.total)


def test_a_missing_mark_is_named() -> None:
    partial = {k: v for k, v in MARKS.items() if k != "built"}
    with pytest.raises(ValueError, match=r"did not reach \['built'\]"):
        sp.parse_marks("MARKS " + json.dumps(partial), spawned=0.0, exited=20.0)


def test_output_without_exactly_one_marks_line_is_refused() -> None:
    with pytest.raises(ValueError, match="expected one MARKS line from the runner, got 0"):
        sp.parse_marks("Traceback ...", spawned=0.0, exited=1.0)


def test_table_names_what_validation_and_cdk_nag_cost_as_differences_of_medians() -> None:
    results = {
        ("one-bucket", "as shipped"): sp.medians([sample(synth=2.0), sample(synth=1.8), sample(synth=9.0)]),
        ("one-bucket", "no built-in validation"): sp.medians([sample(synth=0.1, exit_=0.0)]),
        ("app", "as shipped"): sp.medians([sample(synth=3.0)]),
        ("app", "no built-in validation"): sp.medians([sample(synth=0.5, exit_=0.0)]),
        ("app", "no cdk-nag"): sp.medians([sample(synth=2.7)]),
    }
    lines = sp.table(results, ("one-bucket", "app")).splitlines()
    rows = {cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", line.strip()) for line in lines[1:])}
    assert rows["synth (validation, cdk-nag, write)"] == ["2.00", "3.00"]  # the median, not the 9 s outlier
    assert rows["total"] == ["4.10", "5.10"]
    assert rows["of the total: built-in validation"] == ["2.40", "3.00"]
    assert rows["of the total: cdk-nag rules"] == ["-", "0.30"]


def test_the_runner_reaches_every_mark_for_a_real_app(tmp_path: Path) -> None:
    # The cheapest real run: the one-bucket app without the built-in validation (under a second).
    s = sp.run_once("one-bucket", "no built-in validation", tmp_path)
    order = [start for _, start, _ in sp.PHASES] + ["exited"]
    assert [s.marks[name] for name in order] == sorted(s.marks[name] for name in order), s.marks  # in order
    assert (tmp_path / "OneBucket.template.json").is_file()


def idea(name: str, base: float, changed: float) -> dict[str, object]:
    return {
        "idea": name,
        "base_rev": "a",
        "changed_rev": "b",
        "release": "current",
        "runs": 4,
        "date": "2026-12-07",
        "one_bucket": [1.0, 2.0],
        "base": [10.0, base],
        "changed": [9.0, changed],
        "note": "",
    }


def test_an_idea_measured_again_replaces_its_entry_and_the_others_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sp, "RECORD", tmp_path / "performance.json")
    sp.record("ideas", idea("x", 8.0, 7.0))
    sp.record("ideas", idea("y", 7.0, 7.5))
    sp.record("ideas", idea("x", 8.0, 6.0))
    assert [(i["idea"], i["changed"][1]) for i in sp.recorded()["ideas"]] == [("y", 7.5), ("x", 6.0)]


def test_the_docs_show_each_ideas_change_and_the_ratios_from_the_record_alone() -> None:
    phases = {k: 1.0 for k, _, _ in sp.PHASES} | {"total": 4.0}
    record = {
        "bench": {
            "date": "2026-12-07",
            "machine": "2 cores",
            "load": 3.0,
            "runs": 5,
            "phase_runs": 3,
            "synth": {"one-bucket": [4.0, 5.0], "current": [6.0, 8.0]},
            "phases": {f"{app}|{v}": phases for app in ("one-bucket", "current") for v in sp.VARIANTS},
            "cost": [30.0, 1.5],
        },
        "ideas": [idea("x", 8.0, 7.0)],
    }
    text = sp.markdown(record)
    assert "| current | 6.00 | 1.50 | 8.00 | 1.60 |" in text
    assert "| x | 8.00 | 7.00 | -1.00 s (-12%) |" in text
    assert sp.markdown({}).count("\n") == 1  # nothing recorded: the source comment only, no figure


def test_the_cpu_of_a_process_left_running_after_the_app_exits_is_counted(tmp_path: Path) -> None:
    # The app starts a child that keeps computing after the app has exited, as jsii's Node does after app.py leaves.
    busy = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"
    (tmp_path / "app.py").write_text(
        f"import os, subprocess, sys\nsubprocess.Popen([sys.executable, '-c', {busy!r}])\nos._exit(0)\n"
    )
    sp.adopt_orphans()
    try:
        _wall, cpu = sp.run_app(tmp_path, tmp_path / "out")
    finally:
        sp.adopt_orphans(False)
    assert cpu >= 0.4


def test_an_app_under_measurement_starts_jsiis_node_its_own_way_whatever_the_measuring_process_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Importing platform_stacks points this process's JSII_NODE at the platform's script; the one-bucket app and an
    # older revision's app must not inherit it (each app decides), so the app writes down what it was given.
    from platform_config.node_runtime import JSII_NODE_SCRIPT, JSII_NODE_VARIABLE
    from tools.report import bench

    (tmp_path / "app.py").write_text(
        f"import os, pathlib\npathlib.Path('seen').write_text(os.environ.get({JSII_NODE_VARIABLE!r}, '-'))\n"
    )
    monkeypatch.setenv(JSII_NODE_VARIABLE, str(JSII_NODE_SCRIPT))
    assert JSII_NODE_VARIABLE not in sp.app_env()
    sp.run_app(tmp_path, tmp_path / "out")
    assert (tmp_path / "seen").read_text() == "-"
    (tmp_path / "seen").unlink()
    bench.run_timed("app", ["python3", "app.py"], tmp_path)
    assert (tmp_path / "seen").read_text() == "-"
    # A JSII_NODE of your own is yours: every app measured runs it.
    monkeypatch.setenv(JSII_NODE_VARIABLE, "/opt/node24/bin/node")
    sp.run_app(tmp_path, tmp_path / "out")
    assert (tmp_path / "seen").read_text() == "/opt/node24/bin/node"


def bench_record(**extra: object) -> dict[str, object]:
    """A bench record with the one-bucket app, the same app given the platform's Node settings (timed through the
    CLI only: no phases) and one profile."""
    from tools.report.bench import SAME_NODE

    phases = {k: 1.0 for k, _, _ in sp.PHASES} | {"total": 4.0}
    return {
        "date": "2026-12-07",
        "machine": "2 cores",
        "load": 1.0,
        "runs": 5,
        "phase_runs": 3,
        "synth": {"one-bucket": [4.0, 5.0], SAME_NODE: [2.5, 3.0], "current": [5.0, 5.5]},
        "phases": {f"{app}|{v}": phases for app in ("one-bucket", "current") for v in sp.VARIANTS},
        "cost": [30.0, 1.5],
        **extra,
    }


def test_the_docs_give_the_profiles_ratio_to_the_one_bucket_app_with_the_platforms_node_settings() -> None:
    text = sp.markdown({"bench": bench_record()})
    assert "| phase | one-bucket | current |" in text  # the reference row is timed through the CLI only
    assert "| current | 5.00 | 1.25 |" in text
    assert "it takes 2.50 s and the profiles take current 2.00x of that" in text


def test_the_docs_show_the_hosts_loop_around_the_suite_when_the_record_has_it() -> None:
    assert "loop" not in sp.markdown({"bench": bench_record(suite=95.0)})  # an older record: no claim
    text = sp.markdown({"bench": bench_record(suite=95.0, host_loop=[0.87, 1.3], suite_runs=[99.0, 95.0, 80.0])})
    assert "(`make unit`, both profiles, median of 3 runs: 99.0, 95.0, 80.0 s): 95.0 s." in text
    assert "took 0.87 s just before the runs and 1.30 s just after" in text

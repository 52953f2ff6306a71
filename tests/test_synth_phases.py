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

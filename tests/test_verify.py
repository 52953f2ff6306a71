"""tools/report/verify.py runs every check, keeps going after a failure, and its table shows each check's result."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tools.report import verify as v

REPO = Path(__file__).resolve().parent.parent
GOOD_SH = '#!/usr/bin/env bash\nset -euo pipefail\ntarget="$1"\necho "$target"\n'
BAD_SH = "#!/usr/bin/env bash\ntarget=$1\nrm -rf $target/cache\n"
WORKFLOW = "name: ok\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n"


def run_verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.report.verify", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def make_root(tmp_path: Path, script: str) -> Path:
    """A throwaway root with one shell script and one workflow, for the shellcheck and actionlint checks."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "task.sh").write_text(script)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ok.yml").write_text(WORKFLOW)
    return tmp_path


def table_rows(stdout: str) -> dict[str, list[str]]:
    """Table rows by check name: [result, count, time]."""
    table = stdout.split("\n\n")[-1]
    rows = [line.split(" | ") for line in table.splitlines() if " | " in line]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}


def test_a_failing_check_fails_verify_and_the_others_still_run(tmp_path: Path) -> None:
    root = make_root(tmp_path, BAD_SH)
    result = run_verify("--root", str(root), "--only", "shellcheck,actionlint")
    assert result.returncode == 1
    rows = table_rows(result.stdout)
    assert rows["shellcheck"][:2] == ["FAIL", "1 scripts"]
    assert rows["actionlint"][:2] == ["pass", "1 workflows"]
    assert rows["total"][:2] == ["FAIL", "1 of 2 checks failed"]
    # The failure's own output is shown above the table, so the reason is one scroll away.
    assert "SC2086" in result.stdout.split("\n\n")[0]


def test_verify_passes_when_every_selected_check_passes(tmp_path: Path) -> None:
    root = make_root(tmp_path, GOOD_SH)
    result = run_verify("--root", str(root), "--only", "shellcheck", "--only", "actionlint")
    assert result.returncode == 0, result.stdout
    rows = table_rows(result.stdout)
    assert rows["shellcheck"][:2] == ["pass", "1 scripts"]
    assert rows["total"][:2] == ["pass", "2 checks passed"]


def test_pytest_check_counts_passed_and_failed_from_its_report(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_dashboards.py").write_text(
        textwrap.dedent(
            """
            def test_one():
                assert True

            def test_two():
                assert True

            def test_broken():
                assert 1 == 2
            """
        )
    )
    result = run_verify("--root", str(tmp_path), "--only", "tests: dashboards")
    assert result.returncode == 1
    assert table_rows(result.stdout)["tests: dashboards"][:2] == ["FAIL", "2 tests passed, 1 failed"]


def test_a_check_with_no_files_fails_rather_than_passing_vacuously(tmp_path: Path) -> None:
    result = run_verify("--root", str(tmp_path), "--only", "shellcheck")
    assert result.returncode == 1
    assert table_rows(result.stdout)["shellcheck"][:2] == ["FAIL", "no files"]


def test_unknown_check_name_is_one_clear_error_and_exit_2() -> None:
    result = run_verify("--only", "shelcheck")
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "verify: error: unknown check 'shelcheck'; known: actionlint, cdk-nag, cfn-lint" in result.stderr


def test_missing_tool_and_failed_dependency_are_fails_in_a_complete_table(tmp_path: Path) -> None:
    checks = [
        v.Check("first", ("/nonexistent/tool",), v.regex_counter(default="n/a")),
        v.Check("reader", (sys.executable, "-c", "pass"), v.regex_counter(), needs="first"),
        v.Check("after", (sys.executable, "-c", "print('3 things')"), v.regex_counter((r"(\d+)", "{} ok"))),
    ]
    results = v.verify(checks, tmp_path)
    assert [(r.name, r.passed, r.count) for r in results] == [
        ("first", False, "n/a"),
        ("reader", False, "not run: first failed"),
        ("after", True, "3 ok"),
    ]


def test_table_has_one_row_per_check_aligned_columns_and_a_total() -> None:
    results = [
        v.Result("synth", True, "4 stacks", 6.04),
        v.Result("tests: schemas", False, "80 tests passed, 1 failed", 3.25),
    ]
    assert v.format_table(results).splitlines() == [
        "check          | result | count                     | time (s)",
        "---------------+--------+---------------------------+---------",
        "synth          | pass   | 4 stacks                  |      6.0",
        "tests: schemas | FAIL   | 80 tests passed, 1 failed |      3.2",
        "---------------+--------+---------------------------+---------",
        "total          | FAIL   | 1 of 2 checks failed      |      9.3",
    ]


def test_selecting_a_check_brings_the_check_it_reads_from() -> None:
    assert [c.name for c in v.select(["cfn-lint"], v.CHECKS)] == ["synth", "cfn-lint"]


def test_checks_cover_synth_nag_lint_and_every_test_file_exactly_once() -> None:
    names = [c.name for c in v.CHECKS]
    assert len(names) == len(set(names))
    required = ["synth", "cdk-nag", "cfn-lint", "actionlint", "shellcheck", "ruff check", "mypy"]
    assert set(required) <= set(names)
    named = [a for c in v.PYTEST_GROUPS for a in c.argv if a.startswith("tests/")]
    assert len(named) == len(set(named)), "a test file is in two groups"
    for path in named:
        assert (REPO / path).is_file(), f"{path} is named by a verify group but does not exist"
    (rest,) = [c for c in v.CHECKS if c.name == "tests: stacks and rest"]
    assert {a.removeprefix("--ignore=") for a in rest.argv if a.startswith("--ignore=")} == set(named)
    assert "tests" in rest.argv
    assert rest.argv[rest.argv.index("-n") + 1] == "auto"  # most of the suite: on every core, as make unit runs it


def test_list_prints_every_check_and_runs_nothing() -> None:
    result = run_verify("--list")
    assert result.returncode == 0
    assert [line.split("\t", 1)[0] for line in result.stdout.splitlines()] == [c.name for c in v.CHECKS]

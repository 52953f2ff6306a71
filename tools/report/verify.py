"""`make verify`: synth plus every offline check, then one summary table; non-zero if any check fails."""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tools._paths import ROOT
from tools.report.synth_summary import warnings

PY = sys.executable
# Tools that come from pinned PyPI packages sit next to the interpreter (.venv/bin), never taken from PATH.
BIN = str(Path(sys.executable).parent)
# The same offline, quiet CDK environment the Makefile exports, so `python -m tools.report.verify` alone matches it.
CDK_ENV = {
    "CDK_HOME": str(ROOT / ".cdk-home"),
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}
OUTPUT_TAIL_LINES = 40


@dataclass
class Outcome:
    """What one check produced: exit code, merged output, the files its globs matched, its report paths."""

    returncode: int
    output: str
    files: list[str]
    junit: Path
    out: Path


Counter = Callable[[Outcome], str]


@dataclass(frozen=True)
class Check:
    """One named check. In argv, `{py}`, `{bin}`, `{junit}` and `{out}` (this run's cloud assembly) are filled
    in and `glob:<pattern>` expands to files under the root, or under {out} (no file at all fails it);
    `count` turns the outcome into the table's count; `needs` names a check whose output this one reads."""

    name: str
    argv: tuple[str, ...]
    count: Counter
    needs: str | None = None


@dataclass
class Result:
    name: str
    passed: bool
    count: str
    seconds: float
    command: str = ""
    note: str = ""


# ---- counters: each reads what its tool prints, so the table says what was really checked ----


def files_counter(noun: str) -> Counter:
    def count(o: Outcome) -> str:
        return f"{len(o.files)} {noun}"

    return count


def regex_counter(*rules: tuple[str, str], default: str = "-") -> Counter:
    """The first (pattern, template) whose pattern matches the output, its groups filled into the template."""

    def count(o: Outcome) -> str:
        for pattern, template in rules:
            m = re.search(pattern, o.output, flags=re.M)
            if m:
                return template.format(*m.groups())
        return default

    return count


def pytest_counter(o: Outcome) -> str:
    """Counts from pytest's JUnit XML: passed, failed, errors, skipped (skips are shown, never hidden)."""
    if not o.junit.is_file():
        return "no report"
    suites = ET.parse(o.junit).getroot()
    suite = suites if suites.tag == "testsuite" else suites.find("testsuite")
    if suite is None:
        return "no report"
    keys = ("tests", "failures", "errors", "skipped")
    total, failed, errors, skipped = (int(suite.get(k, "0")) for k in keys)
    parts = [f"{total - failed - errors - skipped} tests passed"]
    others = ((failed, "failed"), (errors, "errors"), (skipped, "skipped"))
    parts += [f"{n} {word}" for n, word in others if n]
    return ", ".join(parts)


def stacks_counter(o: Outcome) -> str:
    manifest = o.out / "manifest.json"
    if o.returncode != 0:
        # cdk-nag fails synth itself (ValidationFailed): say so here, since the cdk-nag row will not run.
        report = o.out / "validation-report.json"
        return f"failed; cdk-nag: {nag_counter(o)}" if report.is_file() else "failed"
    if not manifest.is_file():
        return "no assembly"
    artifacts = json.loads(manifest.read_text())["artifacts"].values()
    return f"{sum(1 for a in artifacts if a['type'] == 'aws:cloudformation:stack')} stacks"


def nag_counter(o: Outcome) -> str:
    report = o.out / "validation-report.json"
    if not report.is_file():
        return "no validation report"
    plugins = json.loads(report.read_text())["pluginReports"]
    open_ = sum(len(p.get("violations", [])) for p in plugins)
    acknowledged = sum(len(p.get("suppressedViolations", [])) for p in plugins)
    return f"{open_} unacknowledged, {acknowledged} acknowledged"


# ---- the checks: adding one is one line ----


PYTEST = ("{py}", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml={junit}")


def pytest_check(name: str, *paths: str) -> Check:
    return Check(name, (*PYTEST, *paths), pytest_counter)


# Pytest groups by what they prove; every other test file runs in the final `tests: stacks and rest` group.
PYTEST_GROUPS = [
    pytest_check(
        "tests: schemas",
        "tests/test_upstream_facts.py",
        "tests/test_manifest_validation.py",
        "tests/test_values_checker.py",
        "tests/test_karpenter_install.py",
        "tests/test_astronomy_shop.py",
        "tests/test_observability_stack.py",
    ),
    pytest_check("tests: kyverno policies", "tests/test_kyverno_policies.py"),
    pytest_check("tests: prometheus rules", "tests/test_prometheus_rules.py"),
    pytest_check("tests: dashboards", "tests/test_dashboards.py"),
    pytest_check("tests: workflows", "tests/test_workflows.py"),
    pytest_check("tests: scripts", "tests/test_setup_scripts.py", "tests/test_destroy_script.py"),
    pytest_check("tests: verify", "tests/test_verify.py"),
]


def rest_check(groups: Sequence[Check]) -> Check:
    """Every test file no group names, so a new test file is verified without touching this list. It is most of
    the suite, so it runs on every core as `make unit` does (the small groups would only pay the workers' start)."""
    grouped = [a for check in groups for a in check.argv if a.startswith("tests/")]
    ignored = (f"--ignore={path}" for path in grouped)
    return pytest_check("tests: stacks and rest", "-n", "auto", "tests", *ignored)


SYNTH = ("npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--no-version-reporting")
# cfn-lint reads .cfnlintrc.yaml from the root (the ignored warnings and why).
CFN_LINT = ("{bin}/cfn-lint", "--format", "parseable", "glob:{out}/*.template.json")
# -shellcheck: actionlint lints each `run:` script with the pinned shellcheck, not one found on PATH.
WORKFLOWS = "glob:.github/workflows/*.yml"
ACTIONLINT = ("{bin}/actionlint", "-no-color", "-shellcheck", "{bin}/shellcheck", WORKFLOWS)
SHELLCHECK = ("{bin}/shellcheck", "--shell=bash", "glob:scripts/*.sh", "glob:scripts/lib/*.sh", "glob:tools/*/*.sh")
RUFF_COUNT = regex_counter((r"Found (\d+) errors?", "{} findings"), (r"^All checks passed", "0 findings"))
UNFORMATTED = (r"(\d+) files? would be reformatted", "{} to reformat")
FORMAT_COUNT = regex_counter(UNFORMATTED, (r"(\d+) files? already formatted", "{} files"))
IMAGES_COUNT = regex_counter((r"(\d+) of (\d+) containers run a tag-only image", "{} of {} tag-only"))
CHECKOV_COUNT = regex_counter((r"^checkov: (\d+) failures, (\d+) excepted", "{} failures, {} excepted"))
MYPY_COUNT = regex_counter((r"Found (\d+) errors?", "{} errors"), (r"in (\d+) source files?", "{} files"))


def compat_counter(o: Outcome) -> str:
    """Profiles checked and the accepted risks they carry (an out-of-range pin fails the check itself)."""
    profiles = len(re.findall(r"^Compatibility \(", o.output, flags=re.M))
    risks = sum(int(n) for n in re.findall(r"(\d+) accepted risk", o.output))
    # Past due by today's date: a warning here (make test fails only on the lifecycle data's date).
    overdue = len(re.findall(r"^warning: accepted risk ", o.output, flags=re.M))
    return f"{profiles} profiles, {risks} accepted risks" + (f", {overdue} past revisit (warning)" if overdue else "")


CHECKS: list[Check] = [
    # A fresh assembly per run ({out}), so no later check can read templates a failed synth left behind.
    Check("synth", (*SYNTH, "--output", "{out}"), stacks_counter),
    Check("cdk-nag", ("{py}", "-m", "tools.report.synth_summary", "{out}"), nag_counter, needs="synth"),
    Check("cfn-lint", CFN_LINT, files_counter("templates"), needs="synth"),
    # Tag-only images of the synthesized profile's render, by publisher (tools/report/image_report.py prints the table).
    Check("images", ("{py}", "-m", "tools.report.image_report", "{out}"), IMAGES_COUNT, needs="synth"),
    *PYTEST_GROUPS,
    rest_check(PYTEST_GROUPS),
    Check("actionlint", ACTIONLINT, files_counter("workflows")),
    Check("shellcheck", SHELLCHECK, files_counter("scripts")),
    Check("ruff check", ("{bin}/ruff", "check", "--no-cache", "."), RUFF_COUNT),
    Check("ruff format", ("{bin}/ruff", "format", "--no-cache", "--check", "."), FORMAT_COUNT),
    Check("mypy", ("{bin}/mypy",), MYPY_COUNT),
    # Each profile's components against their documented Kubernetes ranges (issue 21); prints every status.
    Check("compatibility", ("{py}", "-m", "tools.report.compatibility"), compat_counter),
    # checkov's securityContext and token checks on every profile's rendered workloads (issue 23).
    Check("checkov", ("{py}", "-m", "tools.report.checkov_k8s"), CHECKOV_COUNT),
]


# ---- running ----


def expand(argv: Sequence[str], root: Path, junit: Path, out: Path) -> tuple[list[str], list[str], list[str]]:
    """The command to run, the files its globs matched (in place), and the globs that matched nothing
    (a check whose globs all match nothing proves nothing, so it fails)."""
    command: list[str] = []
    files: list[str] = []
    empty: list[str] = []
    for token in argv:
        token = token.replace("{py}", PY).replace("{bin}", BIN).replace("{junit}", str(junit))
        token = token.replace("{out}", str(out))
        if token.startswith("glob:"):
            pattern = token.removeprefix("glob:")
            matches = sorted(glob.glob(pattern, root_dir=root))
            command += matches
            files += matches
            empty += [] if matches else [pattern]
        else:
            command.append(token)
    return command, files, empty


def check_env() -> dict[str, str]:
    """The caller's environment plus the Makefile's CDK settings; this interpreter's bin dir first on PATH,
    so the CDK app (`python3 app.py` in cdk.json) runs with the project's packages."""
    env = {**os.environ, **{k: os.environ.get(k, v) for k, v in CDK_ENV.items()}}
    env["PATH"] = os.pathsep.join([BIN, env.get("PATH", "")])
    return env


def run_check(check: Check, root: Path, workdir: Path) -> Result:
    junit = workdir / f"{re.sub(r'[^A-Za-z0-9]+', '-', check.name)}.xml"
    out = workdir / "cdk.out"
    argv, files, empty = expand(check.argv, root, junit, out)
    command = " ".join(argv).replace(BIN + "/", "").replace(PY, "python").replace(str(workdir), "$TMP")
    if empty and not files:
        return Result(check.name, False, "no files", 0.0, command, note=f"nothing matches {', '.join(empty)}")
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            argv, cwd=root, env=check_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        outcome = Outcome(proc.returncode, proc.stdout, files, junit, out)
    except OSError as err:  # the tool is missing: a failed check, not a crash that loses the table
        outcome = Outcome(127, f"{argv[0]}: {err.strerror}", files, junit, out)
    seconds = time.perf_counter() - start
    try:
        count = check.count(outcome)
    except (OSError, ValueError, KeyError, ET.ParseError) as err:
        count = f"unreadable ({type(err).__name__})"
    tail = outcome.output.rstrip().splitlines()[-OUTPUT_TAIL_LINES:]
    note = "" if outcome.returncode == 0 else "\n".join(tail)
    return Result(check.name, outcome.returncode == 0, count, seconds, command, note)


def format_table(results: Sequence[Result]) -> str:
    """One table: check | result | count | time (s), then a total row."""
    failed = sum(1 for r in results if not r.passed)
    summary = f"{failed} of {len(results)} checks failed" if failed else f"{len(results)} checks passed"
    total = Result("total", failed == 0, summary, sum(r.seconds for r in results))
    rows = [(r.name, "pass" if r.passed else "FAIL", r.count, f"{r.seconds:.1f}") for r in [*results, total]]
    header = ("check", "result", "count", "time (s)")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]

    def line(cells: Sequence[str]) -> str:
        padded = [c.ljust(w) for c, w in zip(cells[:3], widths, strict=False)] + [cells[3].rjust(widths[3])]
        return " | ".join(padded)

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows[:-1]), rule, line(rows[-1])])


class SystemExit2(Exception):
    """Bad usage: reported as one line on stderr with exit code 2."""


def select(names: Sequence[str] | None, checks: Sequence[Check]) -> list[Check]:
    if not names:
        return list(checks)
    known = {c.name for c in checks}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit2(f"unknown check {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}")
    # A check that reads another's output brings that check along (cfn-lint needs this run's synth).
    wanted = set(names)
    for check in checks:
        if check.name in wanted and check.needs:
            wanted.add(check.needs)
    return [c for c in checks if c.name in wanted]


def verify(checks: Sequence[Check], root: Path, synth_warnings: list[str] | None = None) -> list[Result]:
    """Run the checks in order; the synth's warnings are appended to `synth_warnings` when given."""
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="verify-") as tmp:
        for check in checks:
            needed = next((r for r in results if r.name == check.needs), None)
            if needed is not None and not needed.passed:
                # Its input (the assembly) is missing or partial: report it rather than check half a result.
                results.append(Result(check.name, False, f"not run: {check.needs} failed", 0.0))
                print(f"==> {check.name}: not run ({check.needs} failed)", flush=True)
                continue
            print(f"==> {check.name}", flush=True)
            result = run_check(check, root, Path(tmp))
            print(f"    {result.command}", flush=True)
            if not result.passed:
                print(f"    FAIL ({result.count}); last lines of its output:", flush=True)
                print("\n".join(f"    | {line}" for line in result.note.splitlines()), flush=True)
            results.append(result)
        assembly = Path(tmp) / "cdk.out"
        if synth_warnings is not None and (assembly / "manifest.json").exists():
            synth_warnings.extend(warnings(assembly))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", help="run only these checks (comma-separated, repeatable)")
    parser.add_argument("--root", type=Path, default=ROOT, help="directory the checks run in (default: repo)")
    parser.add_argument("--list", action="store_true", help="print the checks and their commands; run none")
    args = parser.parse_args(argv)
    names = [n.strip() for item in args.only or [] for n in item.split(",") if n.strip()]
    try:
        checks = select(names, CHECKS)
    except SystemExit2 as err:
        print(f"verify: error: {err}", file=sys.stderr)
        return 2
    if args.list:
        for check in checks:
            print(f"{check.name}\t{' '.join(check.argv)}")
        return 0
    found_warnings: list[str] = []
    results = verify(checks, args.root.resolve(), found_warnings)
    print()
    print(format_table(results))
    # A green table must not hide what synth warned about (placeholder repo, support dates, no admins).
    if found_warnings:
        print(f"\nWarnings from synth ({len(found_warnings)}):")
        print("\n".join(f"  WARNING {w}" for w in found_warnings))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

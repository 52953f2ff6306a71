"""Where one synth's time goes: phase medians of the one-bucket app and each profile, each once more without the
built-in CloudFormation validation and without cdk-nag, so the differences name what each part costs; and `--ab REV
--idea TEXT`: what one change did, as interleaved medians of this tree against REV, recorded in docs/performance.json
(make bench prints the ideas recorded there; make docs shows them)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools._paths import ROOT

# One process per sample, run directly (no CLI: the CLI's own start-up is the same for every app). It prints the
# wall-clock marks it reached, as seconds since the epoch, so the parent can add start-up and exit to them.
RUNNER = """
import json, os, sys, time
marks = {}
mark = lambda name: marks.__setitem__(name, time.time())
mark("started")
app_name, outdir, nag = sys.argv[1], sys.argv[2], sys.argv[3] == "on"
if app_name != "one-bucket":
    # What importing platform_stacks does before aws_cdk loads: the platform's app starts jsii's Node its own way.
    sys.path.insert(0, os.environ["PLATFORM_ROOT"])
    from platform_config.node_runtime import prepare_node
    prepare_node(os.environ)
import aws_cdk as cdk
mark("cdk_imported")
if app_name == "one-bucket":
    mark("nag_imported")  # nothing to import: the phase is zero
    from aws_cdk import aws_s3 as s3
    mark("app_imported")
    app = cdk.App(outdir=outdir)
    s3.Bucket(cdk.Stack(app, "OneBucket"), "Bucket")
else:
    import cdk_nag
    mark("nag_imported")
    from pathlib import Path
    from platform_config.raw_context import app_context
    from platform_stacks.platform_app import build_app
    mark("app_imported")
    context = {**app_context({}, Path(os.environ["PLATFORM_ROOT"]) / "cdk.json"), "release": app_name}
    app = build_app(context, env={}, outdir=outdir, nag=nag).app
mark("built")
app.synth()
mark("synthesized")
print("MARKS " + json.dumps(marks), flush=True)
"""
# (label, from mark, to mark); "spawned" and "exited" are the parent's clock around the child process.
PHASES = (
    ("python start", "spawned", "started"),
    ("import aws_cdk (jsii kernel, aws-cdk-lib)", "started", "cdk_imported"),
    ("import cdk_nag", "cdk_imported", "nag_imported"),
    ("import the app's modules (aws_s3 / ours)", "nag_imported", "app_imported"),
    ("build the construct tree", "app_imported", "built"),
    ("synth (validation, cdk-nag, write)", "built", "synthesized"),
    ("exit (jsii Node process ends)", "synthesized", "exited"),
)
VARIANTS = ("as shipped", "no built-in validation", "no cdk-nag")


@dataclass(frozen=True)
class Sample:
    """The marks of one run of an app in one variant, all on one wall clock."""

    marks: Mapping[str, float]

    def phase(self, start: str, end: str) -> float:
        return self.marks[end] - self.marks[start]

    @property
    def total(self) -> float:
        return self.marks["exited"] - self.marks["spawned"]


def parse_marks(stdout: str, spawned: float, exited: float) -> Sample:
    """The child's marks (the MARKS line) with the parent's spawn and exit times around them."""
    lines = [line for line in stdout.splitlines() if line.startswith("MARKS ")]
    if len(lines) != 1:
        raise ValueError(f"expected one MARKS line from the runner, got {len(lines)}: {stdout[-500:]!r}")
    marks = {"spawned": spawned, **json.loads(lines[0].removeprefix("MARKS ")), "exited": exited}
    missing = [name for _, start, end in PHASES for name in (start, end) if name not in marks]
    if missing:
        raise ValueError(f"the runner did not reach {sorted(set(missing))}")
    return Sample(marks)


def app_env() -> dict[str, str]:
    """This process's environment without the platform's JSII_NODE, for an app under measurement: each app starts
    jsii's Node its own way (the platform's through platform_config/jsii_node.sh, the one-bucket app as jsii does),
    whatever this process has set (importing platform_stacks sets it here); a JSII_NODE of your own is kept."""
    from platform_config.node_runtime import JSII_NODE_VARIABLE, is_jsii_node_script

    return {k: v for k, v in os.environ.items() if not (k == JSII_NODE_VARIABLE and is_jsii_node_script(v))}


def run_once(app: str, variant: str, outdir: Path) -> Sample:
    """One fresh process synthesizing `app` ("one-bucket" or a profile name) in `variant`."""
    env = {**app_env(), "PLATFORM_ROOT": str(ROOT), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env = {k: v for k, v in env.items() if not k.startswith(("CDK_", "AWS_"))}
    if variant == "no built-in validation":
        env["CDK_VALIDATION"] = "false"  # aws-cdk-lib's switch for its CloudFormationValidatePlugin
    nag = "off" if variant == "no cdk-nag" else "on"
    cmd = [sys.executable, "-c", RUNNER, app, str(outdir), nag]
    spawned = time.time()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    exited = time.time()
    if result.returncode != 0:
        raise RuntimeError(f"{app} ({variant}) failed: {result.stderr[-2000:]}")
    return parse_marks(result.stdout, spawned, exited)


def medians(samples: Sequence[Sample]) -> dict[str, float]:
    """Median seconds per phase label, and of the total."""
    out = {label: statistics.median(s.phase(start, end) for s in samples) for label, start, end in PHASES}
    out["total"] = statistics.median(s.total for s in samples)
    return out


def measure(apps: Sequence[str], runs: int, outdir: Path) -> dict[tuple[str, str], dict[str, float]]:
    """Medians per (app, variant); rounds interleave everything so background load falls on all alike."""
    samples: dict[tuple[str, str], list[Sample]] = {}
    for n in range(1, runs + 1):
        for app in apps:
            for variant in VARIANTS if app != "one-bucket" else VARIANTS[:2]:
                print(f"  phases {app} ({variant}) {n}/{runs} ...", end="", flush=True)
                sample = run_once(app, variant, outdir / app)
                print(f" {sample.total:.1f} s", flush=True)
                samples.setdefault((app, variant), []).append(sample)
    return {key: medians(found) for key, found in samples.items()}


def table(results: Mapping[tuple[str, str], Mapping[str, float]], apps: Sequence[str]) -> str:
    """Phases as rows, apps as columns (as shipped), then what validation and cdk-nag cost (the differences)."""
    width = max(len(label) for label, _, _ in PHASES) + 2
    head = "".join(f"{app:>12}" for app in apps)
    rows = [f"{'phase (seconds, median)':<{width}}{head}"]
    for label, _, _ in (*PHASES, ("total", "", "")):
        rows.append(f"{label:<{width}}" + "".join(f"{results[(app, VARIANTS[0])][label]:>12.2f}" for app in apps))
    for variant, what in (("no built-in validation", "built-in validation"), ("no cdk-nag", "cdk-nag rules")):
        cells = []
        for app in apps:
            if (app, variant) in results:
                cells.append(f"{results[(app, VARIANTS[0])]['total'] - results[(app, variant)]['total']:>12.2f}")
            else:
                cells.append(f"{'-':>12}")
        rows.append(f"{'of the total: ' + what:<{width}}" + "".join(cells))
    return "\n".join(rows)


# Measurements recorded for the docs (tools/generate/gen_docs.py renders docs/performance.md's figures from this file).
RECORD = ROOT / "docs" / "performance.json"
# What a checkout shares with this tree instead of installing again (make deps and make charts fill them).
SHARED = (".venv", ".tools", ".charts", "node_modules", ".cdk-home")
ONE_BUCKET = (
    "import aws_cdk as cdk\nfrom aws_cdk import aws_s3 as s3\n"
    "app = cdk.App()\ns3.Bucket(cdk.Stack(app, 'OneBucket'), 'Bucket')\napp.synth()\n"
)


def checkout(rev: str, into: Path) -> Path:
    """`rev`'s files (git archive, no worktree: the repository is not touched) sharing this tree's installed tools."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    for name in SHARED:
        if (ROOT / name).exists():
            (into / name).symlink_to((ROOT / name).resolve())
    return into


def adopt_orphans(on: bool = True) -> None:
    """Become (or stop being) the child subreaper (Linux): a process an app leaves running (jsii's Node winding down
    after app.py exited) is re-parented here, so reaping it counts its CPU. Elsewhere, such CPU goes uncounted."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, int(on), 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def children() -> set[int]:
    """This process's children now (Linux /proc; empty elsewhere)."""
    found: set[int] = set()
    for task in Path("/proc/self/task").glob("*/children"):
        try:
            found.update(int(pid) for pid in task.read_text().split())
        except OSError:
            continue
    return found


def reap(known: set[int]) -> None:
    """Wait for every child that was not one of `known` (the adopted ones), so RUSAGE_CHILDREN holds their CPU; a
    child of our own (jsii's Node of an in-process build) is left alone."""
    while adopted := children() - known:
        for pid in adopted:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                known.add(pid)


def run_app(tree: Path, outdir: Path) -> tuple[float, float]:
    """One `python app.py` in `tree` (no CLI), writing to `outdir`: (wall seconds until the app exits, CPU seconds of
    it and every process it started, including any still running when it exited)."""
    env = {k: v for k, v in app_env().items() if not k.startswith(("CDK_", "AWS_"))}
    env |= {"CDK_OUTDIR": str(outdir), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    known = children()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "app.py"], cwd=tree, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    reap(known)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(outdir, ignore_errors=True)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def ab(trees: Mapping[str, Path], runs: int, scratch: Path) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) of each tree's app.py, rounds interleaved so background load falls on all of them alike."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    for n in range(1, runs + 1):
        for name, tree in trees.items():
            print(f"  a/b {name} {n}/{runs} ...", end="", flush=True)
            samples[name].append(run_app(tree, scratch / f"out-{name}-{n}"))
            print(f" {samples[name][-1][0]:.1f} s, {samples[name][-1][1]:.1f} s CPU", flush=True)
    return {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in samples.items()}


def recorded() -> dict[str, Any]:
    return dict(json.loads(RECORD.read_text())) if RECORD.is_file() else {}


def record(section: str, value: Any) -> None:
    """Replace one section of docs/performance.json (ideas are kept by name: a new measurement replaces the old)."""
    data = recorded()
    if section == "ideas":
        data["ideas"] = [i for i in data.get("ideas", []) if i["idea"] != value["idea"]] + [value]
    else:
        data[section] = value
    RECORD.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def idea_rows(ideas: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per recorded idea: its CPU and wall effect on one profile's synth (medians, the app run directly)."""
    rows = []
    for i in ideas:
        (bw, bc), (cw, cc) = i["base"], i["changed"]
        rows.append(
            f"{i['idea']}: CPU {bc:.2f} -> {cc:.2f} s ({cc - bc:+.2f} s, {100 * (cc - bc) / bc:+.0f}%), wall "
            f"{bw:.2f} -> {cw:.2f} s ({cw - bw:+.2f} s); {i['runs']} interleaved rounds, release={i['release']}, "
            f"{i['date']}" + (f"; {i['note']}" if i.get("note") else "")
        )
    return rows


def missed_targets(bench: Mapping[str, Any]) -> list[str]:
    """The figures past make bench's targets (its own constants), judged as recorded: bench judges its run with this
    too, so the page and bench's exit status never disagree."""
    from tools.report import bench as targets  # imported here: bench imports this module

    base_wall = bench["synth"]["one-bucket"][0]
    missed = [
        f"synth release={name} {wall / base_wall:.2f}x > {targets.SYNTH_RATIO_TARGET:g}x"
        for name, (wall, _cpu) in sorted(bench["synth"].items())
        if not name.startswith("one-bucket") and wall / base_wall > targets.SYNTH_RATIO_TARGET
    ]
    if bench.get("suite") is not None and bench["suite"] > targets.SUITE_TARGET_S:
        missed.append(f"suite {bench['suite']:.1f} s > {targets.SUITE_TARGET_S:g} s")
    if bench["cost"][1] > targets.COST_PLAN_TARGET_S:
        missed.append(f"cost plan {bench['cost'][1]:.1f} s > {targets.COST_PLAN_TARGET_S:g} s")
    if bench.get("upgrade_plan") is not None and bench["upgrade_plan"] > targets.UPGRADE_PLAN_TARGET_S:
        missed.append(f"upgrade plan {bench['upgrade_plan']:.1f} s > {targets.UPGRADE_PLAN_TARGET_S:g} s")
    return missed


def markdown(data: Mapping[str, Any] | None = None) -> str:
    """docs/performance.md's measured figures, from docs/performance.json only (no figure typed by hand)."""
    data = recorded() if data is None else data
    lines = [
        "<!-- generated by tools/generate/gen_docs.py (make docs) from docs/performance.json "
        "(python -m tools.report.bench --record; python -m tools.report.synth_phases --ab): edit there -->"
    ]
    bench = data.get("bench")
    if bench:
        base_w, base_c = bench["synth"]["one-bucket"]
        lines += [
            "",
            f"Recorded {bench['date']} ({bench['machine']}; 1-minute load {bench['load']:.1f}), medians of "
            f"{bench['runs']} interleaved rounds through the pinned CLI:",
            "",
            "| app | wall (s) | x one-bucket | CPU user+sys (s) | x one-bucket |",
            "|---|---|---|---|---|",
        ]
        apps = sorted(bench["synth"], key=lambda app: (not app.startswith("one-bucket"), app))  # baselines first
        for name in apps:
            wall, cpu = bench["synth"][name]
            lines.append(f"| {name} | {wall:.2f} | {wall / base_w:.2f} | {cpu:.2f} | {cpu / base_c:.2f} |")
        same = next((bench["synth"][app] for app in apps if app.startswith("one-bucket,")), None)
        if same:
            ratios = ", ".join(
                f"{app} {bench['synth'][app][0] / same[0]:.2f}x" for app in apps if not app.startswith("one-bucket")
            )
            lines += [
                "",
                f"The target's ratio is to the one-bucket app as anybody writes it (jsii starts Node its own way); "
                f"given the platform's Node settings too, it takes {same[0]:.2f} s and the profiles take {ratios} "
                "of that: the platform's own share.",
            ]
        labels = [label for label, _, _ in PHASES] + ["total"]
        apps = [app for app in apps if f"{app}|{VARIANTS[0]}" in bench["phases"]]  # the reference row has none
        shipped = {app: bench["phases"][f"{app}|{VARIANTS[0]}"] for app in apps}
        lines += [
            "",
            f"Where one synth's time goes (seconds, median of {bench['phase_runs']}, the app run directly):",
            "",
            "| phase | " + " | ".join(apps) + " |",
            "|---|" + "---|" * len(apps),
        ]
        lines += [f"| {lab} | " + " | ".join(f"{shipped[a][lab]:.2f}" for a in apps) + " |" for lab in labels]
        for variant, what in (("no built-in validation", "built-in validation"), ("no cdk-nag", "cdk-nag rules")):
            cells = [
                f"{shipped[a]['total'] - bench['phases'][f'{a}|{variant}']['total']:.2f}"
                if f"{a}|{variant}" in bench["phases"]
                else "-"
                for a in apps
            ]
            lines.append(f"| of the total: {what} | " + " | ".join(cells) + " |")
        render_s, plan_s = bench["cost"]
        lines += [
            "",
            f"`make cost` on a warm tree: the render it reuses {render_s:.1f} s, the plan itself {plan_s:.1f} s.",
        ]
        if bench.get("suite") is not None:
            loop = bench.get("host_loop") or []
            host = (
                f" A fixed Python loop (`bench.host_loop_s`) took {loop[0]:.2f} s just before the runs and "
                f"{loop[1]:.2f} s just after: the same work, so a slower loop means a busier host at that moment "
                "(not proof of the minutes between)."
                if len(loop) == 2
                else ""
            )
            runs = bench.get("suite_runs") or []
            how = f"median of {len(runs)} runs: {', '.join(f'{x:.1f}' for x in runs)} s" if runs else "one run"
            lines += ["", f"The suite (`make unit`, both profiles, {how}): {bench['suite']:.1f} s.{host}"]
        missed = missed_targets(bench)
        lines += [
            "",
            f"Targets this record misses: {'; '.join(missed)}." if missed else "This record meets every target.",
        ]
    ideas = data.get("ideas", [])
    if ideas:
        lines += [
            "",
            "Ideas tried (one profile's `python app.py` against the commit before the idea, interleaved rounds, "
            "medians):",
            "",
            "| idea | CPU before (s) | CPU after (s) | CPU change | wall before (s) | wall after (s) | rounds | date "
            "| note |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for i in ideas:
            (bw, bc), (cw, cc) = i["base"], i["changed"]
            lines.append(
                f"| {i['idea']} | {bc:.2f} | {cc:.2f} | {cc - bc:+.2f} s ({100 * (cc - bc) / bc:+.0f}%) | {bw:.2f} "
                f"| {cw:.2f} | {i['runs']} | {i['date']} | {i.get('note', '')} |"
            )
    return "\n".join(lines) + "\n"


def measure_steps(base: str, steps: Sequence[tuple[str, str]], runs: int, notes: Mapping[str, str]) -> list[Any]:
    """Each step (a revision, or "." for this tree, and the idea it adds) against the step before it, all trees
    interleaved with the one-bucket app in every round; the entries recorded for the ideas."""
    from platform_config.raw_context import app_context

    adopt_orphans()
    release = str(app_context({}, ROOT / "cdk.json").get("release"))
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        (scratch / "one-bucket").mkdir()
        (scratch / "one-bucket" / "app.py").write_text(ONE_BUCKET)
        revs = [base, *(rev for rev, _ in steps)]
        trees = {"one-bucket": scratch / "one-bucket"}
        trees |= {rev: ROOT if rev == "." else checkout(rev, scratch / f"tree-{n}") for n, rev in enumerate(revs)}
        found = ab(trees, runs, scratch)
    entries = []
    for before, (rev, idea) in zip(revs[:-1], steps, strict=True):
        entries.append(
            {
                "idea": idea,
                "base_rev": before,
                "changed_rev": rev,
                "release": release,
                "runs": runs,
                "date": dt.date.today().isoformat(),
                "one_bucket": [round(x, 2) for x in found["one-bucket"]],
                "base": [round(x, 2) for x in found[before]],
                "changed": [round(x, 2) for x in found[rev]],
                "note": notes.get(idea, ""),
            }
        )
    return entries


def main(argv: list[str] | None = None) -> int:
    from platform_config.versions import PROFILES

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ab", metavar="REV", help="the revision before the first idea")
    parser.add_argument(
        "--step",
        action="append",
        default=[],
        metavar="REV=IDEA",
        help="with --ab: a revision ('.' for this tree) and the idea it adds; each is measured against the one before",
    )
    parser.add_argument("--note", action="append", default=[], metavar="IDEA=TEXT", help="what the figures miss")
    args = parser.parse_args(argv)
    if args.ab:
        steps = [tuple(step.split("=", 1)) for step in args.step]
        if not steps or any(len(step) != 2 for step in steps):
            parser.error("--ab needs at least one --step REV=IDEA")
        notes = dict(note.split("=", 1) for note in args.note)
        entries = measure_steps(args.ab, [(rev, idea) for rev, idea in steps], args.runs, notes)
        for entry in entries:
            record("ideas", entry)
        print("\n".join(idea_rows(entries)))
        return 0
    apps = ("one-bucket", *sorted(PROFILES))
    with tempfile.TemporaryDirectory() as out:
        results = measure(apps, args.runs, Path(out))
    print(table(results, apps))
    return 0


if __name__ == "__main__":
    sys.exit(main())

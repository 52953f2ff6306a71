"""Where one synth's time goes: phase medians of the one-bucket app and each profile, each once more without the
built-in CloudFormation validation and without cdk-nag, so the differences name what each part costs."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tools._paths import ROOT

# One process per sample, run directly (no CLI: the CLI's own start-up is the same for every app). It prints the
# wall-clock marks it reached, as seconds since the epoch, so the parent can add start-up and exit to them.
RUNNER = """
import json, os, sys, time
marks = {}
mark = lambda name: marks.__setitem__(name, time.time())
mark("started")
app_name, outdir, nag = sys.argv[1], sys.argv[2], sys.argv[3] == "on"
import aws_cdk as cdk
mark("cdk_imported")
if app_name == "one-bucket":
    mark("nag_imported")  # nothing to import: the phase is zero
    from aws_cdk import aws_s3 as s3
    mark("app_imported")
    app = cdk.App(outdir=outdir)
    s3.Bucket(cdk.Stack(app, "OneBucket"), "Bucket")
else:
    sys.path.insert(0, os.environ["PLATFORM_ROOT"])
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


def run_once(app: str, variant: str, outdir: Path) -> Sample:
    """One fresh process synthesizing `app` ("one-bucket" or a profile name) in `variant`."""
    env = {**os.environ, "PLATFORM_ROOT": str(ROOT), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
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


def main(runs: int = 3) -> int:
    from platform_config.versions import PROFILES

    apps = ("one-bucket", *sorted(PROFILES))
    with tempfile.TemporaryDirectory() as out:
        results = measure(apps, runs, Path(out))
    print(table(results, apps))
    return 0


if __name__ == "__main__":
    sys.exit(main())

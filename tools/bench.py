"""`make bench`: median `cdk synth` per release profile beside a one-bucket Python CDK app through the same CLI,
and the test suite. Targets: one profile's synth within 1.25x the one-bucket app's; the suite within 90 s."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repo root holds platform_config
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from platform_config.versions import PROFILES

ROOT = Path(__file__).resolve().parent.parent
CDK = [str(ROOT / "node_modules" / ".bin" / "cdk")]
FLAGS = ["synth", "--quiet", "--no-notices", "--no-version-reporting"]
# The smallest Python CDK app: what every synth pays for (node, the CLI, python, jsii, aws-cdk-lib).
ONE_BUCKET_APP = """
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

app = cdk.App()
stack = cdk.Stack(app, "OneBucket")
s3.Bucket(stack, "Bucket")
app.synth()
"""
SYNTH_RATIO_TARGET = 1.25
SUITE_TARGET_S = 90.0


def timed(cmd: list[str], cwd: Path = ROOT) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_synth(cmd: list[str], cwd: Path, runs: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        return statistics.median(timed([*cmd, "--output", out], cwd) for _ in range(runs))


def main(runs: int = 5) -> int:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as app_dir:
        (Path(app_dir) / "app.py").write_text(ONE_BUCKET_APP)
        baseline = median_synth([*CDK, *FLAGS, "--app", f"{sys.executable} app.py"], Path(app_dir), runs)
    for name in sorted(PROFILES):
        results[name] = median_synth([*CDK, *FLAGS, "-c", f"release={name}"], ROOT, runs)
    env = dict(os.environ)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ROOT, check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    suite = time.perf_counter() - start
    ok = suite <= SUITE_TARGET_S
    print(f"cdk synth, one-bucket Python app (same CLI), median of {runs}: {baseline:.1f} s")
    for name, seconds in results.items():
        ratio = seconds / baseline
        ok = ok and ratio <= SYNTH_RATIO_TARGET
        print(
            f"cdk synth, release={name}, median of {runs}: {seconds:.1f} s = {ratio:.2f}x the one-bucket app "
            f"(target <= {SYNTH_RATIO_TARGET}x)"
        )
    print(f"test suite (pytest, both profiles), 1 run: {suite:.1f} s (target <= {SUITE_TARGET_S:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: median wall time of `cdk synth` (5 runs) and of the test suite (targets: 10 s and 60 s)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(label: str, cmd: list[str]) -> float:
    """Run cmd quietly and return its wall time, printing a progress line before and after."""
    print(f"  {label} ...", end="", flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    print(f" {seconds:.1f} s", flush=True)
    return seconds


def main(runs: int = 5) -> None:
    print(f"bench: {runs} runs of cdk synth, then one run of the test suite", flush=True)
    with tempfile.TemporaryDirectory() as out:
        synth = [
            timed(
                f"cdk synth {n}/{runs}",
                ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--output", out],
            )
            for n in range(1, runs + 1)
        ]
    tests = [timed("test suite 1/1", [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"])]
    print(f"cdk synth, median of {runs}: {statistics.median(synth):.1f} s (target <= 10 s)")
    print(f"test suite (pytest), 1 run: {statistics.median(tests):.1f} s (target <= 60 s)")


if __name__ == "__main__":
    main()

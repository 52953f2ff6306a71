"""`make bench`: median wall time of `cdk synth` (5 runs) and of the test suite (targets: 10 s and 60 s)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(runs: int = 5) -> None:
    with tempfile.TemporaryDirectory() as out:
        synth = [
            timed(["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--output", out])
            for _ in range(runs)
        ]
    tests = [timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]) for _ in range(1)]
    print(f"cdk synth, median of {runs}: {statistics.median(synth):.1f} s (target <= 10 s)")
    print(f"test suite (pytest), 1 run: {statistics.median(tests):.1f} s (target <= 60 s)")


if __name__ == "__main__":
    main()

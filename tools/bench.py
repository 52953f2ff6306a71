"""`make bench`: median wall time of `cdk synth` (5 runs) and of the test suite (targets: 10 s and 60 s)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(label: str, cmd: list[str], output: list[str] | None = None) -> float:
    """Run cmd quietly and return its wall time, printing a progress line before and after (stdout goes to
    `output` when given)."""
    print(f"  {label} ...", end="", flush=True)
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    print(f" {seconds:.1f} s", flush=True)
    if output is not None:
        output.append(result.stdout)
    return seconds


def slowest(pytest_output: str, count: int = 8) -> list[str]:
    """The first lines of pytest's --durations report (setup = session fixtures such as the synth and render)."""
    lines = pytest_output.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if "slowest" in line and "durations" in line)
    except StopIteration:
        return []
    return [line for line in lines[start + 1 :] if line.strip() and line[0].isdigit()][:count]


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
    output: list[str] = []
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=8"]
    suite = timed("test suite 1/1", pytest, output)
    print(f"cdk synth, median of {runs}: {statistics.median(synth):.1f} s (target <= 10 s)")
    print(f"test suite (pytest), 1 run: {suite:.1f} s (target <= 60 s)")
    print("slowest steps of the suite (setup = session synth and render):")
    for line in slowest(output[0]):
        print(f"  {line}")


if __name__ == "__main__":
    main()

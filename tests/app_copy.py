"""A throwaway copy of the repository with a cdk.json of the test's choosing, for tests that run app.py or the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Local state and caches, as in .gitignore: none of it is part of the app.
_IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "cdk.out", ".cdk-home", ".tools", "__pycache__", "*.pyc", ".*_cache"
)


def app_copy(dest: Path, context: dict[str, Any]) -> Path:
    """Copy the repository to dest, write cdk.json with `context`, link the installed CLI; return dest."""
    shutil.copytree(ROOT, dest, ignore=_IGNORED)
    cdk_json = json.loads((ROOT / "cdk.json").read_text())
    cdk_json["context"] = context
    (dest / "cdk.json").write_text(json.dumps(cdk_json, indent=2) + "\n")
    (dest / "node_modules").symlink_to(ROOT / "node_modules")
    return dest

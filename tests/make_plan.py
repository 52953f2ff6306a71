"""What `make` would run (`make -n`), read the same way by every test that checks a target's plan."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import ROOT


def make_env() -> dict[str, str]:
    """The environment without the calling make's flags (under `make test` they add "Entering directory")."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}


def make_dry_run(target: str, *args: str) -> str:
    """The commands `make <target> <args>` would run, one per line, without running them."""
    cmd = ["make", "--no-print-directory", "-n", target, *args]
    result = subprocess.run(cmd, cwd=ROOT, env=make_env(), capture_output=True, text=True, check=True)
    return result.stdout

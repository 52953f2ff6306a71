"""What `make` would run (`make -n`), read the same way by every test that checks a target's plan."""

from __future__ import annotations

import os
import re
import subprocess

from tests.conftest import ROOT

# The Makefile's settable variables (`NAME ?= ...`): one exported in the developer's shell (RELEASE=seed, say)
# would change every plan.
MAKEFILE_VARIABLES = frozenset(re.findall(r"^([A-Z_]+) \?=", (ROOT / "Makefile").read_text(), re.M))


def make_env() -> dict[str, str]:
    """The environment without the calling make's flags (under `make test` they add "Entering directory") and
    without the Makefile's own variables, so a plan depends on the arguments given only."""
    drop = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", *MAKEFILE_VARIABLES}
    return {k: v for k, v in os.environ.items() if k not in drop}


def make_dry_run(target: str, *args: str) -> str:
    """The commands `make <target> <args>` would run, one per line, without running them."""
    cmd = ["make", "--no-print-directory", "-n", target, *args]
    result = subprocess.run(cmd, cwd=ROOT, env=make_env(), capture_output=True, text=True, check=True)
    return result.stdout

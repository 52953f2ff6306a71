"""Make variables given on the command line that name a context key: printed as "NAME key" (empty when none).

make would ignore them silently (settings are context keys, passed as ARGS="-c key=value"); the Makefile stops
on the first one this prints. The Makefile's own variables (`NAME ?=`, such as RELEASE) are never settings.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from platform_config.config import known_keys
from tools._paths import ROOT

MAKEFILE_VARIABLE_RE = re.compile(r"^([A-Z_]+) \?=", re.M)


def makefile_variables(makefile: Path = ROOT / "Makefile") -> frozenset[str]:
    """The Makefile's settable variables (`NAME ?= ...`)."""
    return frozenset(MAKEFILE_VARIABLE_RE.findall(makefile.read_text()))


def setting_like(names: list[str]) -> list[tuple[str, str]]:
    """(variable, context key) for each name that is not the Makefile's own and is a context key in any case."""
    keys, own = known_keys(), makefile_variables()
    return [(name, name.lower()) for name in names if name not in own and name.lower() in keys]


def main(argv: list[str]) -> int:
    for name, key in setting_like(argv)[:1]:
        print(name, key)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

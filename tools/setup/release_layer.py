"""Installs the kubectl layer package an upgrade step's Kubernetes minor needs (pinned in platform_config/
eks_rules.py), so `make synth RELEASE=<step>` builds it; the profiles' own layers come from requirements.txt."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import subprocess
import sys

from platform_config.versions import UnbuildableStep, release_profile
from tools._paths import ROOT


def requirement_of(release: str) -> str | None:
    """The layer requirement (`name==version`) of `release`; None when the name is no profile (the app refuses it)."""
    try:
        return release_profile(release).kubernetes.kubectl_layer_package
    except (KeyError, UnbuildableStep):
        return None  # the app's own check names the key, the value and what is accepted


def missing(requirement: str) -> bool:
    """True when the pinned version of the layer is not the installed one."""
    name, _, version = requirement.partition("==")
    try:
        return importlib.metadata.version(name) != version
    except importlib.metadata.PackageNotFoundError:
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--release", default="", help="the release profile (default: cdk.json's `release`)")
    args = parser.parse_args(argv)
    release = args.release or json.loads((ROOT / "cdk.json").read_text()).get("context", {}).get("release", "")
    requirement = requirement_of(release) if release else None
    if requirement is None or not missing(requirement):
        return 0
    print(f"release {release}: installing its kubectl layer {requirement} (platform_config/eks_rules.py pins it)")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement]
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())

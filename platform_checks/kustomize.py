"""kustomize_build: what ArgoCD would apply from a directory, built with the profile's pinned kubectl (offline)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from platform_checks.layer_tools import extract
from platform_config import yaml_load
from platform_config.versions import DEFAULT_PROFILE


def kustomize_build(directory: Path, profile: str = DEFAULT_PROFILE) -> list[dict[str, Any]]:
    """The non-empty documents `kubectl kustomize <directory>` prints; RuntimeError with kubectl's stderr."""
    kubectl = extract(profile)["kubectl"]
    result = subprocess.run(
        [str(kubectl), "kustomize", str(directory)], capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {directory} failed: {result.stderr.strip()}")
    return [doc for doc in yaml_load.safe_load_all(result.stdout) if doc]

"""kustomize_build: what ArgoCD would apply from a directory, built with the pinned kubectl 1.29 (offline)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tools.layer_bin import extract


def kustomize_build(directory: Path) -> list[dict[str, Any]]:
    """The non-empty documents `kubectl kustomize <directory>` prints; RuntimeError with kubectl's stderr."""
    kubectl = extract()["kubectl"]
    result = subprocess.run(
        [str(kubectl), "kustomize", str(directory)], capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {directory} failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

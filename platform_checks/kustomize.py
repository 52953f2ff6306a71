"""kustomize_build: what ArgoCD would apply from a directory, built with the profile's pinned kubectl (offline)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from platform_checks.layer_tools import extract
from platform_checks.render_cache import cached_render, file_digest
from platform_config import yaml_load
from platform_config.versions import DEFAULT_PROFILE

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# The kustomization fields that name other directories or files to load (patches and generator files must lie
# under the kustomization's own directory: kustomize's default load restrictor).
REFERENCE_FIELDS = ("resources", "bases", "components", "generators", "transformers", "validators")


def kustomize_build(directory: Path, profile: str = DEFAULT_PROFILE) -> list[dict[str, Any]]:
    """The non-empty documents `kubectl kustomize <directory>` prints; RuntimeError with kubectl's stderr. With
    RENDER_CACHE_ENV set, a build of the same inputs (kubectl and every file the build can read) is read from there."""
    kubectl = extract(profile)["kubectl"]
    cmd = [str(kubectl), "kustomize", str(directory)]

    def build() -> list[dict[str, Any]]:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"kubectl kustomize {directory} failed: {result.stderr.strip()}")
        return [doc for doc in yaml_load.safe_load_all(result.stdout) if doc]

    inputs = build_inputs(directory)
    if inputs is None:
        return build()
    parts = [file_digest(kubectl), *(f"{os.path.relpath(p, directory.resolve())}:{file_digest(p)}" for p in inputs)]
    return cached_render("kustomize-" + hashlib.sha256(json.dumps(parts).encode()).hexdigest(), build)


def build_inputs(directory: Path) -> list[Path] | None:
    """Every file a build of `directory` can read: each file under every kustomization directory it reaches
    through REFERENCE_FIELDS, and each file those fields name; None when it names anything but a local path."""
    files: set[Path] = set()
    pending, seen = [directory.resolve()], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        files.update(p for p in current.rglob("*") if p.is_file())
        found = [current / name for name in KUSTOMIZATION_FILES if (current / name).is_file()]
        spec = (yaml_load.safe_load(found[0].read_text()) or {}) if found else {}
        for field in REFERENCE_FIELDS:
            for entry in spec.get(field) or []:
                if not isinstance(entry, str) or "://" in entry or "?" in entry or entry.startswith("github.com/"):
                    return None
                target = (current / entry).resolve()
                if target.is_dir():
                    pending.append(target)
                elif target.is_file():
                    files.add(target)
                else:
                    return None  # kubectl names what is missing
    return sorted(files)

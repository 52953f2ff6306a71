"""One synth per input for a whole pytest run: its processes (xdist workers, the pytest sessions a test runs in a
repository copy) share each profile's assembly, keyed by the context and the content of every file a synth reads."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

from platform_checks.render_cache import stored

# The directory of finished synths of one pytest run (set by its first process, like the render cache); unset,
# every call synthesizes.
SYNTH_CACHE_ENV = "EKS_PLATFORM_SYNTH_CACHE"
# What a synth does not read: the suite itself (its context is part of the key), documents, outputs and tool caches
# (and every directory whose name starts with a dot).
NOT_READ = frozenset({"tests", "docs", "cdk.out", "node_modules", "__pycache__"})
NOT_READ_SUFFIXES = (".md",)


def _inputs(root: Path) -> Iterator[Path]:
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in NOT_READ and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(NOT_READ_SUFFIXES):
                yield Path(directory, name)


def synth_key(root: Path, context: dict[str, Any], today: str) -> str:
    """What a synth of the app in `root` depends on: every file it can read, the context, the date, the CDK."""
    digest = hashlib.sha256()
    digest.update(json.dumps([context, today, version("aws-cdk-lib"), version("cdk-nag")], sort_keys=True).encode())
    for path in _inputs(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def shared_synth(
    outdir: Path, key: str, synth: Callable[[Path], dict[str, dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """The templates of the assembly in `outdir`, synthesized there by `synth`; with SYNTH_CACHE_ENV set, a finished
    synth of the same key is copied there instead (one process synthesizes while the others wait for it)."""
    store = os.environ.get(SYNTH_CACHE_ENV)
    if not store:
        return synth(outdir)
    entry = Path(store) / key
    with open(entry.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (entry / "templates.json").exists():
            shutil.copytree(entry / "assembly", outdir, dirs_exist_ok=True)
            templates: dict[str, dict[str, Any]] = json.loads((entry / "templates.json").read_text())
            return templates
        templates = synth(outdir)
        partial = entry.with_suffix(f".{os.getpid()}.tmp")
        shutil.copytree(outdir, partial / "assembly")
        (partial / "templates.json").write_text(json.dumps(templates))
        partial.replace(entry)
        return templates


def shared_result(key: str, compute: Callable[[], Any]) -> Any:
    """A JSON result computed once per pytest run and key (one process computes it while the others wait for it);
    computed on every call without SYNTH_CACHE_ENV."""
    store = os.environ.get(SYNTH_CACHE_ENV)
    if not store:
        return compute()
    return stored(Path(store) / f"{key}.json", compute, dumps=lambda v: json.dumps(v).encode(), loads=json.loads)


def shared_dir(name: str, build: Callable[[Path], None]) -> Path:
    """A directory `build` filled once per pytest run and name (one process builds it while the others wait for
    it), for a module fixture whose tests xdist may hand to different workers; a new directory per call without
    SYNTH_CACHE_ENV."""
    store = os.environ.get(SYNTH_CACHE_ENV)
    if not store:
        build(path := Path(tempfile.mkdtemp(prefix=f"{name}-")))
        return path
    path = Path(store) / name
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (path / ".built").exists():
            shutil.rmtree(path, ignore_errors=True)  # a build that failed in another process
            path.mkdir()
            build(path)
            (path / ".built").touch()
        return path

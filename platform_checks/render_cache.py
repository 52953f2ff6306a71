"""Finished renders (helm template, kustomize build) shared by the processes of one run: keyed by everything the
render reads, written once, read by the others; a refused render is never stored."""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

# A directory of finished renders (the suite sets it for one run, so its workers and the repository copies it runs
# share each render); unset, every call renders.
RENDER_CACHE_ENV = "EKS_PLATFORM_RENDER_CACHE"
T = TypeVar("T")


@cache
def _file_digest(path: Path, size: int, mtime_ns: int, inode: int) -> str:
    store = os.environ.get(RENDER_CACHE_ENV)
    if not store:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    # The Helm and kubectl binaries are about 50 MB each: the run's processes hash each file once between them.
    stamp = hashlib.sha256(f"{path.resolve()}:{size}:{mtime_ns}:{inode}".encode()).hexdigest()
    entry = Path(store) / f"digest-{stamp}"
    if entry.exists():
        return entry.read_text()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    # Renders run in threads: each writer gets its own temporary name, and the rename is atomic.
    partial = entry.with_name(f"{entry.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    partial.write_text(digest)
    partial.replace(entry)
    return digest


def file_digest(path: Path) -> str:
    """sha256 of a file, hashed again whenever its size, modification time or inode changes."""
    stat = path.stat()
    return _file_digest(path, stat.st_size, stat.st_mtime_ns, stat.st_ino)


def stored(entry: Path, compute: Callable[[], T], *, dumps: Callable[[T], bytes], loads: Callable[[bytes], T]) -> T:
    """The value written at `entry`, or compute() written there first: one process computes while the others wait
    on the entry's lock; an exception from compute() writes nothing."""
    with open(entry.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if entry.exists():
            return loads(entry.read_bytes())
        value = compute()
        partial = entry.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(dumps(value))
        partial.replace(entry)
        return value


def cached_render(key: str, render: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """render(), or with RENDER_CACHE_ENV set the stored result of the same key (one process renders while the
    others wait for it); an exception from render() stores nothing."""
    store = os.environ.get(RENDER_CACHE_ENV)
    if not store:
        return render()
    return stored(Path(store) / f"{key}.pickle", render, dumps=pickle.dumps, loads=pickle.loads)

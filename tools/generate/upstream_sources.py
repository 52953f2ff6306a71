"""Every upstream file the derivation reads is pinned in upstream_facts/sources.json (repo, commit, path, git blob
id) and used only when its bytes hash to that blob id, whether it comes from ../shared/upstream (an offline cache),
.upstream-cache/, a local clone (--git) or the raw file URL at the pinned commit."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tools._paths import ROOT

LOCK = ROOT / "upstream_facts" / "sources.json"
CACHE = ROOT / ".upstream-cache"
# Overridable so tests (and mirrors) point them elsewhere: the raw file of <owner>/<name> at <commit>/<path>, and
# the git remote `git ls-remote` asks which commit a tag or branch names.
RAW_BASE = os.environ.get("UPSTREAM_RAW_BASE", "https://raw.githubusercontent.com")
GIT_BASE = os.environ.get("UPSTREAM_GIT_BASE", "https://github.com")
HTTP_TIMEOUT_S = 60
MAX_FILE_BYTES = 32 * 1024 * 1024  # the largest upstream file used is a 1.4 MB CRD
BUMP_HINT = "run `make derive` (it locks the new pins' upstream files in upstream_facts/sources.json)"


class UpstreamError(Exception):
    """One line naming the file, where it was looked for and what to do."""


def git_blob_id(data: bytes) -> str:
    """`git hash-object` of a file: sha1 of `blob <len>\\0` + its bytes (the id upstream's git tree records)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One pinned upstream file: `file` is its local name (`<upstream>-<version>/<path>`)."""

    file: str
    repo: str  # github.com/<owner>/<name>
    ref: str  # "tag v1.0.14" or "branch release-v1.0.14 (...)": what the commit was taken from, for readers
    commit: str
    path: str
    blob: str
    sha256: str
    license: str

    def check(self, data: bytes, where: str) -> bytes:
        blob = git_blob_id(data)
        if blob != self.blob:
            raise UpstreamError(
                f"{self.file}: refused the copy from {where}: git blob {blob}, upstream_facts/sources.json records "
                f"{self.blob} ({self.repo} {self.commit[:12]}:{self.path}); `make derive` uses only the locked bytes"
            )
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise UpstreamError(
                f"{self.file}: refused the copy from {where}: its sha256 differs from the lock's; "
                "`make derive` uses only the locked bytes"
            )
        return data


@dataclass(frozen=True)
class Origin:
    """Where a file the derivation wants lives upstream before it is locked: repository, ref name, path."""

    repo: str
    ref: str
    path: str
    license: str


def owner_name(repo: str) -> str:
    """`github.com/aws/karpenter-provider-aws` -> `aws/karpenter-provider-aws`."""
    return repo.removeprefix("https://").removeprefix("github.com/").removesuffix(".git")


# ../shared/upstream's folders of many repositories and refs (MANIFEST.md: `<folder>/<repo short name>/<ref>/<path>`).
MIRRORS = ("lifecycle", "pricing")


def exported_folder(name: str) -> str:
    """The folder of one repository at one ref that holds a local name: `<upstream>-<version>` or, in a mirror,
    `<folder>/<repo short name>/<ref>` (so a new Karpenter tag's files are not taken as absent from the old one's)."""
    parts = name.split("/")
    return "/".join(parts[:3]) if parts[0] in MIRRORS else parts[0]


def manifest_rows(shared: Path) -> dict[str, dict[str, str]]:
    """Rows of ../shared/upstream/MANIFEST.md's Files tables, by local file."""
    rows: dict[str, dict[str, str]] = {}
    manifest = shared / "MANIFEST.md"
    if not manifest.is_file():
        return rows
    for line in manifest.read_text().splitlines():
        cells = [c.replace("`", "").strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and re.fullmatch(r"[0-9a-f]{40}", cells[3]):
            keys = ("file", "repo", "ref", "commit", "path", "bytes", "blob", "sha256", "license")
            rows[cells[0]] = dict(zip(keys, cells, strict=True))
    return rows


@dataclass
class Fetcher:
    """Where bytes come from, in order: .upstream-cache/ and ../shared/upstream (no network), local clones
    (--git owner/name=DIR), then the raw file URL at the commit (unless offline)."""

    shared: Path | None = None
    clones: dict[str, Path] | None = None
    raw_base: str = RAW_BASE
    git_base: str = GIT_BASE
    offline: bool = False
    cache: Path | None = CACHE

    def _clone(self, repo: str) -> Path | None:
        return (self.clones or {}).get(owner_name(repo))

    def _git(self, clone: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["git", "-C", str(clone), *args], capture_output=True, check=False, timeout=120)

    def resolve(self, repo: str, ref: str) -> tuple[str, str]:
        """(commit, "tag <ref>" or "branch <ref>") of a ref name, from the clone or `git ls-remote`."""
        clone = self._clone(repo)
        if clone is not None:
            for kind, full in (("tag", f"refs/tags/{ref}"), ("branch", f"refs/heads/{ref}")):
                found = self._git(clone, "rev-parse", "--verify", "--quiet", f"{full}^{{commit}}")
                if found.returncode == 0:
                    return found.stdout.decode().strip(), f"{kind} {ref}"
            raise UpstreamError(f"{repo}: the clone {clone} has no tag or branch {ref}")
        if self.offline:
            raise UpstreamError(f"{repo}: cannot resolve {ref} offline; give a clone with --git {owner_name(repo)}=DIR")
        remote = f"{self.git_base.rstrip('/')}/{owner_name(repo)}"
        refs = [f"refs/tags/{ref}", f"refs/tags/{ref}^{{}}", f"refs/heads/{ref}"]
        listed = subprocess.run(
            ["git", "ls-remote", remote, *refs], capture_output=True, text=True, check=False, timeout=120
        )
        if listed.returncode != 0:
            raise UpstreamError(f"{repo}: git ls-remote {remote} failed: {listed.stderr.strip().splitlines()[-1:]}")
        listed_refs = [line.split("\t", 1) for line in listed.stdout.splitlines() if "\t" in line]
        by_name = {name: sha for sha, name in listed_refs}
        for name, kind in ((refs[1], "tag"), (refs[0], "tag"), (refs[2], "branch")):  # a peeled tag names the commit
            if name in by_name:
                return by_name[name], f"{kind} {ref}"
        raise UpstreamError(f"{repo}: {remote} has no tag or branch {ref}")

    def fetch(self, repo: str, commit: str, path: str) -> tuple[bytes | None, str]:
        """(bytes, where) of <path> at <commit>; bytes None when the file does not exist there."""
        clone = self._clone(repo)
        if clone is not None and self._git(clone, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0:
            shown = self._git(clone, "cat-file", "blob", f"{commit}:{path}")
            return (shown.stdout if shown.returncode == 0 else None), f"{clone} {commit[:12]}:{path}"
        url = f"{self.raw_base.rstrip('/')}/{owner_name(repo)}/{commit}/{path}"
        if self.offline:
            raise UpstreamError(
                f"{owner_name(repo)}@{commit[:12]}:{path}: not in ../shared/upstream or .upstream-cache/ and offline; "
                f"needs {url} or a clone (--git {owner_name(repo)}=DIR)"
            )
        try:
            with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
                data = response.read(MAX_FILE_BYTES + 1)
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None, url
            raise UpstreamError(f"{url}: HTTP {err.code}; {BUMP_HINT} again when it is reachable") from None
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise UpstreamError(f"{url}: cannot fetch ({reason}); run `make derive` when it is reachable") from None
        if len(data) > MAX_FILE_BYTES:
            raise UpstreamError(f"{url}: larger than {MAX_FILE_BYTES} bytes; refused")
        return data, url

    def cached(self, entry: Entry) -> bytes | None:
        """The locked file's bytes from .upstream-cache/ or ../shared/upstream when they match the lock."""
        candidates = []
        if self.cache is not None:
            candidates.append(self.cache / entry.blob)
        if self.shared is not None:
            candidates.append(self.shared / entry.file)
        for path in candidates:
            if path.is_file():
                data = path.read_bytes()
                if git_blob_id(data) == entry.blob:
                    return data
        return None

    def read(self, entry: Entry) -> bytes:
        data = self.cached(entry)
        if data is not None:
            return data
        try:
            data, where = self.fetch(entry.repo, entry.commit, entry.path)
        except UpstreamError as err:  # one line that names the local file first
            raise UpstreamError(f"{entry.file}: {err}") from None
        if data is None:
            raise UpstreamError(
                f"{entry.file}: {where} does not exist (upstream_facts/sources.json locks it); "
                "fix its pin and run `make derive`"
            )
        self.store(entry.check(data, where))
        return data

    def store(self, data: bytes) -> None:
        """Keep fetched bytes in .upstream-cache/ by blob id (their hash is their name: nothing else to trust)."""
        if self.cache is not None:
            self.cache.mkdir(parents=True, exist_ok=True)
            blob = git_blob_id(data)
            tmp = self.cache / f"{blob}.{os.getpid()}.part"
            tmp.write_bytes(data)
            tmp.replace(self.cache / blob)


def load_lock(path: Path = LOCK) -> tuple[dict[str, Entry], set[str]]:
    """(locked files by local name, local names locked as absent upstream)."""
    if not path.is_file():
        return {}, set()
    data = json.loads(path.read_text())
    files = {name: Entry(file=name, **fields) for name, fields in data.get("files", {}).items()}
    return files, set(data.get("absent", []))


def load_made(path: Path = LOCK) -> dict[str, dict[str, str]]:
    """Files of ../shared that are made from upstream rather than copied (no address to fetch): {name: blob, sha256}."""
    return dict(json.loads(path.read_text()).get("made", {})) if path.is_file() else {}


def lock_text(files: dict[str, Entry], absent: set[str], made: dict[str, dict[str, str]] | None = None) -> str:
    body: dict[str, Any] = {
        "comment": "Upstream files tools/generate/derive_upstream.py reads, pinned by commit and git blob id; "
        "`make derive` adds the files of a new pin, review their hashes like code. `made`: files ../shared makes "
        "from upstream (MANIFEST.md, Derived files), used only from there and only with these hashes.",
        "files": {name: {k: v for k, v in asdict(e).items() if k != "file"} for name, e in sorted(files.items())},
        "absent": sorted(absent),
    }
    if made:
        body["made"] = dict(sorted(made.items()))
    return json.dumps(body, sort_keys=True, indent=1) + "\n"


class Upstream:
    """What the derivation reads: `has(file)` and `text(file)` of local names, each checked against the lock.

    With `update`, a file the lock does not hold yet is located (`origin`), resolved to its commit, fetched and
    locked (or locked as absent); without it, such a file is an error naming `make derive`.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        origin: Callable[[str], Origin],
        *,
        update: bool = False,
        lock_path: Path = LOCK,
    ) -> None:
        self.fetcher = fetcher
        self.origin = origin
        self.update = update
        self.lock_path = lock_path
        self.files, self.absent = load_lock(lock_path)
        self.made = load_made(lock_path)
        self.used: set[str] = set()
        self.added: list[str] = []
        self._refs: dict[tuple[str, str], tuple[str, str]] = {}
        self._manifest = manifest_rows(fetcher.shared) if fetcher.shared is not None else {}
        self._data: dict[str, bytes] = {}

    def _lock_new(self, name: str) -> None:
        """Lock a file the lock does not name: from ../shared's MANIFEST when it lists it, else from upstream."""
        row = self._manifest.get(name)
        shared = self.fetcher.shared
        if row is not None and shared is not None and (shared / name).is_file():
            data = (shared / name).read_bytes()
            blob = git_blob_id(data)
            if not blob.startswith(row["blob"]):
                raise UpstreamError(f"{shared / name}: git blob {blob}, its MANIFEST.md row says {row['blob']}")
            fields = {k: row[k] for k in ("repo", "ref", "commit", "path", "license")}
        elif shared is not None and exported_folder(name) in {exported_folder(f) for f in self._manifest}:
            # ../shared exported this upstream folder: what it does not hold, the upstream ref does not have.
            self.absent.add(name)
            return
        else:
            origin = self.origin(name)
            key = (origin.repo, origin.ref)
            if key not in self._refs:
                self._refs[key] = self.fetcher.resolve(origin.repo, origin.ref)
            commit, ref = self._refs[key]
            found, _where = self.fetcher.fetch(origin.repo, commit, origin.path)
            if found is None:
                self.absent.add(name)
                return
            data = found
            self.fetcher.store(data)
            fields = {"repo": origin.repo, "ref": ref, "commit": commit, "path": origin.path}
            fields["license"] = origin.license
        self.files[name] = Entry(file=name, blob=git_blob_id(data), sha256=hashlib.sha256(data).hexdigest(), **fields)
        self._data[name] = data
        self.added.append(name)

    def has(self, name: str) -> bool:
        self.used.add(name)
        if name not in self.files and name not in self.absent:
            if not self.update:
                raise UpstreamError(f"{name} is not in upstream_facts/sources.json; {BUMP_HINT}")
            self._lock_new(name)
        return name in self.files

    def entry(self, name: str) -> Entry:
        if not self.has(name):
            raise UpstreamError(f"{name} does not exist upstream (upstream_facts/sources.json locks it as absent)")
        return self.files[name]

    def data(self, name: str) -> bytes:
        entry = self.entry(name)
        if name not in self._data:
            self._data[name] = self.fetcher.read(entry)
        return self._data[name]

    def text(self, name: str) -> str:
        """UTF-8 text with universal newlines, as Path.read_text gives it."""
        return self.data(name).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")

    def made_text(self, name: str) -> str | None:
        """A file ../shared makes from upstream (the chart version table): its text when ../shared holds it with the
        locked hashes (with `update`, its hashes are locked), None without ../shared."""
        self.used.add(name)
        shared = self.fetcher.shared
        if shared is None or not (shared / name).is_file():
            return None
        data = (shared / name).read_bytes()
        hashes = {"blob": git_blob_id(data), "sha256": hashlib.sha256(data).hexdigest()}
        if self.made.get(name) != hashes:
            if not self.update:
                locked = self.made.get(name, {}).get("blob", "nothing")
                raise UpstreamError(
                    f"{shared / name}: git blob {hashes['blob']}, the lock records {locked}; {BUMP_HINT}"
                )
            self.made[name] = hashes
            self.added.append(name)
        return data.decode("utf-8")

    def mirrored(self) -> set[str]:
        """The local names ../shared/upstream's MANIFEST.md lists (none without it)."""
        return set(self._manifest)

    def stale(self) -> list[str]:
        """Locked names the derivation no longer reads (a pin moved on)."""
        return sorted((set(self.files) | self.absent) - self.used)

    def write_lock(self) -> None:
        """Keep exactly what this derivation used: a bumped pin's old files leave the lock."""
        files = {n: e for n, e in self.files.items() if n in self.used}
        made = {n: h for n, h in self.made.items() if n in self.used}
        self.lock_path.write_text(lock_text(files, self.absent & self.used, made))


def _glob_re(pattern: str) -> re.Pattern[str]:
    """`*` within one path segment, `**` across segments (as pathlib's glob)."""
    parts = (".*" if part == "**" else re.escape(part).replace(r"\*", "[^/]*") for part in pattern.split("/"))
    return re.compile("/".join(parts).replace(".*/", "(?:.*/)?"))


class LockedTree:
    """The files derive_lifecycle and derive_pricing read, by local name, each through the lock (`Upstream`):
    their globs run over an explicit list (the lock's names, and ../shared's MANIFEST.md rows when it is here, so
    `make derive` locks what a new pin adds) rather than over a folder. `local` reads what ../shared holds but
    upstream has no file for (the chart version table made from tags, MANIFEST.md's notes): None without it."""

    def __init__(self, src: Upstream) -> None:
        self.src = src

    def names(self) -> set[str]:
        return set(self.src.files) | self.src.mirrored()

    def glob(self, pattern: str) -> list[str]:
        found = _glob_re(pattern)
        return sorted(n for n in self.names() if found.fullmatch(n))

    def has(self, name: str) -> bool:
        return self.src.has(name)

    def text(self, name: str) -> str:
        return self.src.text(name)

    def entry(self, name: str) -> Entry:
        return self.src.entry(name)

    def local(self, name: str) -> str | None:
        return self.src.made_text(name)

    def manifest(self) -> str | None:
        """../shared/upstream/MANIFEST.md (its notes date the Spot Advisor feed), None without it."""
        shared = self.src.fetcher.shared
        return (shared / "MANIFEST.md").read_text() if shared is not None else None


class DirTree:
    """A folder read as a tree of upstream files (tests): its files are the names, no lock, no addresses."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def glob(self, pattern: str) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.glob(pattern) if p.is_file())

    def has(self, name: str) -> bool:
        return (self.root / name).is_file()

    def text(self, name: str) -> str:
        return (self.root / name).read_text()

    def entry(self, name: str) -> Entry:
        raise UpstreamError(f"{name}: a folder read as a tree has no upstream address")

    def local(self, name: str) -> str | None:
        return (self.root / name).read_text() if (self.root / name).is_file() else None

    def manifest(self) -> str | None:
        return self.local("MANIFEST.md")

"""The derivation's upstream files are locked by commit and git blob id and fetched by the project itself (a local
clone, a raw-file URL at the commit, ../shared/upstream only as a cache); a wrong hash is refused and a missing file
named, each in one line. Every server here listens on 127.0.0.1 only."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from constructs_lib.karpenter_iam import reference_iam
from platform_checks import upstream_facts
from platform_config.versions import PROFILES
from tests.upstream_server import serve
from tools.generate import derive_pricing, derive_upstream
from tools.generate.upstream_sources import (
    LOCK,
    Fetcher,
    LockedTree,
    Origin,
    Upstream,
    UpstreamError,
    git_blob_id,
    load_lock,
    load_made,
    owner_name,
)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "upstream"
REPO = "github.com/acme/charts"
TAG = "chart-1.0.0"
CHART = b"apiVersion: v2\nname: chart\nversion: 1.0.0\nappVersion: 2.0.0\n"
VALUES = b"replicas: 1\n"
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=GIT_ENV
    ).stdout.strip()


def commit_files(repo: Path, files: dict[str, bytes], message: str) -> str:
    for rel, data in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    return path


@pytest.fixture
def remotes(tmp_path: Path) -> Path:
    """<remotes>/acme/charts: an upstream repository with tag chart-1.0.0 (Chart.yaml, values.yaml, no schema)."""
    repo = new_repo(tmp_path / "remotes" / "acme" / "charts")
    commit_files(repo, {"Chart.yaml": CHART, "values.yaml": VALUES}, "chart 1.0.0")
    git(repo, "tag", "-a", TAG, "-m", TAG)  # annotated: the lock records the commit it names, not the tag object
    return tmp_path / "remotes"


def origin(name: str) -> Origin:
    return Origin(repo=REPO, ref=name.split("/", 1)[0], path=name.split("/", 1)[1], license="Apache-2.0")


def locked(tmp_path: Path, fetcher: Fetcher) -> Path:
    """Lock chart-1.0.0's files through `fetcher`; return the lock file."""
    lock = tmp_path / "sources.json"
    src = Upstream(fetcher, origin, update=True, lock_path=lock)
    assert src.has(f"{TAG}/Chart.yaml") and src.has(f"{TAG}/values.yaml")
    assert not src.has(f"{TAG}/values.schema.json")
    src.write_lock()
    return lock


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The loopback server must be reached directly, whatever the developer's proxy settings are.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_git_blob_id_is_what_git_hash_object_prints(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(CHART)
    assert git_blob_id(CHART) == git(tmp_path, "hash-object", str(path))


def test_a_local_clone_locks_the_commit_the_tag_names_and_each_files_blob(tmp_path: Path, remotes: Path) -> None:
    clone = remotes / "acme" / "charts"
    lock = locked(tmp_path, Fetcher(clones={"acme/charts": clone}, offline=True, cache=None))
    files, absent = load_lock(lock)
    entry = files[f"{TAG}/Chart.yaml"]
    assert (entry.repo, entry.ref, entry.commit, entry.path) == (
        REPO,
        f"tag {TAG}",
        git(clone, "rev-parse", "HEAD"),
        "Chart.yaml",
    )
    assert entry.blob == git(clone, "rev-parse", f"HEAD:{entry.path}")
    assert absent == {f"{TAG}/values.schema.json"}  # probed and recorded, so a later run need not ask again
    # A run without --update-lock reads the locked file (and still knows the schema is absent).
    src = Upstream(Fetcher(clones={"acme/charts": clone}, offline=True, cache=None), origin, lock_path=lock)
    assert src.text(f"{TAG}/values.yaml") == VALUES.decode() and not src.has(f"{TAG}/values.schema.json")


def test_the_raw_server_is_asked_for_the_file_at_the_locked_commit_then_the_cache_answers(
    tmp_path: Path, remotes: Path
) -> None:
    commit = git(remotes / "acme" / "charts", "rev-parse", "HEAD")
    files = {f"/acme/charts/{commit}/Chart.yaml": CHART, f"/acme/charts/{commit}/values.yaml": VALUES}
    with serve(files) as served:
        # Tags resolve with `git ls-remote <git base>/acme/charts` (here a local path), files over HTTP.
        fetcher = Fetcher(raw_base=served.base, git_base=str(remotes), cache=tmp_path / "cache")
        lock = locked(tmp_path, fetcher)
        assert sorted(served.requests) == sorted([*files, f"/acme/charts/{commit}/values.schema.json"])
        served.requests.clear()
        src = Upstream(fetcher, origin, lock_path=lock)
        assert src.text(f"{TAG}/Chart.yaml") == CHART.decode()  # locked bytes were kept in the cache by blob id
        assert served.requests == []
        assert (tmp_path / "cache" / git_blob_id(CHART)).read_bytes() == CHART


def test_a_fetched_file_whose_blob_differs_from_the_lock_is_refused_in_one_line(tmp_path: Path, remotes: Path) -> None:
    lock = locked(tmp_path, Fetcher(clones={"acme/charts": remotes / "acme" / "charts"}, offline=True, cache=None))
    commit = load_lock(lock)[0][f"{TAG}/Chart.yaml"].commit
    tampered = CHART.replace(b"1.0.0", b"6.6.6")
    with serve({f"/acme/charts/{commit}/Chart.yaml": tampered}) as served:
        src = Upstream(Fetcher(raw_base=served.base, cache=tmp_path / "cache"), origin, lock_path=lock)
        with pytest.raises(UpstreamError) as err:
            src.text(f"{TAG}/Chart.yaml")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{TAG}/Chart.yaml: refused the copy from {served.base}/acme/charts/{commit}/Chart.yaml")
    assert git_blob_id(tampered) in message and git_blob_id(CHART) in message
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())  # never cached


def test_a_shared_copy_that_differs_from_the_lock_is_not_used(tmp_path: Path, remotes: Path) -> None:
    lock = locked(tmp_path, Fetcher(clones={"acme/charts": remotes / "acme" / "charts"}, offline=True, cache=None))
    shared = tmp_path / "shared"
    (shared / TAG).mkdir(parents=True)
    (shared / TAG / "Chart.yaml").write_bytes(CHART + b"# edited\n")
    src = Upstream(Fetcher(shared=shared, offline=True, cache=None), origin, lock_path=lock)
    with pytest.raises(
        UpstreamError, match=rf"^{TAG}/Chart.yaml: acme/charts@[0-9a-f]{{12}}:Chart.yaml: not in \.\./shared/upstream"
    ):
        src.text(f"{TAG}/Chart.yaml")
    (shared / TAG / "Chart.yaml").write_bytes(CHART)
    assert src.text(f"{TAG}/Chart.yaml") == CHART.decode()


def test_a_locked_file_the_server_does_not_have_is_named(tmp_path: Path, remotes: Path) -> None:
    lock = locked(tmp_path, Fetcher(clones={"acme/charts": remotes / "acme" / "charts"}, offline=True, cache=None))
    with serve({}) as served:
        src = Upstream(Fetcher(raw_base=served.base, cache=None), origin, lock_path=lock)
        with pytest.raises(
            UpstreamError,
            match=rf"^{TAG}/values.yaml: http://127.0.0.1:\d+/acme/charts/.* does not exist.*make derive`$",
        ):
            src.text(f"{TAG}/values.yaml")


def test_a_file_the_lock_does_not_hold_fails_naming_make_derive(tmp_path: Path) -> None:
    src = Upstream(Fetcher(offline=True, cache=None), origin, lock_path=tmp_path / "none.json")
    with pytest.raises(
        UpstreamError, match=rf"^{TAG}/Chart.yaml is not in upstream_facts/sources.json; run `make derive`"
    ):
        src.has(f"{TAG}/Chart.yaml")


def test_an_unknown_tag_is_named_with_the_repository(tmp_path: Path, remotes: Path) -> None:
    fetcher = Fetcher(git_base=str(remotes), raw_base="http://127.0.0.1:9", cache=None)
    src = Upstream(fetcher, origin, update=True, lock_path=tmp_path / "sources.json")
    with pytest.raises(
        UpstreamError, match=r"^github.com/acme/charts: .*acme/charts has no tag or branch chart-9.9.9$"
    ):
        src.has("chart-9.9.9/Chart.yaml")


def test_locked_files_the_derivation_no_longer_reads_are_reported_and_dropped(tmp_path: Path, remotes: Path) -> None:
    lock = locked(tmp_path, Fetcher(clones={"acme/charts": remotes / "acme" / "charts"}, offline=True, cache=None))
    src = Upstream(Fetcher(offline=True, cache=None), origin, update=True, lock_path=lock)
    assert src.has(f"{TAG}/Chart.yaml")
    assert src.stale() == [f"{TAG}/values.schema.json", f"{TAG}/values.yaml"]  # what --check names
    src.write_lock()
    assert load_lock(lock) == ({f"{TAG}/Chart.yaml": src.files[f"{TAG}/Chart.yaml"]}, set())


def test_every_locked_file_is_one_the_registry_places_upstream() -> None:
    files, absent = load_lock()
    for name, entry in files.items():
        where = derive_upstream.origin(name)
        assert (where.repo, where.path) == (entry.repo, entry.path), name
    assert {derive_upstream.origin(name).repo for name in absent} <= {e.repo for e in files.values()}


def _require_shared() -> None:
    if not (SHARED / "MANIFEST.md").exists():
        if os.environ.get("REQUIRE_UPSTREAM_DATA"):
            pytest.fail(f"REQUIRE_UPSTREAM_DATA is set but {SHARED} is missing")
        pytest.skip(f"{SHARED} is absent: nothing to serve the locked files from")


def test_derive_without_shared_fetches_each_locked_blob_once_and_matches_the_facts(tmp_path: Path) -> None:
    """Profiles, lifecycle/ and pricing/ alike: a clone without ../shared derives every committed fact byte for byte
    from the served files (the chart version rows and the feed's date, no upstream file, stay as committed)."""
    _require_shared()
    entries = load_lock()[0].values()
    by_url = {f"/{owner_name(e.repo)}/{e.commit}/{e.path}": SHARED / e.file for e in entries}
    with serve(lambda path: by_url[path].read_bytes() if path in by_url else None) as served:
        code = derive_upstream.main(
            [
                "--check",
                "--shared",
                str(tmp_path / "no-shared"),
                "--cache",
                str(tmp_path / "cache"),
                "--raw-base",
                served.base,
            ]
        )
    assert code == 0
    # Files with equal bytes (a NOTICE unchanged between tags) come from the cache the second time.
    assert set(served.requests) <= set(by_url)
    assert len(served.requests) == len({e.blob for e in entries})
    mirrored = {e.blob for e in entries if e.file.startswith(("lifecycle/", "pricing/"))}
    assert mirrored and mirrored <= {git_blob_id(by_url[path].read_bytes()) for path in served.requests}


def test_a_served_pricing_file_whose_blob_differs_from_the_lock_fails_naming_it_and_make_derive(
    tmp_path: Path,
) -> None:
    tampered = b"// generated at 2026-01-01T00:00:00Z for us-east-1\n"
    with serve(lambda path: tampered) as served:
        fetcher = Fetcher(raw_base=served.base, cache=tmp_path / "cache")
        tree = LockedTree(Upstream(fetcher, derive_upstream.origin))
        with pytest.raises(UpstreamError) as err:
            derive_pricing.derive_pricing(tree, derive_upstream.dump, ROOT / "upstream_facts")
    first = derive_pricing.price_files()["aws"]
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{first}: refused the copy from {served.base}/")
    assert "`make derive`" in message and served.requests  # fetched, checked and refused, never cached
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_a_karpenter_patch_bump_locks_the_tag_and_release_branch_from_git_keeps_the_iam_shape_and_moves_price_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_shared()
    old, new = PROFILES["current"].karpenter_version, "9.9.9"
    old_shape = reference_iam(old)
    files = {
        e.path: (SHARED / e.file).read_bytes()
        for e in load_lock()[0].values()
        if e.file.startswith(f"karpenter-{old}/")
    }
    chart_files = {p: d.replace(old.encode(), new.encode()) for p, d in files.items() if p.startswith("charts/")}
    # The upgrade guide, compatibility matrix and price tables ../shared mirrors at the old tag only (lifecycle/,
    # pricing/): the new tag's are fetched from the clone and locked at it.
    mirrored = {
        e.path: (SHARED / e.file).read_bytes()
        for e in load_lock()[0].values()
        if e.file.startswith((f"lifecycle/karpenter-provider-aws/v{old}/", f"pricing/karpenter-provider-aws/v{old}/"))
    }
    assert mirrored
    files |= mirrored
    # Upstream: the tag holds the CRDs, the reference CloudFormation and NOTICE; the release branch's child commit
    # rewrites Chart.yaml and values.yaml for the release (MANIFEST.md note K1), which is what the OCI chart holds.
    repo = new_repo(tmp_path / "karpenter")
    commit_files(repo, {p: d for p, d in files.items() if not p.startswith("charts/")}, "release")
    git(repo, "tag", f"v{new}")
    git(repo, "checkout", "-q", "-b", f"release-v{new}")
    release_commit = commit_files(repo, chart_files, "Stable Release updates")
    monkeypatch.setitem(PROFILES, "current", dataclasses.replace(PROFILES["current"], karpenter_version=new))
    lock, out = tmp_path / "sources.json", tmp_path / "facts"
    shutil.copy(LOCK, lock)
    shutil.copytree(ROOT / "upstream_facts", out)
    common = ["--lock-file", str(lock), "--out", str(out), "--offline", "--cache", str(tmp_path / "cache")]
    common += ["--git", f"aws/karpenter-provider-aws={repo}"]
    assert derive_upstream.main(["--update-lock", *common]) == 0
    locked_files = load_lock(lock)[0]
    assert not [n for n in locked_files if n.startswith(f"karpenter-{old}/")]
    chart = locked_files[f"karpenter-{new}/charts/karpenter/Chart.yaml"]
    assert (chart.ref, chart.commit) == (f"branch release-v{new}", release_commit)
    cfn = next(e for n, e in locked_files.items() if n.startswith(f"karpenter-{new}/website/"))
    assert cfn.ref == f"tag v{new}"
    for path in mirrored:  # the price tables follow the pin; the guide follows it too (the prose steps cite the old)
        hits = [e for e in locked_files.values() if e.path == path and f"/karpenter-provider-aws/v{new}/" in e.file]
        assert hits and all((e.ref, e.commit) == (f"tag v{new}", cfn.commit) for e in hits), path
    assert not [n for n in locked_files if n.startswith(f"pricing/karpenter-provider-aws/v{old}/")]
    guide = json.loads((out / "lifecycle" / "karpenter.json").read_text())["notes"][0]["source"]
    assert guide.startswith(f"lifecycle/karpenter-provider-aws/v{new}/")
    pins = json.loads((out / "current" / "chart_pins.json").read_text())
    assert pins["karpenter"]["version"] == new
    assert derive_upstream.main(["--check", *common]) == 0
    # The IAM shape follows the derived reference: an unchanged reference CloudFormation needs no IAM edit.
    monkeypatch.setattr(upstream_facts, "FACTS_DIR", out)
    upstream_facts.load_fact.cache_clear()
    try:
        assert reference_iam(new) == old_shape
    finally:
        upstream_facts.load_fact.cache_clear()


def test_a_table_shared_makes_from_upstream_is_used_only_with_its_locked_hashes(tmp_path: Path) -> None:
    (name,) = load_made()  # the chart version table: made from tags, no upstream address, so locked by hash only
    (tmp_path / name).parent.mkdir(parents=True)
    (tmp_path / name).write_text("chart\tversion\n")
    src = Upstream(Fetcher(shared=tmp_path, offline=True, cache=None), origin)
    with pytest.raises(
        UpstreamError, match=rf"^{tmp_path / name}: git blob [0-9a-f]{{40}}, the lock records .*make derive"
    ):
        src.made_text(name)
    assert (
        Upstream(Fetcher(offline=True, cache=None), origin).made_text(name) is None
    )  # no ../shared: rows as committed

"""Derive upstream_facts/lifecycle/ (supported Kubernetes range and upgrade-notes anchors per chart and minor, the
Kubernetes minors each AMI release built, the API removals) from the upstream files locked in
upstream_facts/sources.json (../shared/upstream/lifecycle is an offline cache of them); never hand-typed."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeAlias

import yaml

from platform_config import yaml_load
from platform_config.addons import ADDONS, version_key
from platform_config.upgrade_steps import PROSE_STEPS, karpenter_docs
from tools.generate.upstream_sources import DirTree, LockedTree

# What a parser reads: the locked upstream files by local name (`text`, `has`, `glob` over an explicit list).
Tree: TypeAlias = LockedTree | DirTree

LIFECYCLE = "lifecycle"
TSV = f"{LIFECYCLE}/chart-versions.tsv"
AMI_CHANGELOG = f"{LIFECYCLE}/amazon-eks-ami/main/CHANGELOG.md"
PLUTO = f"{LIFECYCLE}/pluto/master/versions.yaml"
# chart-versions.tsv names the Karpenter rows by the controller chart; karpenter-crd ships at the same version.
TSV_CHART = {"karpenter-crd": "karpenter"}


def minor(text: str) -> str:
    """`v1.29.4`, `1.29`, `>=1.25.0-0` -> `1.29` / `1.25` (the first major.minor in the text)."""
    found = re.search(r"(\d+)\.(\d+)", text)
    if not found:
        raise ValueError(f"no major.minor in {text!r}")
    return f"{int(found.group(1))}.{int(found.group(2))}"


def minor_key(text: str) -> tuple[int, int]:
    major, mnr = minor(text).split(".")
    return int(major), int(mnr)


def slug(heading: str) -> str:
    """The anchor GitHub and Hugo give a Markdown heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def headings(text: str, level: str) -> list[str]:
    """Headings of exactly `level` (`##`) outside fenced code blocks."""
    return [heading for heading, _ in sections(text, level)]


def sections(text: str, level: str) -> list[tuple[str, str]]:
    """(heading, body) of each `level` section, outside fenced code."""
    out: list[tuple[str, str]] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and re.match(rf"{level} \S", line):
            out.append((line[len(level) + 1 :].strip(), ""))
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + line + "\n")
    return out


def _range(app: str, since: str, minors: Iterable[str], kind: str, source: str, **extra: Any) -> dict[str, Any]:
    ordered = sorted(set(minors), key=minor_key)
    return {"app": app, "since": since, "min": ordered[0], "max": ordered[-1], "kind": kind, "source": source} | extra


# ---- one parser per lifecycle folder (the registry's `lifecycle` key names the folder) --------------------------


def karpenter(tree: Tree, chart: str) -> dict[str, Any]:
    base = karpenter_docs()  # the default profile's Karpenter tag (platform_config/upgrade_steps.py)
    matrix = f"{base}/hack/docs/compatibilitymatrix_gen/compatibility.yaml"
    guide = f"{base}/website/content/en/preview/upgrading/upgrade-guide.md"
    ranges: dict[tuple[str, str], dict[str, Any]] = {}
    # BaseLoader: `1.30` must stay a string (a float would read 1.3).
    for entry in yaml.load(tree.text(matrix), Loader=yaml.BaseLoader)["compatibility"]:
        app = str(entry["appVersion"])
        # `1.0.x` covers the minor; `1.0.5` covers 1.0.5 and later patches of 1.0 (the matrix's own reading).
        since = app.replace(".x", ".0")
        lo, hi = int(minor_key(str(entry["minK8sVersion"]))[1]), int(minor_key(str(entry["maxK8sVersion"]))[1])
        ranges[(minor(app), since)] = _range(
            minor(app), since, [f"1.{m}" for m in range(lo, hi + 1)], "supported", matrix
        )
    notes = []
    for heading in headings(tree.text(guide), "###"):
        found = re.fullmatch(r"Upgrading to `(\d+\.\d+\.\d+)`\+", heading)
        if found:
            notes.append({"to": found.group(1), "source": guide, "anchor": slug(heading)})
    return {"ranges": list(ranges.values()), "notes": notes, "sources": [matrix, guide]}


def argo_cd(tree: Tree, chart: str) -> dict[str, Any]:
    ranges, sources, notes = [], [], []
    for rel in tree.glob(f"{LIFECYCLE}/argo-cd/v*/docs/operator-manual/tested-kubernetes-versions.md"):
        own = minor(rel.split("/")[2])
        # Each file lists its own minor and the two before it: a minor's row is read from its own newest patch.
        for line in tree.text(rel).splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 2 and cells[0] == own:
                ranges.append(_range(own, own + ".0", [minor(v) for v in cells[1].split(",")], "tested", rel))
                sources.append(rel)
    for rel in tree.glob(f"{LIFECYCLE}/argo-cd/v*/docs/operator-manual/upgrading/*-*.md"):
        found = re.fullmatch(r"(\d+\.\d+)-(\d+\.\d+)\.md", rel.rsplit("/", 1)[-1])
        if found:
            tree.text(rel)  # the notes are cited, not parsed: read (and locked) so their address is pinned
            notes.append({"to": found.group(2) + ".0", "source": rel, "anchor": ""})
            sources.append(rel)
    return {"ranges": sorted(ranges, key=lambda r: minor_key(r["app"])), "notes": notes, "sources": sources}


def _ref_rank(ref: str) -> str:
    """Newer sources win: a branch HEAD over a dated older commit (MANIFEST.md's ref column)."""
    if "HEAD" in ref:
        return "9999"
    found = re.search(r"\d{4}-\d{2}-\d{2}", ref)
    return found.group(0) if found else "0000"


def kyverno(tree: Tree, chart: str) -> dict[str, Any]:
    found: list[tuple[str, str, str, str, str]] = []  # (rank, app, min, max, source)
    for rel in tree.glob(f"{LIFECYCLE}/kyverno-website/**"):
        name = rel.rsplit("/", 1)[-1]
        if name == "version.ts":
            for app, lo, hi in re.findall(
                r"kyverno: '(\d+\.\d+)\.x', minKubernetes: '([\d.]+)', maxKubernetes: '([\d.]+)'", tree.text(rel)
            ):
                found.append((_ref_rank(tree.entry(rel).ref), app, lo, hi, rel))
        elif name == "_index.md":
            for app, lo, hi in re.findall(
                r"^\| (\d+\.\d+)\.x\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|", tree.text(rel), re.M
            ):
                found.append((_ref_rank(tree.entry(rel).ref), app, lo, hi, rel))
    best: dict[str, tuple[str, str, str, str, str]] = {}
    for row in sorted(found):
        best[row[1]] = row  # sorted by rank: the newest source's row is written last
    ranges = []
    for _, app, lo, hi, rel in best.values():
        span = [f"1.{m}" for m in range(minor_key(lo)[1], minor_key(hi)[1] + 1)]
        ranges.append(_range(app, app + ".0", span, "supported", rel))
    sources = sorted({row[4] for row in best.values()})
    # A release with no published range: its own conformance CI is the only evidence (a tested set, no promise).
    for rel in tree.glob(f"{LIFECYCLE}/kyverno/v*/.github/workflows/tests-conformance.yaml"):
        app = minor(rel.split("/")[2])
        if app in best:
            continue
        jobs = [
            {minor(str(v)) for v in job.get("strategy", {}).get("matrix", {}).get("k8s-version", [])}
            for job in yaml_load.safe_load(tree.text(rel))["jobs"].values()
        ]
        jobs = [j for j in jobs if j]
        counts: dict[str, int] = {}
        for job in jobs:
            for m in job:
                counts[m] = counts.get(m, 0) + 1
        tested = [m for m, n in counts.items() if 2 * n >= len(jobs)]
        partial = {m: n for m, n in sorted(counts.items()) if m not in tested}
        ranges.append(_range(app, app + ".0", tested, "conformance-ci", rel, jobs=len(jobs), partial=partial))
        sources.append(rel)
    upgrading = f"{LIFECYCLE}/kyverno-website/main/src/content/docs/docs/installation/upgrading.md"
    notes = []
    for heading in headings(tree.text(upgrading), "##"):
        to = re.fullmatch(r"Upgrading to Kyverno v(\d+\.\d+)", heading)
        if to:
            notes.append({"to": to.group(1) + ".0", "source": upgrading, "anchor": slug(heading)})
    return {
        "ranges": sorted(ranges, key=lambda r: minor_key(r["app"])),
        "notes": notes,
        "sources": [*sources, upgrading],
    }


def _chart_doc(tree: Tree, folder: str, chart: str, name: str) -> str:
    hits = tree.glob(f"{LIFECYCLE}/{folder}/{chart}-*/charts/{chart}/{name}")
    if not hits:
        raise SystemExit(f"{chart}: no {name} under {LIFECYCLE}/{folder} in upstream_facts/sources.json")
    return hits[-1]


def kube_prometheus_stack(tree: Tree, chart: str) -> dict[str, Any]:
    rel = _chart_doc(tree, "prometheus-community-helm-charts", chart, "UPGRADE.md")
    notes = []
    for heading, body in sections(tree.text(rel), "##"):
        found = re.fullmatch(r"From (\d+)\.x to (\d+)\.x", heading)
        if found:
            # A prometheus-operator bump: the section's own step is `kubectl apply --server-side` of the CRDs.
            steps = ["crds-server-side"] if "--server-side" in body else []
            notes.append({"to": found.group(2) + ".0.0", "source": rel, "anchor": slug(heading), "steps": steps})
    return {"ranges": [], "notes": notes, "sources": [rel]}


def _chart_notes(tree: Tree, folder: str, chart: str, name: str, pattern: str) -> dict[str, Any]:
    """Notes of a chart whose `##` headings name the version they lead to (`pattern`'s one group)."""
    rel = _chart_doc(tree, folder, chart, name)
    notes = []
    for heading in headings(tree.text(rel), "##"):
        found = re.fullmatch(pattern, heading)
        if found:
            to = found.group(1) if found.group(1).count(".") == 2 else found.group(1) + ".0"
            notes.append({"to": to, "source": rel, "anchor": slug(heading)})
    return {"ranges": [], "notes": notes, "sources": [rel]}


def opentelemetry(tree: Tree, chart: str) -> dict[str, Any]:
    pattern = r"(?:[\d.]+ to |To )(\d+\.\d+(?:\.\d+)?)"
    return _chart_notes(tree, "opentelemetry-helm-charts", chart, "UPGRADING.md", pattern)


def jaeger(tree: Tree, chart: str) -> dict[str, Any]:
    return _chart_notes(tree, "jaegertracing-helm-charts", chart, "README.md", r"Changes in v(\d+\.\d+\.\d+)")


def eks_charts(tree: Tree, chart: str) -> dict[str, Any]:
    """A chart of aws/eks-charts (the AWS Load Balancer Controller): no upgrade notes or published range are pinned
    for it and chart-versions.tsv has no rows, so its versions are its pinned Chart.yaml files (neither declares a
    kubeVersion: the range reads 'any minor', as Helm checks nothing)."""
    rows, sources = [], []
    for rel in tree.glob(f"{chart}-*/eks-charts/stable/{chart}/Chart.yaml"):
        meta = yaml_load.safe_load(tree.text(rel))
        constraint = str(meta.get("kubeVersion") or "")
        rows.append(
            {
                "version": str(meta["version"]),
                "app_version": str(meta["appVersion"]),
                "kube_min": minor(constraint) if constraint else "",
                "date": "",
            }
        )
        sources.append(rel)
    if not rows:
        raise SystemExit(f"{chart}: no pinned {chart}-*/eks-charts/stable/{chart}/Chart.yaml in the lock")
    rows.sort(key=lambda r: version_key(r["version"]))
    return {"ranges": [], "notes": [], "sources": sources, "versions": rows, "versions_source": sources[-1]}


def parsers() -> dict[str, Callable[[Tree, str], dict[str, Any]]]:
    return {
        "karpenter-provider-aws": karpenter,
        "argo-cd": argo_cd,
        "kyverno": kyverno,
        "prometheus-community-helm-charts": kube_prometheus_stack,
        "opentelemetry-helm-charts": opentelemetry,
        "jaegertracing-helm-charts": jaeger,
        "eks-charts": eks_charts,
    }


# ---- shared tables ---------------------------------------------------------------------------------------------


def chart_rows(text: str) -> dict[str, list[dict[str, str]]]:
    """chart-versions.tsv by chart: version, appVersion, the lowest Kubernetes minor its kubeVersion admits, date."""
    rows: dict[str, list[dict[str, str]]] = {}
    for row in csv.DictReader(io.StringIO(text), delimiter="\t"):
        constraint = row["kube_version_constraint"].strip()
        if constraint and not re.fullmatch(r">=\s*\d+\.\d+(\.\d+)?(-0)?", constraint):
            raise SystemExit(f"{TSV}: {row['chart']} {row['version']}: kubeVersion {constraint!r} is not a lower bound")
        rows.setdefault(row["chart"], []).append(
            {
                "version": row["version"],
                "app_version": row["app_version"],
                "kube_min": minor(constraint) if constraint else "",
                "date": row["date"][:10],
            }
        )
    return {chart: sorted(r, key=lambda x: version_key(x["version"])) for chart, r in rows.items()}


def committed_rows(committed: Path) -> dict[str, list[dict[str, str]]]:
    """The version rows the committed lifecycle/ facts took from chart-versions.tsv: that table is made from upstream
    tags by ../shared's generator (MANIFEST.md, "Derived table"), not an upstream file to fetch, so without ../shared
    its rows stay as committed while everything else is derived from the locked files."""
    rows: dict[str, list[dict[str, str]]] = {}
    for path in sorted((committed / LIFECYCLE).glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("versions_source") == TSV:
            rows[TSV_CHART.get(data["chart"], data["chart"])] = data["versions"]
    if not rows:
        raise SystemExit(f"no {TSV} here and no committed rows under {committed / LIFECYCLE}; needs ../shared/upstream")
    return rows


def ami_releases(tree: Tree) -> dict[str, Any]:
    """Each AMI release of the changelog and the Kubernetes minors it built an AL2023 standard AMI for."""
    parts = re.split(r"^#{1,2} AMI Release (v\d{8})\s*$", tree.text(AMI_CHANGELOG), flags=re.M)
    releases, release_versions = {}, {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        built = {int(m) for m in re.findall(r"al2023-[a-z0-9_]+-standard-1\.(\d+)-v\d{8}", body)}
        if built:
            releases[name] = [f"1.{m}" for m in sorted(built)]
            # The managed node group's releaseVersion of each minor: `<kubernetes patch>-<release date>`.
            versions = dict(re.findall(rf"\b((1\.\d+)\.\d+-{name[1:]})\b", body))
            by_minor = {minor: full for full, minor in versions.items() if int(minor.split(".")[1]) in built}
            release_versions[name] = dict(sorted(by_minor.items(), key=lambda kv: minor_key(kv[0])))
    return {
        "family": "al2023",
        "source": AMI_CHANGELOG,
        "releases": dict(sorted(releases.items())),
        "release_versions": dict(sorted(release_versions.items())),
    }


def api_removals(tree: Tree) -> dict[str, Any]:
    """Pluto's Kubernetes API deprecations: apiVersion, kind, the minor it was deprecated and removed in."""
    entries = []
    for entry in yaml_load.safe_load(tree.text(PLUTO))["deprecated-versions"]:
        if entry.get("component") != "k8s" or not entry.get("removed-in"):
            continue
        entries.append(
            {
                "api_version": entry["version"],
                "kind": entry["kind"],
                "deprecated_in": minor(entry["deprecated-in"]) if entry.get("deprecated-in") else "",
                "removed_in": minor(entry["removed-in"]),
                "replacement": entry.get("replacement-api") or "",
            }
        )
    entries.sort(key=lambda e: (minor_key(e["removed_in"]), e["api_version"], e["kind"]))
    return {"source": PLUTO, "removals": entries}


def dump(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def derive_lifecycle(tree: Tree, committed: Path) -> dict[str, str]:
    """{path under upstream_facts/: content} of lifecycle/: one file per chart of the registry, the AMI releases,
    the API removals and the NOTICE of their sources. `committed` is upstream_facts/ (see committed_rows)."""
    by_lifecycle = parsers()
    table = tree.local(TSV)
    rows = chart_rows(table) if table is not None else committed_rows(committed)
    files: dict[str, str] = {}
    used: set[str] = {TSV, AMI_CHANGELOG, PLUTO}
    for record in ADDONS:
        if f"{LIFECYCLE}/{record.chart}.json" in files:
            continue
        if record.chart in TSV_CHART:  # same release, same data: point at it rather than copy it
            files[f"{LIFECYCLE}/{record.chart}.json"] = dump(
                {"chart": record.chart, "same_as": TSV_CHART[record.chart]}
            )
            continue
        parser = by_lifecycle.get(record.lifecycle)
        if parser is None:
            raise SystemExit(
                f"{record.release}: lifecycle {record.lifecycle!r} has no parser in "
                "tools/generate/derive_lifecycle.py; "
                f"accepted: {', '.join(sorted(by_lifecycle))}"
            )
        data = parser(tree, record.chart)
        used.update(data.pop("sources"))
        if "versions" in data:  # the parser read the versions from the pinned charts themselves
            files[f"{LIFECYCLE}/{record.chart}.json"] = dump(
                data | {"chart": record.chart, "lifecycle": record.lifecycle}
            )
            continue
        tsv_chart = TSV_CHART.get(record.chart, record.chart)
        if tsv_chart not in rows:
            raise SystemExit(f"{record.chart}: no rows for chart {tsv_chart!r} in {TSV}")
        versions = rows[tsv_chart]
        if tsv_chart == "karpenter":  # Karpenter's rows carry no kubeVersion: the matrix is its range
            versions = [v | {"app_version": v["version"]} for v in versions]
        data |= {"chart": record.chart, "lifecycle": record.lifecycle, "versions": versions, "versions_source": TSV}
        files[f"{LIFECYCLE}/{record.chart}.json"] = dump(data)
    files[f"{LIFECYCLE}/amazon-eks-ami.json"] = dump(ami_releases(tree))
    files[f"{LIFECYCLE}/kubernetes-apis.json"] = dump(api_removals(tree))
    files[f"{LIFECYCLE}/NOTICE"] = notice(tree, sorted(used))
    files[f"{LIFECYCLE}/urls.json"] = dump(source_urls(tree, used | {s.source for s in PROSE_STEPS}))
    return files


def source_urls(tree: Tree, used: set[str]) -> dict[str, str]:
    """Each source file's upstream address at its pinned commit, so the plan's reading list works on a fork
    without ../shared (the derived table, made from tags, has none)."""
    rows = {rel: tree.entry(rel) for rel in sorted(used) if rel != TSV}
    return {
        rel: f"https://{row.repo}/blob/{row.commit}/{row.path}"
        for rel, row in rows.items()
        if row.repo.startswith("github.com/")
    }


def notice(tree: Tree, used: list[str]) -> str:
    lines = [
        "upstream_facts/lifecycle/ - derived compatibility facts from pinned upstream files",
        "",
        "Generated by tools/generate/derive_lifecycle.py (called by tools/generate/derive_upstream.py)",
        "from the upstream files locked in upstream_facts/sources.json.",
        "Do not edit by hand: run `python -m tools.generate.derive_upstream` to regenerate, `--check` to verify.",
        "",
        "Facts only: supported or tested Kubernetes ranges per release, chart versions with their appVersion",
        "and lowest admitted Kubernetes minor, upgrade-notes anchors, the Kubernetes minors each AMI release",
        "built, and Kubernetes API removals. No upstream prose is copied.",
        "",
        "Sources:",
        "",
    ]
    notices: dict[str, str] = {}
    for rel in used:
        if rel == TSV:  # not a copy: made from the upstream tags (MANIFEST.md, "Derived table")
            lines.append(f"- {TSV}: chart versions read from each chart's upstream tags (MANIFEST.md, Derived table)")
            continue
        row = tree.entry(rel)
        lines.append(f"- {row.repo} @ {row.ref} ({row.commit}): {row.path} [{row.license}]")
        parts = rel.split("/")
        notice_file = "/".join(parts[:3]) + "/NOTICE"
        if parts[0] == LIFECYCLE and tree.has(notice_file):
            notices.setdefault(tree.text(notice_file).strip(), "/".join(parts[1:3]))
    for text, where in notices.items():
        lines += ["", f"The NOTICE file of {where} reads:", ""]
        lines += ["    " + line if line else "" for line in text.splitlines()]
    return "\n".join(lines).rstrip() + "\n"

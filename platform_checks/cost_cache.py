"""The synth summary's cost line without a render: `make cost` stores its one-line summary under a key of every input
the plan reads (the assembly's templates and region, the render's sources, the price data, the planning code); a
synth shows the stored line only for the same key, otherwise a pointer to `make cost`, never a figure."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Gitignored; beside cdk.out rather than in it, so a synth into a fresh output folder keeps it.
CACHE_DIR = ROOT / ".cost-cache"
# What the render and the plan read besides the templates: values, GitOps content, the shop, prices, the code.
INPUT_DIRS = ("apps", "gitops", "infra", "helm_values", "upstream_facts", "platform_checks", "platform_config")
INPUT_FILES = ("tools/report/cost_plan.py", "tools/report/capacity.py")
POINTER = "Cost: not planned for these templates; `make cost` renders the platform and plans it (a minute or so)"


def _files(root: Path) -> Iterable[Path]:
    for name in INPUT_DIRS:
        yield from sorted(p for p in (root / name).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    yield from (root / name for name in INPUT_FILES)


def plan_key(out: Path, root: Path = ROOT) -> str:
    """sha256 of the assembly's stack templates and manifest, every input file's path and bytes, and the chart
    archives' names and sizes (each archive is a pinned version, checked against its lock by make charts)."""
    digest = hashlib.sha256()
    manifest = (out / "manifest.json").read_bytes()
    digest.update(manifest)
    for artifact in sorted(json.loads(manifest)["artifacts"].items()):
        template = artifact[1].get("properties", {}).get("templateFile")
        if artifact[1]["type"] == "aws:cloudformation:stack" and template:
            digest.update(template.encode() + b"\0" + (out / template).read_bytes())
    for path in _files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    charts = root / ".charts"
    for archive in sorted(charts.glob("*.tgz")) if charts.is_dir() else []:
        digest.update(f"{archive.name}:{archive.stat().st_size}".encode())
    return digest.hexdigest()


def store(out: Path, line: str, cache_dir: Path | None = None, root: Path = ROOT) -> Path:
    """Keep `line` (the plan's summary line, default date and assumptions) for this assembly's key."""
    cache_dir = cache_dir or CACHE_DIR
    cache_dir.mkdir(exist_ok=True)
    target = cache_dir / f"{plan_key(out, root)}.txt"
    target.write_text(line + "\n")
    return target


def cached_line(out: Path, cache_dir: Path | None = None, root: Path = ROOT) -> str:
    """The stored summary line for exactly these inputs, else the pointer to `make cost` (no figure)."""
    if not (out / "manifest.json").is_file():
        return POINTER
    found = (cache_dir or CACHE_DIR) / f"{plan_key(out, root)}.txt"
    return found.read_text().strip() if found.is_file() else POINTER

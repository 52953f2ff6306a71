"""Derive upstream_facts/pricing/ (On-Demand prices, ENI limits, Spot Advisor savings) from the upstream files locked in
upstream_facts/sources.json (../shared/upstream/pricing caches them); run by tools/generate/derive_upstream.py, so
`--check` covers these files; their NOTICE is the folder's own."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from platform_config.versions import DEFAULT_PROFILE, PROFILES
from tools.generate.upstream_sources import DirTree, LockedTree

PARTITIONS = {"aws": "aws", "aws-us-gov": "aws_us_gov", "aws-cn": "aws_cn"}  # partition: its price file's suffix
SPOT_ADVISOR = "pricing/spotinfo/master/internal/spot/data/spot-advisor-data.json"


def karpenter_dir() -> str:
    """Karpenter's generated tables at the tag of the default profile's Karpenter pin (read when called: a pin bump,
    even one set at run time, moves them with it)."""
    return f"pricing/karpenter-provider-aws/v{PROFILES[DEFAULT_PROFILE].karpenter_version}"


def price_files() -> dict[str, str]:
    return {p: f"{karpenter_dir()}/pkg/providers/pricing/zz_generated.pricing_{s}.go" for p, s in PARTITIONS.items()}


def vpc_limits_file() -> str:
    return f"{karpenter_dir()}/pkg/providers/instancetype/zz_generated.vpclimits.go"


def sources() -> list[str]:
    return [*price_files().values(), vpc_limits_file(), SPOT_ADVISOR]


# The folder under upstream_facts/ (beside the profiles' folders): prices do not depend on a release profile.
PRICING_DIR = "pricing"

_GENERATED = re.compile(r"^// generated at (\S+) for (\S+)$", re.M)
_REGION = re.compile(r'^\t"([a-z0-9-]+)": \{$')
_PRICE = re.compile(r'"([a-z0-9.-]+)": ([0-9]+\.[0-9]+)')
_LIMIT_START = re.compile(r'^\t"([a-z0-9.-]+)": \{$')
_LIMIT_FIELD = re.compile(r"^\t\t(Interface|IPv4PerInterface|BranchInterface|Hypervisor|IsBareMetal):\s+(.+),$")
# MANIFEST.md note P3: the feed has no date inside; its date is the commit that added the file.
_SPOT_DATE = re.compile(r"Its data date is taken as \*\*(\d{4}-\d{2}-\d{2})\*\*")


def on_demand(text: str, path: str) -> dict[str, Any]:
    """{generated_at, regions: {region: {type: "price text"}}} of one Karpenter price table (USD/h, Linux)."""
    found = _GENERATED.search(text)
    if found is None:
        raise SystemExit(f"{path}: no '// generated at' line")
    regions: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if match := _REGION.match(line):
            current = regions.setdefault(match.group(1), {})
        elif current is not None:
            current.update(_PRICE.findall(line))
    if not regions or not all(regions.values()):
        raise SystemExit(f"{path}: no prices read")
    return {"generated_at": found.group(1), "regions": regions}


def vpc_limits(text: str, path: str) -> dict[str, Any]:
    """{generated_at, types: {type: [ENIs, IPv4 per ENI, branch ENIs, hypervisor, bare metal]}}."""
    found = re.search(r"^// This file was generated at (\S+)$", text, re.M)
    if found is None:
        raise SystemExit(f"{path}: no 'generated at' line")
    types: dict[str, list[Any]] = {}
    name: str | None = None
    fields: dict[str, Any] = {}
    for line in text.splitlines():
        if match := _LIMIT_START.match(line):
            name, fields = match.group(1), {}
        elif name and (match := _LIMIT_FIELD.match(line)):
            fields[match.group(1)] = json.loads(match.group(2))
        elif name and line == "\t},":
            types[name] = [fields[k] for k in ("Interface", "IPv4PerInterface", "BranchInterface", "Hypervisor")]
            types[name].append(fields["IsBareMetal"])
            name = None
    if not types:
        raise SystemExit(f"{path}: no VPC limits read")
    return {"generated_at": found.group(1), "types": types}


def spot_date(manifest: str) -> str:
    found = _SPOT_DATE.search(manifest)
    if found is None:
        raise SystemExit("MANIFEST.md: no Spot Advisor data date (note P3: 'Its data date is taken as **...**')")
    return found.group(1)


def spot_advisor(text: str, date: str) -> dict[str, Any]:
    """Linux savings % and interruption band per region and type, vCPUs and GiB per type, the bands' labels."""
    data = json.loads(text)
    labels = [r["label"] for r in sorted(data["ranges"], key=lambda r: r["index"])]
    return {
        "date": date,
        "bands": labels,
        "instance_types": {t: [v["cores"], v["ram_gb"]] for t, v in data["instance_types"].items()},
        "regions": {
            region: {t: [v["s"], v["r"]] for t, v in oses.get("Linux", {}).items()}
            for region, oses in data["spot_advisor"].items()
        },
    }


def committed_spot_date(committed: Path) -> str:
    """The feed's date is no upstream file's content but the commit that added it (MANIFEST.md note P3, read from
    ../shared): without ../shared it stays as committed."""
    path = committed / PRICING_DIR / "spot-advisor.json"
    if not path.is_file():
        raise SystemExit(f"{path} is missing and ../shared/upstream/MANIFEST.md is absent: no Spot Advisor data date")
    return str(json.loads(path.read_text())["date"])


def derive_pricing(tree: LockedTree | DirTree, dump: Any, committed: Path) -> dict[str, str]:
    """{path under upstream_facts/: content} of the pricing folder, its NOTICE included. `committed` is
    upstream_facts/ (see committed_spot_date)."""
    manifest = tree.manifest()
    date = spot_date(manifest) if manifest is not None else committed_spot_date(committed)
    prices = {partition: on_demand(tree.text(rel), rel) for partition, rel in price_files().items()}
    limits = vpc_limits_file()
    return {
        f"{PRICING_DIR}/on-demand.json": dump(prices),
        f"{PRICING_DIR}/vpc-limits.json": dump(vpc_limits(tree.text(limits), limits), compact=True),
        f"{PRICING_DIR}/spot-advisor.json": dump(spot_advisor(tree.text(SPOT_ADVISOR), date), compact=True),
        f"{PRICING_DIR}/NOTICE": notice(tree),
    }


def notice(tree: LockedTree | DirTree) -> str:
    """The folder's NOTICE: each source with its commit and licence, each upstream NOTICE quoted once, the feed's
    owner named."""
    lines = [
        "upstream_facts/pricing/ - prices, ENI limits and Spot Advisor savings derived from pinned upstream files",
        "",
        "Generated by tools/generate/derive_pricing.py (run by tools/generate/derive_upstream.py)",
        "from the upstream files locked in upstream_facts/sources.json.",
        "Do not edit by hand: run `python -m tools.generate.derive_upstream` to regenerate, `--check` to verify.",
        "",
        "Sources:",
        "",
    ]
    notices: dict[str, str] = {}
    for rel in sorted(sources()):
        row = tree.entry(rel)
        lines.append(f"- {row.repo} @ {row.ref} ({row.commit}): {row.path} [{row.license}]")
        found = "/".join(rel.split("/")[:3]) + "/NOTICE"
        if tree.has(found):
            notices[tree.text(found).strip()] = "/".join(rel.split("/")[1:3])
    lines += [
        "",
        "The Spot Advisor feed (https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json) is AWS's data,",
        "copied by the spotinfo repository; only its Linux savings, interruption bands, vCPUs and memory are kept.",
    ]
    for text, where in notices.items():
        lines += ["", f"The NOTICE file of {where} reads:", ""]
        lines += ["    " + line if line else "" for line in text.splitlines()]
    return "\n".join(lines) + "\n"

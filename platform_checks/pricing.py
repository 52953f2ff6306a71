"""Price rows for a region, each with its reference and date: On-Demand and Spot Advisor rows from the derived
upstream_facts/pricing/, list prices and assumptions from platform_config/list_prices.json, and the instance labels."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "upstream_facts" / "pricing"
LIST_PRICES = ROOT / "platform_config" / "list_prices.json"
# Karpenter's own fallback (pkg/providers/pricing/pricing.go, Reset): a region without a table uses us-east-1.
FALLBACK_REGION = "us-east-1"
_FAMILY = re.compile(r"^([a-z]+)(\d+)([a-z0-9-]*)\.([a-z0-9-]+)$")


@dataclass(frozen=True)
class Row:
    """One figure with where it comes from: `ref` resolves through `lookup`, `date` is the data's date."""

    ref: str
    value: Decimal
    unit: str
    date: str
    source: str


@cache
def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _mapping(value: Any) -> Mapping[str, Any]:
    """The cached data itself (read-only by contract: callers never change it)."""
    return value


def on_demand_tables() -> Mapping[str, Any]:
    return _mapping(_json(FACTS / "on-demand.json"))


def vpc_limits() -> Mapping[str, list[Any]]:
    return _mapping(_json(FACTS / "vpc-limits.json")["types"])


def spot_advisor() -> Mapping[str, Any]:
    return _mapping(_json(FACTS / "spot-advisor.json"))


def list_prices() -> Mapping[str, Any]:
    return _mapping(_json(LIST_PRICES))


def table_region(region: str) -> tuple[str, str]:
    """(partition, region) of the On-Demand table used for `region`: its own, else us-east-1 like Karpenter."""
    for partition, table in sorted(on_demand_tables().items()):
        if region in table["regions"]:
            return partition, region
    return "aws", FALLBACK_REGION


def lookup(ref: str) -> Row:
    """The row a reference names: on-demand/<partition>/<region>/<type>, spot-savings/<region>/<type>,
    list/<key>, assumption/<key>. A KeyError names the reference."""
    kind, _, rest = ref.partition("/")
    if kind == "on-demand":
        partition, region, itype = rest.split("/")
        table = on_demand_tables()[partition]
        return Row(
            ref,
            Decimal(table["regions"][region][itype]),
            "USD/hour",
            table["generated_at"][:10],
            f"Karpenter On-Demand table ({partition}, {region})",
        )
    if kind == "spot-savings":
        region, itype = rest.split("/")
        data = spot_advisor()
        savings, _band = data["regions"][region][itype]
        return Row(ref, Decimal(savings), "% below On-Demand", data["date"], f"Spot Advisor ({region}, Linux)")
    if kind == "list":
        data = list_prices()
        row = data["prices"][rest]
        return Row(ref, Decimal(row["price"]), f"USD/{row['unit']}", row["as_of"], row["source"])
    if kind == "assumption":
        row = list_prices()["assumptions"][rest]
        if rest in _ASSUMED:
            return Row(ref, _ASSUMED[rest], "", "assumption", f"set by the user (default {row['value']})")
        return Row(ref, Decimal(row["value"]), "", "assumption", row["why"])
    raise KeyError(f"{ref}: unknown price reference kind {kind!r}")


# Assumptions the user changed (make cost ASSUME="key=value"); empty unless set_assumptions was called.
_ASSUMED: dict[str, Decimal] = {}


def set_assumptions(values: Mapping[str, str]) -> None:
    """Replace the user's assumption overrides; a bad key or value is one ValueError naming it and what is accepted."""
    known = list_prices()["assumptions"]
    parsed = {}
    for key, text in values.items():
        if key not in known:
            raise ValueError(f"assumption {key}={text}: unknown key; accepted: {', '.join(sorted(known))}")
        try:
            number = Decimal(text)
        except ArithmeticError:
            number = Decimal(-1)
        if not number.is_finite() or number < 0:
            raise ValueError(f"assumption {key}={text}: accepted is a number >= 0")
        parsed[key] = number
    _ASSUMED.clear()
    _ASSUMED.update(parsed)


def on_demand(region: str, itype: str) -> Row | None:
    partition, used = table_region(region)
    try:
        return lookup(f"on-demand/{partition}/{used}/{itype}")
    except KeyError:
        return None


def spot(region: str, itype: str) -> tuple[Row, str] | None:
    """(savings row, interruption band label) of the Spot Advisor for the region and type, if it has one."""
    data = spot_advisor()
    entry = data["regions"].get(region, {}).get(itype)
    if entry is None:
        return None
    return lookup(f"spot-savings/{region}/{itype}"), data["bands"][entry[1]]


def price_date() -> str:
    """The date the plan defaults to: the aws partition On-Demand table's generation date."""
    return str(on_demand_tables()["aws"]["generated_at"][:10])


def labels(itype: str) -> dict[str, str] | None:
    """Karpenter's well-known labels of an instance type (category, generation, family, size, arch, hypervisor),
    read from its name and the ENI table; None when the name does not parse or the ENI table lacks the type.
    Architecture: Graviton families carry a `g` after the generation (m7g, c6gn, is4gen), and a1."""
    match = _FAMILY.match(itype)
    limits = vpc_limits().get(itype)
    if match is None or limits is None:
        return None
    category, generation, attributes, size = match.groups()
    arm = "g" in attributes or (category, generation) == ("a", "1")
    return {
        "node.kubernetes.io/instance-type": itype,
        "karpenter.k8s.aws/instance-category": category,
        "karpenter.k8s.aws/instance-generation": generation,
        "karpenter.k8s.aws/instance-family": f"{category}{generation}{attributes}",
        "karpenter.k8s.aws/instance-size": size,
        "karpenter.k8s.aws/instance-hypervisor": str(limits[3]),
        "kubernetes.io/arch": "arm64" if arm else "amd64",
        "kubernetes.io/os": "linux",
    }

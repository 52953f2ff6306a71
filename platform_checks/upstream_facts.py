"""Locate and load the project's committed upstream_facts/<profile>/ (never ../shared at runtime)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from platform_config.addons import addons
from platform_config.versions import PROFILES

FACTS_DIR = Path(__file__).resolve().parent.parent / "upstream_facts"


def facts_dir(profile: str) -> Path:
    """upstream_facts/<profile>: the facts derived for one release profile's pins."""
    if profile not in PROFILES:
        raise ValueError(f"release profile {profile!r}: accepted is one of {', '.join(sorted(PROFILES))}")
    return FACTS_DIR / profile


@cache
def load_fact(relative: str, profile: str) -> Any:
    """Parsed JSON of upstream_facts/<profile>/<relative>; cached because CRD schemas are large and read often."""
    path = facts_dir(profile) / relative
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; run `python -m tools.generate.derive_upstream`")
    return json.loads(path.read_text())


def stale_pin(chart: str, profile: str) -> str | None:
    """One line when versions.py pins `chart` at a version its derived facts are not for (a bump before
    `make derive`); None when the facts are the pin's. Charts installed without values have no facts of their own."""
    pin = PROFILES[profile].charts.get(chart)
    if pin is None or not any(a.chart == chart and a.takes_values for a in addons(profile)):
        return None  # a vendored subchart, or a chart installed without values (karpenter-crd): no facts of its own
    version = pin.version
    fact = load_fact("chart_pins.json", profile).get(chart)
    if fact is not None and fact["version"] == version:
        return None
    derived = f"for {fact['version']}" if fact is not None else "missing"
    return (
        f"upstream_facts/{profile}/chart_pins.json: {chart} is pinned to {version} in platform_config/versions.py "
        f"but its derived facts are {derived}; run `make derive`"
    )


def app_version(chart: str, profile: str) -> str:
    """The appVersion of the profile's pin of `chart`, from its upstream Chart.yaml (never typed beside the pin)."""
    stale = stale_pin(chart, profile)
    if stale is not None:
        raise ValueError(stale)
    version: str = load_fact("chart_pins.json", profile)[chart]["appVersion"]
    return version

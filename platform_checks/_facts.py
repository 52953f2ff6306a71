"""Locate and load the project's committed upstream_facts/<profile>/ (never ../shared at runtime)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

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
        raise FileNotFoundError(f"{path} is missing; run `python tools/derive_upstream.py`")
    return json.loads(path.read_text())

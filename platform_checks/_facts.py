"""Locate and load the project's committed upstream_facts/ (never ../shared at runtime)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FACTS_DIR = Path(__file__).resolve().parent.parent / "upstream_facts"


@cache
def load_fact(relative: str) -> Any:
    """Parsed JSON of upstream_facts/<relative>; cached because CRD schemas are large and read often."""
    path = FACTS_DIR / relative
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; run `python tools/derive_upstream.py`")
    return json.loads(path.read_text())

"""YAML safe loading for every module: libyaml's parser when PyYAML has it, yaml.safe_load's resolvers and types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

# CSafeLoader parses in C and constructs with SafeLoader's own resolvers and constructors: the same documents as
# yaml.safe_load, several times faster on the large renders, CRDs and kustomize builds the checks read.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str | bytes) -> Any:
    """The one document of a YAML text, as yaml.safe_load reads it."""
    return yaml.load(text, Loader=SAFE_LOADER)


def safe_load_all(text: str | bytes) -> Iterator[Any]:
    """Every document of a YAML text, as yaml.safe_load_all reads them."""
    return yaml.load_all(text, Loader=SAFE_LOADER)

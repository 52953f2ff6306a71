"""Generic validators (manifests, Helm values) that check project content against committed upstream facts."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from platform_checks.manifests import load_yaml_documents, validate_documents, validate_manifest
    from platform_checks.values import check_values

__all__ = ["check_values", "load_yaml_documents", "validate_documents", "validate_manifest"]
# Imported on first use: `cdk synth` only checks Helm values, so it never pays for jsonschema's manifest
# machinery (referencing, kubernetes-validate schemas).
_HOMES = {
    "check_values": "values",
    "load_yaml_documents": "manifests",
    "validate_documents": "manifests",
    "validate_manifest": "manifests",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'platform_checks' has no attribute {name!r}")
    return getattr(importlib.import_module(f"platform_checks.{_HOMES[name]}"), name)

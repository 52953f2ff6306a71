"""Generic validators (manifests, Helm values) that check project content against committed upstream facts."""

from platform_checks.manifests import load_yaml_documents, validate_documents, validate_manifest
from platform_checks.values import check_values

__all__ = ["check_values", "load_yaml_documents", "validate_documents", "validate_manifest"]

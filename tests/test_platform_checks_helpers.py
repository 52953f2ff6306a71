"""The shared kustomize and quantity helpers: real kubectl output, exact Kubernetes quantity values."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from platform_checks.kustomize import kustomize_build
from platform_checks.quantity import parse_quantity


def test_kustomize_build_returns_the_documents(tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n")
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - ns.yaml\n")
    assert kustomize_build(tmp_path) == [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}]


def test_kustomize_build_failure_names_the_directory_and_kubectl_error(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    with pytest.raises(RuntimeError, match=rf"kubectl kustomize {tmp_path} failed: .*missing.yaml"):
        kustomize_build(tmp_path)


@pytest.mark.parametrize(
    ("text", "value"),
    [("250m", Fraction(1, 4)), ("512Mi", Fraction(512 * 2**20)), ("1.5G", Fraction(1_500_000_000)), ("2", Fraction(2))],
)
def test_quantities_parse_exactly(text: str, value: Fraction) -> None:
    assert parse_quantity(text) == value


def test_a_malformed_quantity_is_an_error() -> None:
    with pytest.raises(ValueError, match="quantities must match the regular expression: '5Gb'"):
        parse_quantity("5Gb")

"""Template snapshots per stack; asset hashes normalized so a snapshot changes only when the template does."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import Synthesized

ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def normalized(template: dict[str, Any]) -> Any:
    """Replace content hashes of assets (Lambda code, layers) with a placeholder."""
    return json.loads(ASSET_HASH.sub("<asset-hash>", json.dumps(template, sort_keys=True)))


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack", ["network", "cluster", "karpenter", "addons"])
def test_stack_template_matches_reviewed_snapshot(
    synthesized: Synthesized, snapshot_json: SnapshotAssertion, stack: str
) -> None:
    assert normalized(synthesized.templates[stack]) == snapshot_json, (
        f"the {stack} template changed: review the diff, then `make snapshot-update` (pytest --snapshot-update)"
    )


def test_normalization_only_touches_hashes() -> None:
    template = {"Code": {"S3Key": "a" * 64 + ".zip"}, "Name": "eks-platform"}
    assert normalized(template) == {"Code": {"S3Key": "<asset-hash>.zip"}, "Name": "eks-platform"}

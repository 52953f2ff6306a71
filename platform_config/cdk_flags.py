"""The pinned aws-cdk-lib's recommended feature flags, read from its package (tests/test_feature_flags.py
compares FEATURE_FLAGS with them); reading needs no CDK import, only the wheel's files."""

from __future__ import annotations

import importlib.metadata
import json
import tarfile
from typing import Any

RECOMMENDED_FILE = "package/recommended-feature-flags.json"


def recommended_flags() -> dict[str, Any]:
    """aws-cdk-lib's recommended-feature-flags.json from the installed wheel's jsii tarball."""
    dist = importlib.metadata.distribution("aws-cdk-lib")
    for file in dist.files or []:
        if file.name.endswith(".jsii.tgz"):
            with tarfile.open(str(dist.locate_file(file))) as tar:
                member = tar.extractfile(RECOMMENDED_FILE)
                if member is None:
                    break
                return dict(json.load(member))
    raise RuntimeError(f"aws-cdk-lib {dist.version} has no {RECOMMENDED_FILE} in its jsii tarball")

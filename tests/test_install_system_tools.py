"""tools/setup/install_system_tools.sh gets promtool and Graphviz `dot` without installing or starting a service:
promtool is unpacked from the distribution's package into the tool cache (never installed), apt runs without sudo
as root, Homebrew on macOS, one clear message elsewhere; it never leaves `make test` to skip the promtool checks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "setup" / "install_system_tools.sh"
BASH = shutil.which("bash") or "/bin/bash"
# Packages that ship a service unit (Debian starts it on install): the install step must never install one.
SERVICE_PACKAGES = {"prometheus"}
# Shims log "<name> <args>". `apt-get install` records its packages in a fake package database ($DPKG_STATUS)
# and creates `dot` as graphviz would; `apt-get download` writes prometheus_<v>.deb, which the dpkg-deb shim
# unpacks into a tree holding usr/bin/promtool, as the real .deb does.
LOGGING = '#!/bin/sh\necho "{name} $*" >> "$LOG"\n'
APT = LOGGING + (
    'case "$1" in\n'
    '  install) shift; for p in "$@"; do case "$p" in -*) ;; *) echo "$p" >> "$DPKG_STATUS" ;; esac; done;'
    ' printf "#!/bin/sh\\n" > "$BIN/dot"; chmod +x "$BIN/dot" ;;\n'
    '  download) for p in "$@"; do case "$p" in -*|download) ;; *) : > "${p}_1.0_amd64.deb" ;; esac; done ;;\n'
    "esac\n"
)
DPKG_DEB = LOGGING + 'mkdir -p "$3/usr/bin" && printf "#!/bin/sh\\n" > "$3/usr/bin/promtool"\n'
BREW = LOGGING + (
    'case "$1" in\n'
    '  install) printf "#!/bin/sh\\n" > "$BIN/dot"; chmod +x "$BIN/dot" ;;\n'
    '  --cache) echo "$CACHE/prometheus.bottle.tar.gz" ;;\n'
    '  fetch) mkdir -p "$CACHE/b/prometheus/3.0/bin" && printf "#!/bin/sh\\n" > "$CACHE/b/prometheus/3.0/bin/promtool"'
    ' && tar -czf "$CACHE/prometheus.bottle.tar.gz" -C "$CACHE/b" prometheus ;;\n'
    "esac\n"
)
REAL = ("chmod", "mktemp", "rm", "find", "head", "cp", "mv", "mkdir", "tar", "gzip", "dirname", "env", "cat")


def run(tmp_path: Path, uid: str, system: str, tools: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shims = {"id": f"#!/bin/sh\necho {uid}\n", "uname": f"#!/bin/sh\necho {system}\n", **tools}
    for name in REAL:
        (bindir / name).symlink_to(shutil.which(name) or f"/bin/{name}")
    for name, body in shims.items():
        (bindir / name).write_text(body.replace("{name}", name))
        (bindir / name).chmod(0o755)
    (tmp_path / "cache").mkdir()
    env = {
        "PATH": str(bindir),
        "LOG": str(tmp_path / "log"),
        "BIN": str(bindir),
        "CACHE": str(tmp_path / "cache"),
        "DPKG_STATUS": str(tmp_path / "dpkg-status"),
        "PROMTOOL_DIR": str(tmp_path / "tools" / "promtool"),
        "TMPDIR": str(tmp_path),
    }
    return subprocess.run([BASH, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30, check=False)


def log(tmp_path: Path) -> list[str]:
    path = tmp_path / "log"
    return path.read_text().splitlines() if path.exists() else []


def installed_packages(tmp_path: Path) -> set[str]:
    path = tmp_path / "dpkg-status"
    return set(path.read_text().split()) if path.exists() else set()


def promtool_in_cache(tmp_path: Path) -> bool:
    return (tmp_path / "tools" / "promtool" / "promtool").is_file()


def test_debian_installs_no_package_that_ships_a_service(tmp_path: Path) -> None:
    result = run(tmp_path, "0", "Linux", {"apt-get": APT, "dpkg-deb": DPKG_DEB, "sudo": LOGGING})
    assert result.returncode == 0, result.stderr
    assert installed_packages(tmp_path) & SERVICE_PACKAGES == set()
    assert promtool_in_cache(tmp_path)


def test_debian_as_root_downloads_prometheus_and_installs_only_graphviz_without_sudo(tmp_path: Path) -> None:
    result = run(tmp_path, "0", "Linux", {"apt-get": APT, "dpkg-deb": DPKG_DEB, "sudo": LOGGING})
    assert result.returncode == 0, result.stderr
    assert [line for line in log(tmp_path) if line.startswith("apt-get")] == [
        "apt-get download -qq prometheus",
        "apt-get update -qq",
        "apt-get install -y -qq --no-install-recommends graphviz",
    ]
    assert not [line for line in log(tmp_path) if line.startswith("sudo")]


def test_debian_as_a_user_uses_sudo_without_a_password_prompt(tmp_path: Path) -> None:
    sudo = LOGGING + 'shift; "$@"\n'
    result = run(tmp_path, "1000", "Linux", {"apt-get": APT, "dpkg-deb": DPKG_DEB, "sudo": sudo})
    assert result.returncode == 0, result.stderr
    assert "sudo -n apt-get update -qq" in log(tmp_path)
    assert installed_packages(tmp_path) == {"graphviz"}


def test_debian_without_package_lists_updates_them_once_then_downloads(tmp_path: Path) -> None:
    unlisted = '[ -e "$CACHE/listed" ] || { : > "$CACHE/listed"; exit 100; };'
    first_fails = APT.replace("  download)", f"  download) {unlisted}")
    result = run(tmp_path, "0", "Linux", {"apt-get": first_fails, "dpkg-deb": DPKG_DEB})
    assert result.returncode == 0, result.stderr
    assert [line for line in log(tmp_path) if line.startswith("apt-get")].count("apt-get update -qq") == 1
    assert promtool_in_cache(tmp_path)


def test_macos_unpacks_the_bottle_and_installs_only_graphviz(tmp_path: Path) -> None:
    result = run(tmp_path, "501", "Darwin", {"brew": BREW})
    assert result.returncode == 0, result.stderr
    assert log(tmp_path) == ["brew fetch --quiet prometheus", "brew --cache prometheus", "brew install graphviz"]
    assert promtool_in_cache(tmp_path)


@pytest.mark.parametrize("system", ["Darwin", "FreeBSD"])
def test_elsewhere_one_clear_message_and_failure(tmp_path: Path, system: str) -> None:
    result = run(tmp_path, "501", system, {})
    assert result.returncode == 1
    assert result.stderr.startswith("error: make test needs promtool and make diagram needs dot (Graphviz)")
    assert "no server needed" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert log(tmp_path) == []


def test_cached_promtool_and_dot_mean_nothing_to_do(tmp_path: Path) -> None:
    cache = tmp_path / "tools" / "promtool"
    cache.mkdir(parents=True)
    (cache / "promtool").write_text("#!/bin/sh\n")
    (cache / "promtool").chmod(0o755)
    result = run(tmp_path, "0", "Linux", {"dot": LOGGING, "apt-get": LOGGING})
    assert result.returncode == 0
    assert log(tmp_path) == []


def test_a_promtool_on_path_is_not_enough_the_cache_is_filled(tmp_path: Path) -> None:
    result = run(tmp_path, "0", "Linux", {"promtool": LOGGING, "dot": LOGGING, "apt-get": APT, "dpkg-deb": DPKG_DEB})
    assert result.returncode == 0, result.stderr
    assert log(tmp_path)[0] == "apt-get download -qq prometheus"
    assert installed_packages(tmp_path) == set()


def test_only_graphviz_is_installed_when_dot_is_missing(tmp_path: Path) -> None:
    result = run(tmp_path, "0", "Linux", {"apt-get": APT, "dpkg-deb": DPKG_DEB})
    assert result.returncode == 0, result.stderr
    assert installed_packages(tmp_path) == {"graphviz"}

"""tools/install_system_tools.sh installs promtool the platform's way: apt without sudo as root, Homebrew on macOS,
one clear message elsewhere; it never leaves `make test` to skip the promtool checks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pinned_tools import shellcheck

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "install_system_tools.sh"
BASH = shutil.which("bash") or "/bin/bash"
# Shims log "<name> <args>"; an installer shim also creates a promtool shim, as the real package would.
LOGGING = '#!/bin/sh\necho "{name} $*" >> "$LOG"\n'
INSTALLS = (
    LOGGING + 'case "$*" in *install*) printf "#!/bin/sh\\n" > "$BIN/promtool"; chmod +x "$BIN/promtool" ;; esac\n'
)


def run(tmp_path: Path, uid: str, system: str, tools: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shims = {"id": f"#!/bin/sh\necho {uid}\n", "uname": f"#!/bin/sh\necho {system}\n", "chmod": "", **tools}
    for name, body in shims.items():
        if name == "chmod":
            (bindir / name).symlink_to(shutil.which("chmod") or "/bin/chmod")
            continue
        (bindir / name).write_text(body.replace("{name}", name))
        (bindir / name).chmod(0o755)
    env = {"PATH": str(bindir), "LOG": str(tmp_path / "log"), "BIN": str(bindir)}
    return subprocess.run([BASH, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30, check=False)


def log(tmp_path: Path) -> list[str]:
    path = tmp_path / "log"
    return path.read_text().splitlines() if path.exists() else []


def test_debian_as_root_uses_apt_without_sudo(tmp_path: Path) -> None:
    result = run(tmp_path, "0", "Linux", {"apt-get": INSTALLS, "sudo": LOGGING})
    assert result.returncode == 0, result.stderr
    assert log(tmp_path) == [
        "apt-get update -qq",
        "apt-get install -y -qq --no-install-recommends prometheus",
    ]


def test_debian_as_a_user_uses_sudo_without_a_password_prompt(tmp_path: Path) -> None:
    sudo = LOGGING + 'shift; "$@"\n'
    result = run(tmp_path, "1000", "Linux", {"apt-get": INSTALLS, "sudo": sudo})
    assert result.returncode == 0, result.stderr
    assert log(tmp_path)[0] == "sudo -n apt-get update -qq"


def test_macos_uses_homebrew(tmp_path: Path) -> None:
    result = run(tmp_path, "501", "Darwin", {"brew": INSTALLS})
    assert result.returncode == 0, result.stderr
    assert log(tmp_path) == ["brew install prometheus"]


@pytest.mark.parametrize("system", ["Darwin", "FreeBSD"])
def test_elsewhere_one_clear_message_and_failure(tmp_path: Path, system: str) -> None:
    result = run(tmp_path, "501", system, {})
    assert result.returncode == 1
    assert result.stderr.startswith("error: promtool (from Prometheus) is needed by make test; install it:")
    assert "brew install prometheus" in result.stderr and "apt-get install prometheus" in result.stderr
    assert log(tmp_path) == []


def test_installed_promtool_means_nothing_to_do(tmp_path: Path) -> None:
    result = run(tmp_path, "0", "Linux", {"promtool": LOGGING, "apt-get": LOGGING})
    assert result.returncode == 0
    assert log(tmp_path) == []


def test_script_is_shellcheck_clean() -> None:
    assert shellcheck(SCRIPT).returncode == 0

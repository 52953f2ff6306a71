"""tools/install_system_tools.sh installs promtool and Graphviz `dot` the platform's way: apt without sudo as root,
Homebrew on macOS, one clear message elsewhere; it never leaves `make test` to skip the promtool checks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pinned_tools import shellcheck

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "install_system_tools.sh"
BASH = shutil.which("bash") or "/bin/bash"
# Shims log "<name> <args>"; an installer shim also creates the promtool and dot shims, as the packages would.
LOGGING = '#!/bin/sh\necho "{name} $*" >> "$LOG"\n'
INSTALLS = LOGGING + (
    'case "$*" in *install*) for t in promtool dot; do printf "#!/bin/sh\\n" > "$BIN/$t"; chmod +x "$BIN/$t"; done ;;'
    " esac\n"
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
        "apt-get install -y -qq --no-install-recommends prometheus graphviz",
    ]


def test_debian_as_a_user_uses_sudo_without_a_password_prompt(tmp_path: Path) -> None:
    sudo = LOGGING + 'shift; "$@"\n'
    result = run(tmp_path, "1000", "Linux", {"apt-get": INSTALLS, "sudo": sudo})
    assert result.returncode == 0, result.stderr
    assert log(tmp_path)[0] == "sudo -n apt-get update -qq"


def test_macos_uses_homebrew(tmp_path: Path) -> None:
    result = run(tmp_path, "501", "Darwin", {"brew": INSTALLS})
    assert result.returncode == 0, result.stderr
    assert log(tmp_path) == ["brew install prometheus graphviz"]


@pytest.mark.parametrize("system", ["Darwin", "FreeBSD"])
def test_elsewhere_one_clear_message_and_failure(tmp_path: Path, system: str) -> None:
    result = run(tmp_path, "501", system, {})
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: make test needs promtool (Prometheus) and make diagram needs dot (Graphviz)"
    )
    assert "brew install prometheus graphviz" in result.stderr
    assert "apt-get install prometheus graphviz" in result.stderr
    assert log(tmp_path) == []


def test_installed_promtool_and_dot_mean_nothing_to_do(tmp_path: Path) -> None:
    result = run(tmp_path, "0", "Linux", {"promtool": LOGGING, "dot": LOGGING, "apt-get": LOGGING})
    assert result.returncode == 0
    assert log(tmp_path) == []


@pytest.mark.parametrize(("present", "package"), [("promtool", "graphviz"), ("dot", "prometheus")])
def test_only_the_missing_tool_is_installed(tmp_path: Path, present: str, package: str) -> None:
    result = run(tmp_path, "0", "Linux", {present: LOGGING, "apt-get": INSTALLS})
    assert result.returncode == 0, result.stderr
    assert log(tmp_path)[-1] == f"apt-get install -y -qq --no-install-recommends {package}"


def test_script_is_shellcheck_clean() -> None:
    assert shellcheck(SCRIPT).returncode == 0

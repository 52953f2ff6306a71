"""jsii's Node is started the same way by every entry that loads the CDK: through jsii_node.sh when that Node takes
the script's flags (a user's own JSII_NODE wins), and an end-of-life banner never reaches the user as raw bytes: an
unsupported Node gets one decoded line and the banner is silenced; a supported Node gets nothing."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable

import pytest

from platform_config import node_runtime
from platform_config.node_runtime import (
    JSII_NODE_SCRIPT,
    JSII_NODE_VARIABLE,
    SILENCE_VARIABLE,
    SUPPORTED_NODE_MAJORS,
    node_major,
    prepare_node,
)
from tests.conftest import ROOT

SCRIPT = str(JSII_NODE_SCRIPT)


def answering(version: str, refused: tuple[str, ...] = ()) -> Callable[[list[str]], str]:
    """A `--version` runner: every executable answers `version`, except those in `refused` (no output, as Node
    prints nothing on stdout for an option it refuses)."""
    return lambda cmd: "" if cmd[0] in refused else version + "\n"


def script_flags() -> list[str]:
    """The flags jsii_node.sh gives Node, read from its exec line."""
    line = next(line for line in JSII_NODE_SCRIPT.read_text().splitlines() if line.startswith("exec node "))
    return [word for word in line.split() if word.startswith("--")]


def test_an_end_of_life_node_gets_one_decoded_line_and_a_silenced_banner() -> None:
    env: dict[str, str] = {}
    line = prepare_node(env, answering("v20.20.2"))
    assert env == {SILENCE_VARIABLE: "20", JSII_NODE_VARIABLE: SCRIPT}
    assert line is not None and line.startswith("warning: Node 20 ") and "\n" not in line
    assert all(str(major) in line for major in SUPPORTED_NODE_MAJORS)


@pytest.mark.parametrize("major", SUPPORTED_NODE_MAJORS)
def test_a_supported_node_gets_no_line_and_starts_through_the_script(major: int) -> None:
    env: dict[str, str] = {}
    assert prepare_node(env, answering(f"v{major}.1.0")) is None
    assert env == {JSII_NODE_VARIABLE: SCRIPT}


def test_a_node_that_refuses_the_scripts_flags_starts_as_jsii_starts_it_and_still_gets_its_line() -> None:
    env: dict[str, str] = {}
    line = prepare_node(env, answering("v20.20.2", refused=(SCRIPT,)))
    assert JSII_NODE_VARIABLE not in env and env == {SILENCE_VARIABLE: "20"}
    assert line is not None and line.startswith("warning: Node 20 ")


def test_a_users_own_jsii_node_is_kept_and_its_version_is_the_one_judged() -> None:
    seen: list[list[str]] = []

    def run(cmd: list[str]) -> str:
        seen.append(cmd)
        return "v24.0.0\n" if cmd[0] == "/opt/node24/bin/node" else "v20.0.0\n"

    env = {JSII_NODE_VARIABLE: "/opt/node24/bin/node"}
    assert prepare_node(env, run) is None
    assert env == {JSII_NODE_VARIABLE: "/opt/node24/bin/node"} and seen == [["/opt/node24/bin/node", "--version"]]


def test_an_explicit_silence_is_respected_and_no_node_means_no_line() -> None:
    env = {SILENCE_VARIABLE: "18"}
    assert prepare_node(env, answering("v18.0.0")) is None and env[SILENCE_VARIABLE] == "18"

    def missing(cmd: list[str]) -> str:
        raise FileNotFoundError(cmd[0])

    env = {}
    assert prepare_node(env, missing) is None and env == {}


def test_the_node_on_path_takes_the_scripts_flags() -> None:
    flags = script_flags()
    assert flags, "jsii_node.sh gives Node no flags"
    result = subprocess.run(
        [SCRIPT, "-e", "process.stdout.write(JSON.stringify(process.execArgv))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[: len(flags)] == flags


def test_loading_the_stacks_starts_jsiis_node_through_the_script_and_never_prints_the_banner_as_raw_bytes() -> None:
    env = {k: v for k, v in os.environ.items() if k not in (SILENCE_VARIABLE, JSII_NODE_VARIABLE)}
    # The Node processes under this process once the CDK is loaded: jsii's runtime and the program it starts.
    probe = (
        "import os, platform_stacks.platform_app\n"
        "def kids(pid):\n"
        "    return [int(p) for p in open(f'/proc/{pid}/task/{pid}/children').read().split()]\n"
        "todo, seen = kids(os.getpid()), []\n"
        "while todo:\n"
        "    pid = todo.pop()\n"
        "    seen.append(open(f'/proc/{pid}/cmdline').read().replace(chr(0), ' '))\n"
        "    todo += kids(pid)\n"
        "print(os.environ.get('JSII_NODE'))\n"
        "print('\\n'.join(seen))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    jsii_node, *processes = result.stdout.splitlines()
    assert jsii_node == SCRIPT
    programs = [cmd for cmd in processes if re.search(r"node .*program\.js", cmd)]
    assert programs and all(flag in programs[0].split() for flag in script_flags()), processes
    assert "b'!!" not in result.stderr and "end-of-life and not supported" not in result.stderr
    major = node_major()
    decoded = [line for line in result.stderr.splitlines() if line.startswith("warning: Node ")]
    assert len(decoded) == (0 if major in SUPPORTED_NODE_MAJORS or major is None else 1), result.stderr


def test_off_posix_jsii_starts_node_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(node_runtime.os, "name", "nt")
    env: dict[str, str] = {}
    assert prepare_node(env, answering("v22.1.0")) is None and env == {}


def test_a_script_that_cannot_run_falls_back_to_node_for_the_banner() -> None:
    def run(cmd: list[str]) -> str:
        if cmd[0] == SCRIPT:
            raise PermissionError(cmd[0])  # no exec bit, or a checkout on a noexec mount
        return "v20.20.2\n"

    env: dict[str, str] = {}
    line = prepare_node(env, run)
    assert env == {SILENCE_VARIABLE: "20"} and line is not None and line.startswith("warning: Node 20 ")


def test_a_script_set_by_a_parent_process_is_decided_again_for_this_checkout() -> None:
    # A repository copy (the fork test, the add-on recipe) inherits its parent's JSII_NODE: another checkout's script.
    env = {JSII_NODE_VARIABLE: "/elsewhere/checkout/platform_config/jsii_node.sh"}
    assert prepare_node(env, answering("v22.1.0")) is None and env == {JSII_NODE_VARIABLE: SCRIPT}
    env = {JSII_NODE_VARIABLE: "/elsewhere/checkout/platform_config/jsii_node.sh"}
    assert prepare_node(env, answering("v22.1.0", refused=(SCRIPT,))) is None and env == {}


def prepare_calls(tree: ast.Module, top_level: bool = False) -> list[int]:
    """Lines calling prepare_for_cdk(): anywhere, or as a statement of the module itself."""
    nodes = [s.value for s in tree.body if isinstance(s, ast.Expr)] if top_level else list(ast.walk(tree))
    return [n.lineno for n in nodes if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "prepare_for_cdk"]


def test_every_module_that_imports_the_cdk_prepares_jsiis_node_first() -> None:
    """A module importing aws_cdk, constructs or cdk_nag (which start jsii's Node) lives in a package whose
    __init__ calls prepare_for_cdk, or calls it itself before that import."""
    cdk = {"aws_cdk", "constructs", "cdk_nag"}
    checked = 0
    skipped = {"tests", "node_modules", "cdk.out"}
    packages = [d for d in ROOT.iterdir() if d.is_dir() and not d.name.startswith(".") and d.name not in skipped]
    for path in [*sorted(p for d in packages for p in d.rglob("*.py")), ROOT / "app.py"]:
        rel = path.relative_to(ROOT)
        tree = ast.parse(path.read_text())
        imports = [
            node
            for node in ast.walk(tree)
            if (isinstance(node, ast.Import) and any(a.name.split(".")[0] in cdk for a in node.names))
            or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in cdk)
        ]
        if not imports:
            continue
        checked += 1
        init = path.parent / "__init__.py"
        if init != path and init.is_file() and prepare_calls(ast.parse(init.read_text()), top_level=True):
            continue
        calls = prepare_calls(tree)
        assert calls and min(calls) < min(node.lineno for node in imports), f"{rel} imports the CDK unprepared"
    assert checked > 10


def test_this_checkouts_script_already_set_is_kept_without_running_node_again() -> None:
    seen: list[list[str]] = []

    def run(cmd: list[str]) -> str:
        seen.append(cmd)
        return "v22.1.0\n"

    env = {JSII_NODE_VARIABLE: SCRIPT, SILENCE_VARIABLE: "20"}
    assert prepare_node(env, run) is None and env[JSII_NODE_VARIABLE] == SCRIPT and seen == []

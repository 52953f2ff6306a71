"""jsii's Node end-of-life banner never reaches the user as raw bytes: an unsupported Node gets one decoded line
and the banner is silenced, wherever the CDK is loaded (platform_stacks); a supported Node gets nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from platform_config.node_runtime import SILENCE_VARIABLE, SUPPORTED_NODE_MAJORS, node_major, quiet_node_banner
from tests.conftest import ROOT


def answering(version: str):  # type: ignore[no-untyped-def]
    return lambda cmd: version + "\n"


def test_an_end_of_life_node_gets_one_decoded_line_and_a_silenced_banner() -> None:
    env: dict[str, str] = {}
    line = quiet_node_banner(env, answering("v20.20.2"))
    assert env == {SILENCE_VARIABLE: "20"}
    assert line is not None and line.startswith("warning: Node 20 ") and "\n" not in line
    assert all(str(major) in line for major in SUPPORTED_NODE_MAJORS)


@pytest.mark.parametrize("major", SUPPORTED_NODE_MAJORS)
def test_a_supported_node_gets_nothing(major: int) -> None:
    env: dict[str, str] = {}
    assert quiet_node_banner(env, answering(f"v{major}.1.0")) is None
    assert env == {}


def test_an_explicit_silence_is_respected_and_no_node_means_no_line() -> None:
    assert quiet_node_banner({SILENCE_VARIABLE: "18"}, answering("v18.0.0")) is None

    def missing(cmd: list[str]) -> str:
        raise FileNotFoundError(cmd[0])

    env: dict[str, str] = {}
    assert quiet_node_banner(env, missing) is None and env == {}


def test_loading_the_stacks_never_prints_the_banner_as_raw_bytes() -> None:
    env = {k: v for k, v in os.environ.items() if k != SILENCE_VARIABLE}
    result = subprocess.run(
        [sys.executable, "-c", "import platform_stacks.platform_app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "b'!!" not in result.stderr and "end-of-life and not supported" not in result.stderr
    major = node_major()
    decoded = [line for line in result.stderr.splitlines() if line.startswith("warning: Node ")]
    assert len(decoded) == (0 if major in SUPPORTED_NODE_MAJORS or major is None else 1), result.stderr

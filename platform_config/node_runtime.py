"""jsii's Node end-of-life banner: the Python runtime relays it as raw bytes (b'!!  Node 20 is end-of-life…'), so
importing platform_stacks (before aws_cdk) prints one decoded line and silences the banner, the same under make,
the CLI, `python app.py` and the tools."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, MutableMapping

SILENCE_VARIABLE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
# The Node releases jsii supports (its banner lists ^24 and ^22) and the README asks for.
SUPPORTED_NODE_MAJORS = (22, 24)

Runner = Callable[[list[str]], str]


def _node_version(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False).stdout


def node_major(run: Runner = _node_version) -> int | None:
    """The major version of `node` on PATH; None when there is none."""
    try:
        match = re.match(r"v(\d+)\.", run(["node", "--version"]).strip())
    except OSError:
        return None
    return int(match[1]) if match else None


def quiet_node_banner(env: MutableMapping[str, str], run: Runner = _node_version) -> str | None:
    """Silence jsii's banner for an unsupported Node and return the one line to print instead (None: nothing)."""
    if env.get(SILENCE_VARIABLE):
        return None
    major = node_major(run)
    if major is None or major in SUPPORTED_NODE_MAJORS:
        return None
    env[SILENCE_VARIABLE] = str(major)
    supported = " or ".join(str(m) for m in SUPPORTED_NODE_MAJORS)
    return (
        f"warning: Node {major} is not supported by aws-cdk-lib's jsii runtime (end-of-life); install Node {supported}"
    )

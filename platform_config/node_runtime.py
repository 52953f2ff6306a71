"""jsii's Node for every module that loads the CDK (prepare_for_cdk runs first: in platform_stacks' and
constructs_lib's __init__, and in a tool before its own aws_cdk import): started through jsii_node.sh when that Node
accepts the script's flags, and an end-of-life banner (relayed by jsii as raw bytes, b'!!  Node 20 is
end-of-life…') replaced by one decoded line; the same under make, the CLI, `python app.py` and the tools.
Opt out with JSII_NODE=node (a JSII_NODE of your own is kept)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, MutableMapping
from pathlib import Path

SILENCE_VARIABLE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
# The executable jsii's Python runtime starts instead of `node` (with its own arguments after ours).
JSII_NODE_VARIABLE = "JSII_NODE"
JSII_NODE_SCRIPT = Path(__file__).resolve().with_name("jsii_node.sh")
# The Node releases jsii supports (its banner lists ^24 and ^22) and the README asks for.
SUPPORTED_NODE_MAJORS = (22, 24)

Runner = Callable[[list[str]], str]


def _node_version(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False).stdout


def node_major(run: Runner = _node_version, node: str = "node") -> int | None:
    """The major version of `node` (or the given executable run as Node); None when it does not answer."""
    try:
        match = re.match(r"v(\d+)\.", run([node, "--version"]).strip())
    except (OSError, subprocess.SubprocessError):  # not runnable (no exec bit, noexec mount), or hung past the timeout
        return None
    return int(match[1]) if match else None


def prepare_node(env: MutableMapping[str, str], run: Runner = _node_version) -> str | None:
    """Point JSII_NODE at jsii_node.sh when it runs here (a POSIX shell, a Node that accepts its flags) and no
    JSII_NODE is set; silence jsii's banner for an unsupported Node and return the one line to print instead."""
    major = None
    inherited = env.get(JSII_NODE_VARIABLE)
    if is_jsii_node_script(inherited) and inherited != str(JSII_NODE_SCRIPT):
        # Another checkout's script (a repository copy's parent process set it): this checkout decides again.
        del env[JSII_NODE_VARIABLE]
    if JSII_NODE_VARIABLE not in env and os.name == "posix":
        # One start of the script both proves its flags are accepted (Node refuses an unknown one) and reads the
        # version; a Node that refuses them runs as jsii starts it.
        major = node_major(run, str(JSII_NODE_SCRIPT))
        if major is not None:
            env[JSII_NODE_VARIABLE] = str(JSII_NODE_SCRIPT)
    if env.get(SILENCE_VARIABLE):
        return None
    if major is None:
        major = node_major(run, env.get(JSII_NODE_VARIABLE, "node"))
    if major is None or major in SUPPORTED_NODE_MAJORS:
        return None
    env[SILENCE_VARIABLE] = str(major)
    supported = " or ".join(str(m) for m in SUPPORTED_NODE_MAJORS)
    return (
        f"warning: Node {major} is not supported by aws-cdk-lib's jsii runtime (end-of-life); install Node {supported}"
    )


def is_jsii_node_script(value: str | None) -> bool:
    """Whether a JSII_NODE value is a checkout's jsii_node.sh (set by prepare_node), not a user's own Node."""
    return (
        value is not None and Path(value).name == JSII_NODE_SCRIPT.name and Path(value).parent.name == "platform_config"
    )


def prepare_for_cdk() -> None:
    """prepare_node on this process's environment, printing its one line (if any) to stderr; call it before
    `import aws_cdk` (importing aws_cdk starts jsii's Node)."""
    line = prepare_node(os.environ)
    if line:
        print(line, file=sys.stderr)

#!/usr/bin/env python3
"""CDK entry point: checks the context the CLI passed (or cdk.json, run directly) before the CDK is loaded."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from platform_config.config import ConfigError, app_config
from platform_config.raw_context import app_context


def main() -> None:
    # The context is read as aws-cdk-lib's App reads it (CDK_CONTEXT_JSON and its overflow file), or from
    # cdk.json when run without the CLI, and checked (app_config: everything build_app refuses) before the
    # CDK's JavaScript bridge starts: a value nested too deep would crash it, and a bad value gets one line
    # instead of a traceback.
    try:
        context = app_context(os.environ, Path(__file__).resolve().parent / "cdk.json")
        app_config(context, os.environ)
    except ConfigError as err:
        sys.exit(f"error: {err}")
    from platform_stacks.platform_app import build_app  # loads the CDK: only for a valid configuration

    build_app(context, env=os.environ).app.synth()
    # The assembly is complete on disk when synth returns. Leave without waiting for jsii's Node process to wind
    # down (0.5-1 s of V8 teardown on every synth): it reads end-of-input and exits on its own.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""CDK entry point: `cdk synth` passes cdk.json's context; run directly, it reads cdk.json itself."""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk

from platform_config.config import ConfigError
from platform_stacks.platform_app import build_app, cdk_json_context


def main() -> None:
    # The CDK CLI hands context over in the environment; without it (python app.py) read cdk.json
    # rather than silently synthesizing dummy availability zones.
    context = None if cdk.App().node.try_get_context("cluster_name") is not None else cdk_json_context()
    try:
        platform = build_app(context, env=os.environ)
    except ConfigError as err:
        sys.exit(f"error: {err}")
    platform.app.synth()


if __name__ == "__main__":
    main()

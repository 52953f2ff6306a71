"""Stacks: deployable units that only wire constructs together. Importing them loads aws-cdk-lib, whose jsii
runtime would relay Node's end-of-life banner as raw bytes: every entry point gets one decoded line instead."""

import os
import sys

from platform_config.node_runtime import quiet_node_banner

_BANNER = quiet_node_banner(os.environ)  # before any submodule imports aws_cdk and starts the runtime
if _BANNER:
    print(_BANNER, file=sys.stderr)

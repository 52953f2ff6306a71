"""Stacks: deployable units that only wire constructs together. Importing them loads aws-cdk-lib: jsii's Node is
prepared first (platform_config/node_runtime.py), so every entry point starts it the same way."""

import os
import sys

from platform_config.node_runtime import prepare_node

_BANNER = prepare_node(os.environ)  # before any submodule imports aws_cdk and starts the runtime
if _BANNER:
    print(_BANNER, file=sys.stderr)

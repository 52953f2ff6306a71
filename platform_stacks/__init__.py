"""Stacks: deployable units that only wire constructs together. Importing them loads aws-cdk-lib: jsii's Node is
prepared first (platform_config/node_runtime.py), so every entry point starts it the same way."""

from platform_config.node_runtime import prepare_for_cdk

prepare_for_cdk()  # before any submodule imports aws_cdk and starts the runtime

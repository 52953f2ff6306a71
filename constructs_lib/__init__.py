"""Constructs: one logical unit each, exposing what they create as attributes. Importing them loads aws-cdk-lib:
jsii's Node is prepared first (platform_config/node_runtime.py), as platform_stacks does."""

from platform_config.node_runtime import prepare_for_cdk

prepare_for_cdk()  # before any submodule imports aws_cdk and starts the runtime

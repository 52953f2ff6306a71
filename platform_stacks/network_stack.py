"""NetworkStack: the platform VPC."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from constructs_lib.network import PlatformVpc
from platform_config.config import PlatformConfig


class NetworkStack(Stack):
    """Wires PlatformVpc; exposes `vpc`, `control_plane_subnets` and `control_plane_cidrs`."""

    def __init__(self, scope: Construct, id_: str, *, config: PlatformConfig, **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        self.network = PlatformVpc(self, "Network", config=config)
        self.vpc = self.network.vpc
        self.control_plane_subnets = self.network.control_plane_subnets
        self.control_plane_cidrs = self.network.control_plane_cidrs

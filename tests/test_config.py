"""Every bad context value stops synth with one message naming the key, the value and what is accepted."""

from __future__ import annotations

from typing import Any

import pytest

from platform_config.config import ConfigError, PlatformConfig, check_unknown_keys
from platform_stacks.platform_app import build_app, cdk_json_context


def config_from(**overrides: Any) -> PlatformConfig:
    context = {**cdk_json_context(), **overrides}
    return PlatformConfig.from_context(context.get, {})


def test_cdk_json_defaults_are_valid_and_documented_values() -> None:
    config = config_from()
    assert config.cluster_name == "eks-platform"
    assert config.availability_zones == ("us-east-1a", "us-east-1b", "us-east-1c")
    assert config.nat_gateways == 1
    assert config.endpoint_access == "private"
    assert config.kubernetes_version == "1.29"


def test_cdk_json_carries_the_az_context_key_for_the_placeholder_account() -> None:
    context = cdk_json_context()
    key = f"availability-zones:account={context['account']}:region={context['region']}"
    assert context[key] == context["availability_zones"]


def test_cli_strings_are_coerced_like_json_values() -> None:
    config = config_from(
        nat_gateways="3", interface_endpoints="true", availability_zones="us-east-1a,us-east-1b,us-east-1d"
    )
    assert config.nat_gateways == 3
    assert config.interface_endpoints is True
    assert config.availability_zones[-1] == "us-east-1d"


def test_cdk_default_account_and_region_win_over_context() -> None:
    context = {**cdk_json_context(), "availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}
    config = PlatformConfig.from_context(
        context.get, {"CDK_DEFAULT_ACCOUNT": "222222222222", "CDK_DEFAULT_REGION": "eu-west-1"}
    )
    assert (config.account, config.region) == ("222222222222", "eu-west-1")


BAD_CASES = [
    (
        "malformed vpc cidr",
        {"vpc_cidr": "10.0.0.0/33"},
        "config key 'vpc_cidr' = '10.0.0.0/33': accepted is an IPv4 CIDR",
    ),
    (
        "host bits set",
        {"vpc_cidr": "10.0.0.1/16"},
        "config key 'vpc_cidr' = '10.0.0.1/16': accepted is an IPv4 CIDR",
    ),
    (
        "overlapping cidr",
        {"vpc_cidr": "172.20.0.0/16"},
        "config key 'service_ipv4_cidr' = '172.20.0.0/16': accepted is a range that does not overlap vpc_cidr",
    ),
    ("nat count too high", {"nat_gateways": 4}, "config key 'nat_gateways' = 4: accepted is 1 (cheap) to 3"),
    ("nat count zero", {"nat_gateways": 0}, "config key 'nat_gateways' = 0: accepted is 1 (cheap) to 3"),
    (
        "az outside region",
        {"availability_zones": ["us-east-1a", "us-east-1b", "us-west-2c"]},
        "config key 'availability_zones' = 'us-west-2c': accepted are zones of region us-east-1",
    ),
    (
        "cluster name with a dot",
        {"cluster_name": "my.cluster"},
        "config key 'cluster_name' = 'my.cluster': accepted is 1-80 characters",
    ),
    (
        "cluster name starting with hyphen",
        {"cluster_name": "-x"},
        "config key 'cluster_name' = '-x': accepted is 1-80 characters",
    ),
    (
        "unsupported kubernetes",
        {"kubernetes_version": "1.31"},
        "config key 'kubernetes_version' = '1.31': accepted is one of ['1.29']",
    ),
    (
        "min greater than max",
        {"system_node_min": 5, "system_node_max": 3},
        "config key 'system_node_min' = 5: accepted is at most system_node_max (3)",
    ),
    (
        "malformed admin arn",
        {"admin_principal_arns": ["arn:aws:iam::123:role/admin"]},
        "config key 'admin_principal_arns' = 'arn:aws:iam::123:role/admin': accepted is an IAM role or user ARN",
    ),
    (
        "log retention CloudWatch does not offer",
        {"log_retention_days": 45},
        "config key 'log_retention_days' = 45: accepted is a CloudWatch Logs retention in days: 1, 3, 5",
    ),
    (
        "admin arn of an IAM user",
        {"admin_principal_arns": ["arn:aws:iam::123456789012:user/alice"]},
        "config key 'admin_principal_arns' = 'arn:aws:iam::123456789012:user/alice': accepted is an IAM role ARN",
    ),
    (
        "viewer arn of an IAM user",
        {"viewer_principal_arns": ["arn:aws:iam::123456789012:user/bob"]},
        "config key 'viewer_principal_arns' = 'arn:aws:iam::123456789012:user/bob': accepted is an IAM role ARN",
    ),
    (
        "public endpoint open to the internet",
        {"endpoint_access": "public_and_private", "public_access_cidrs": ["0.0.0.0/0"]},
        "config key 'public_access_cidrs' = '0.0.0.0/0': accepted are restricted CIDRs; opening the API to the "
        "internet needs allow_public_endpoint_anywhere=true",
    ),
    (
        "public endpoint without cidrs",
        {"endpoint_access": "public_and_private"},
        "config key 'public_access_cidrs' = []: accepted is a non-empty list",
    ),
    (
        "unknown endpoint mode",
        {"endpoint_access": "public"},
        "config key 'endpoint_access' = 'public': accepted is",
    ),
    ("non-integer nat", {"nat_gateways": "two"}, "config key 'nat_gateways' = 'two': accepted is an integer"),
    (
        "unknown karpenter category",
        {"karpenter_categories": ["c", "q"]},
        "config key 'karpenter_categories' = 'q'",
    ),
    (
        "non-positive limit",
        {"karpenter_spot_cpu_limit": 0},
        "config key 'karpenter_spot_cpu_limit' = 0: accepted is a positive",
    ),
    (
        "malformed duration",
        {"karpenter_expire_after": "30d"},
        "config key 'karpenter_expire_after' = '30d': accepted is a Go duration",
    ),
    (
        "weight out of range",
        {"karpenter_spot_weight": 101},
        "config key 'karpenter_spot_weight' = 101: accepted is 1 to 100",
    ),
    (
        "ami alias latest",
        {"ami_alias": "al2023@latest"},
        "config key 'ami_alias' = 'al2023@latest': accepted is a pinned",
    ),
    (
        "bad repo url",
        {"git_repo_url": "ftp://x"},
        "config key 'git_repo_url' = 'ftp://x': accepted is an https://",
    ),
]


@pytest.mark.parametrize(("case", "overrides", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_value_is_rejected_with_key_value_and_accepted(case: str, overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from(**overrides)
    assert str(err.value).startswith(message), str(err.value)


def test_public_endpoint_anywhere_needs_and_accepts_explicit_opt_in() -> None:
    config = config_from(
        endpoint_access="public_and_private",
        public_access_cidrs=["0.0.0.0/0"],
        allow_public_endpoint_anywhere=True,
    )
    assert config.public_endpoint


def test_unknown_context_key_is_a_typo_not_ignored() -> None:
    with pytest.raises(
        ConfigError, match=r"config key 'nat_gateway' = 2: unknown key; accepted keys include nat_gateways"
    ):
        check_unknown_keys({"nat_gateway": 2, "@aws-cdk/core:x": True, "availability-zones:account=1:region=r": []})


def test_bad_config_fails_before_any_stack_is_built() -> None:
    with pytest.raises(ConfigError, match="nat_gateways"):
        build_app({**cdk_json_context(), "nat_gateways": 9}, env={}, nag=False)

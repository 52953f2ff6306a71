"""Every bad context value stops synth with one message naming the key, the value and what is accepted."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from platform_config import config as config_module
from platform_config import versions
from platform_config.aws_facts import LOG_RETENTION_DAYS
from platform_config.config import (
    CLUSTER_NAME_MAX,
    PUBLIC_ADDRESSES_MAX,
    ConfigError,
    PlatformConfig,
)
from platform_config.errors import SHOWN_MAX
from platform_stacks.platform_app import build_app
from tests.fixed_context import TEST_CONTEXT, fixed_context

PUBLIC = {"endpoint_access": "public_and_private"}
TOKEN = "ghp_" + "Q" * 36  # shaped like a GitHub token, built here so the repo holds no token-like literal


def config_from(env: dict[str, str] | None = None, **overrides: Any) -> PlatformConfig:
    context = fixed_context(**overrides)
    return PlatformConfig.from_context(context, env or {})


def refusal(overrides: dict[str, Any], env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        config_from(env, **overrides)
    return err.value


def test_fixed_test_context_is_the_documented_defaults() -> None:
    config = config_from()
    assert config.cluster_name == "eks-platform"
    assert config.availability_zones == ("us-east-1a", "us-east-1b", "us-east-1c")
    assert config.nat_gateways == 1
    assert config.endpoint_access == "private"
    assert config.release in ("seed", "current")


REAL_REPO = "https://github.com/acme/platform.git"


def test_configured_zones_answer_the_cdk_az_lookup_for_any_region_and_account() -> None:
    zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    platform = build_app(
        # A real repository URL: with credentials the placeholder one is refused (issue 13).
        fixed_context(region="eu-west-1", availability_zones=zones, git_repo_url=REAL_REPO),
        env={"CDK_DEFAULT_ACCOUNT": "222222222222"},
        nag=False,
    )
    assert platform.app.node.try_get_context("availability-zones:account=222222222222:region=eu-west-1") == zones
    assert platform.network.availability_zones == zones


def test_cli_strings_are_coerced_like_json_values() -> None:
    config = config_from(
        nat_gateways="3", interface_endpoints="true", availability_zones="us-east-1a,us-east-1b,us-east-1d"
    )
    assert config.nat_gateways == 3
    assert config.interface_endpoints is True
    assert config.availability_zones[-1] == "us-east-1d"


# --- one table per class of bad input: (id, overrides, key named in the error, part of the message) ---

WHOLE_VALUE = [
    ("cluster name, trailing newline", {"cluster_name": "eks\n"}, "cluster_name", "'eks\\n'"),
    ("account, trailing newline", {"account": "123456789012\n"}, "account", "12-digit"),
    ("account, Arabic-Indic digits", {"account": "١٢٣٤٥٦٧٨٩٠١٢"}, "account", "12-digit"),
    ("region, trailing newline", {"region": "us-east-1\n"}, "region", "where EKS is offered"),
    ("integer, trailing newline", {"nat_gateways": "1\n"}, "nat_gateways", "an integer"),
    ("integer, Arabic-Indic digit", {"nat_gateways": "١"}, "nat_gateways", "an integer"),
    ("boolean, trailing newline", {"interface_endpoints": "true\n"}, "interface_endpoints", "true or false"),
    ("cidr, trailing newline", {"vpc_cidr": "10.0.0.0/16\n"}, "vpc_cidr", "prefix notation"),
    ("cidr, Arabic-Indic digit", {"vpc_cidr": "١0.0.0.0/16"}, "vpc_cidr", "prefix notation"),
    ("endpoint mode, trailing newline", {"endpoint_access": "private\n"}, "endpoint_access", "'private' or"),
    ("duration, trailing newline", {"karpenter_expire_after": "720h\n"}, "karpenter_expire_after", "Go duration"),
    ("duration, Arabic-Indic digits", {"karpenter_consolidate_after": "١m"}, "karpenter_consolidate_after", "Go"),
    ("ami alias, trailing newline", {"ami_alias": "al2023@v20240807\n"}, "ami_alias", "pinned AL2023"),
    ("ami alias, Arabic-Indic digits", {"ami_alias": "al2023@v٢٠٢٤٠٨٠٧"}, "ami_alias", "pinned AL2023"),
    ("admin arn, trailing newline", {"admin_principal_arns": ["arn:aws:iam::123456789012:role/a\n"]}, "admin", "ARN"),
    ("git revision, trailing newline", {"git_revision": "main\n"}, "git_revision", "control or non-ASCII"),
    ("empty duration", {"karpenter_consolidate_after": ""}, "karpenter_consolidate_after", "Go duration"),
]

CIDRS = [
    ("vpc netmask notation", {"vpc_cidr": "10.0.0.0/255.255.0.0"}, "vpc_cidr", "prefix notation"),
    ("leading zero octet", {"vpc_cidr": "010.0.0.0/16"}, "vpc_cidr", "prefix notation"),
    ("host bits set", {"vpc_cidr": "10.0.0.1/16"}, "vpc_cidr", "no host bits"),
    ("prefix out of range", {"vpc_cidr": "10.0.0.0/33"}, "vpc_cidr", "prefix notation"),
    ("vpc too small", {"vpc_cidr": "10.0.0.0/21"}, "vpc_cidr", "/16 to /20"),
    ("vpc publicly routable", {"vpc_cidr": "8.8.0.0/16"}, "vpc_cidr", "inside 10.0.0.0/8"),
    ("service cidr loopback", {"service_ipv4_cidr": "127.0.0.0/16"}, "service_ipv4_cidr", "EKS's rule"),
    ("service cidr link-local", {"service_ipv4_cidr": "169.254.0.0/16"}, "service_ipv4_cidr", "EKS's rule"),
    ("service cidr carrier-grade nat", {"service_ipv4_cidr": "100.64.0.0/16"}, "service_ipv4_cidr", "EKS's rule"),
    ("service cidr too small", {"service_ipv4_cidr": "172.20.0.0/25"}, "service_ipv4_cidr", "/12 to /24"),
    ("service cidr netmask", {"service_ipv4_cidr": "172.20.0.0/255.255.0.0"}, "service_ipv4_cidr", "prefix"),
    ("service overlaps vpc", {"vpc_cidr": "172.20.0.0/16"}, "service_ipv4_cidr", "does not overlap vpc_cidr"),
    (
        "public cidr netmask",
        {**PUBLIC, "public_access_cidrs": ["52.0.0.0/255.255.255.0"]},
        "public_access_cidrs",
        "prefix notation",
    ),
    ("whole internet", {**PUBLIC, "public_access_cidrs": ["0.0.0.0/0"]}, "public_access_cidrs", "one /8"),
    (
        "two halves of the internet",
        {**PUBLIC, "public_access_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]},
        "public_access_cidrs",
        "allow_public_endpoint_anywhere=true",
    ),
    (
        "two /8s, more than the guard allows",
        {**PUBLIC, "public_access_cidrs": ["1.0.0.0/8", "2.0.0.0/8"]},
        "public_access_cidrs",
        "allow_public_endpoint_anywhere=true",
    ),
    ("private range on public endpoint", {**PUBLIC, "public_access_cidrs": ["10.1.0.0/16"]}, "public_access", "public"),
    (
        "loopback on public endpoint",
        {**PUBLIC, "public_access_cidrs": ["127.0.0.1/32"]},
        "public_access_cidrs",
        "internet-routable",
    ),
    (
        "carrier-grade nat on public endpoint",
        {**PUBLIC, "public_access_cidrs": ["100.64.0.0/16"]},
        "public_access_cidrs",
        "internet-routable",
    ),
    (
        "41 cidrs",
        {**PUBLIC, "public_access_cidrs": [f"52.0.{i}.0/24" for i in range(41)]},
        "public_access_cidrs",
        "at most 40",
    ),
    (
        "the same cidr twice",
        {**PUBLIC, "public_access_cidrs": ["52.0.0.0/24", "52.0.0.0/24"]},
        "public_access_cidrs",
        "listed twice",
    ),
    ("public endpoint without cidrs", PUBLIC, "public_access_cidrs", "non-empty list"),
    ("cidrs without public endpoint", {"public_access_cidrs": ["52.0.0.0/24"]}, "public_access_cidrs", "empty"),
]

UNKNOWN_KEYS = [
    ("kebab case", {"nat-gateways": 2}, "nat-gateways", "did you mean 'nat_gateways'?"),
    ("upper case", {"NAT_GATEWAYS": 2}, "NAT_GATEWAYS", "did you mean 'nat_gateways'?"),
    ("spaces", {"Nat Gateways": 2}, "Nat Gateways", "did you mean 'nat_gateways'?"),
    ("typo", {"nat_gateway": 2}, "nat_gateway", "did you mean 'nat_gateways'?"),
    ("camel case", {"clusterName": "x"}, "clusterName", "did you mean 'cluster_name'?"),
    ("nothing close", {"colour": "blue"}, "colour", "listed in docs/configuration.md"),
]

NULLS = [
    ("null cluster name", {"cluster_name": None}, "cluster_name", "null is not a value"),
    ("null integer", {"nat_gateways": None}, "nat_gateways", "null is not a value"),
    ("null list", {"public_access_cidrs": None}, "public_access_cidrs", "null is not a value"),
    ("null boolean", {"allow_public_endpoint_anywhere": None}, "allow_public_endpoint_anywhere", "null is not"),
]

TYPOS = [
    ("region without hyphen", {"region": "us-east1"}, "region", "did you mean 'us-east-1'?"),
    ("region that does not exist", {"region": "eu-west-9"}, "region", "where EKS is offered"),
    ("instance type typo", {"system_node_instance_types": ["m6i.lagre"]}, "system_node", "did you mean 'm6i.large'?"),
    ("instance type with a space", {"system_node_instance_types": ["m6i.large "]}, "system_node", "EC2 model"),
    ("graviton type on x86 nodes", {"system_node_instance_types": ["m7g.large"]}, "system_node", "x86_64"),
    ("gpu type on system nodes", {"system_node_instance_types": ["g5.xlarge"]}, "system_node", "without GPU"),
    ("type CDK cannot parse", {"system_node_instance_types": ["u-6tb1.metal"]}, "system_node", "x86_64"),
    ("retention that does not exist", {"flow_log_retention_days": 2}, "flow_log_retention_days", "RetentionDays"),
    ("retention past ten years", {"flow_log_retention_days": 4000}, "flow_log_retention_days", "3653"),
    ("kubernetes_version was removed", {"kubernetes_version": "1.31"}, "kubernetes_version", "set `release` instead"),
    ("release profile unknown", {"release": "latest"}, "release", "accepted is one of current, seed"),
    ("release profile empty", {"release": ""}, "release", "accepted is one of current, seed"),
    ("release profile a number", {"release": 1}, "release", "accepted is a string"),
    ("endpoint mode", {"endpoint_access": "public"}, "endpoint_access", "'private' or 'public_and_private'"),
    ("karpenter category", {"karpenter_categories": ["c", "q"]}, "karpenter_categories", "accepted are c, m, r"),
    ("architecture", {"karpenter_architectures": ["x86_64"]}, "karpenter_architectures", "amd64 and arm64"),
    ("compliance pack", {"compliance_packs": ["NIST.800.53.R4"]}, "compliance_packs", "did you mean 'NIST.800.53.R5'"),
    ("signature key", {"gitops_signature_keys": ["4aee18f8"]}, "gitops_signature_keys", "16 upper-case hex"),
    ("ami alias latest", {"ami_alias": "al2023@latest"}, "ami_alias", "not @latest"),
    ("az of another region", {"availability_zones": ["us-east-1a", "us-east-1b", "us-west-2c"]}, "availability", "us"),
    ("two zones", {"availability_zones": ["us-east-1a", "us-east-1b"]}, "availability_zones", "exactly 3"),
    ("zone twice", {"availability_zones": ["us-east-1a", "us-east-1a", "us-east-1b"]}, "availability", "twice"),
    (
        "arn of another partition",
        {"admin_principal_arns": ["arn:aws-cn:iam::123456789012:role/a"]},
        "admin",
        "arn:aws:",
    ),
    ("arn with short account", {"admin_principal_arns": ["arn:aws:iam::123:role/admin"]}, "admin", "IAM role ARN"),
    (
        "admin an IAM user",
        {"admin_principal_arns": ["arn:aws:iam::123456789012:user/alice"]},
        "admin",
        "users are refused",
    ),
    ("viewer an IAM user", {"viewer_principal_arns": ["arn:aws:iam::123456789012:user/bob"]}, "viewer", "users are"),
    ("log retention", {"log_retention_days": 45}, "log_retention_days", "RetentionDays"),
]

NUMBERS = [
    ("nat count too high", {"nat_gateways": 4}, "nat_gateways", "1 (cheap) to 3"),
    ("nat count zero", {"nat_gateways": 0}, "nat_gateways", "1 (cheap) to 3"),
    ("nat count as words", {"nat_gateways": "two"}, "nat_gateways", "an integer"),
    ("integer as a float", {"nat_gateways": 1.0}, "nat_gateways", "an integer"),
    ("boolean as integer", {"nat_gateways": True}, "nat_gateways", "an integer"),
    ("integer with 19 digits", {"karpenter_spot_cpu_limit": "1" * 19}, "karpenter_spot_cpu_limit", "an integer"),
    ("min greater than max", {"system_node_min": 5, "system_node_max": 3}, "system_node_max", "system_node_min (5)"),
    ("max past the node group limit", {"system_node_max": 451}, "system_node_max", "450"),
    ("desired below min", {"system_node_desired": 1}, "system_node_desired", "from system_node_min (2)"),
    ("disk too small", {"system_node_disk_gib": 19}, "system_node_disk_gib", "20 to 1000"),
    ("limit zero", {"karpenter_spot_cpu_limit": 0}, "karpenter_spot_cpu_limit", "positive integer"),
    ("limit too large", {"karpenter_on_demand_memory_limit_gib": 10**7}, "karpenter_on_demand_memory", "1000000"),
    ("weight out of range", {"karpenter_spot_weight": 101}, "karpenter_spot_weight", "1 to 100"),
    ("spot not preferred", {"karpenter_on_demand_weight": 100}, "karpenter_spot_weight", "greater than"),
    ("generation out of range", {"karpenter_min_generation": 9}, "karpenter_min_generation", "1 to 8"),
    ("duration in days", {"karpenter_expire_after": "30d"}, "karpenter_expire_after", "Go duration"),
    ("consolidation never", {"karpenter_consolidate_after": "Never"}, "karpenter_consolidate_after", "Go duration"),
]

CLUSTER_NAMES = [
    ("underscore", {"cluster_name": "my_cluster"}, "cluster_name", "CloudFormation stack names"),
    ("leading digit", {"cluster_name": "1cluster"}, "cluster_name", "starting with a letter"),
    ("leading hyphen", {"cluster_name": "-x"}, "cluster_name", "starting with a letter"),
    ("dot", {"cluster_name": "my.cluster"}, "cluster_name", "letters, digits and '-'"),
    ("non-ASCII letter", {"cluster_name": "clüster"}, "cluster_name", "ASCII"),
    ("one too long", {"cluster_name": "a" * (CLUSTER_NAME_MAX + 1)}, "cluster_name", f"1-{CLUSTER_NAME_MAX}"),
    ("empty", {"cluster_name": ""}, "cluster_name", "starting with a letter"),
    ("a list", {"cluster_name": ["eks"]}, "cluster_name", "a string"),
]

GIT = [
    ("revision that is a git option", {"git_revision": "--upload-pack=touch /tmp/x"}, "git_revision", "option"),
    ("revision starting with hyphen", {"git_revision": "-main"}, "git_revision", "starts with '-'"),
    ("revision with ..", {"git_revision": "main..dev"}, "git_revision", "'..'"),
    ("revision with a space", {"git_revision": "my branch"}, "git_revision", "whitespace"),
    ("revision component starting with dot", {"git_revision": "feature/.hidden"}, "git_revision", "'.hidden'"),
    ("revision ending in .lock", {"git_revision": "release.lock"}, "git_revision", ".lock"),
    ("revision with @{", {"git_revision": "main@{1}"}, "git_revision", "'@{'"),
    ("revision with a colon", {"git_revision": "a:b"}, "git_revision", "':'"),
    ("revision ending in slash", {"git_revision": "main/"}, "git_revision", "ends with '/'"),
    ("empty revision", {"git_revision": ""}, "git_revision", "empty"),
    ("url with user and token", {"git_repo_url": f"https://x:{TOKEN}@github.com/o/r.git"}, "git_repo_url", "Secret"),
    ("url with a bare token", {"git_repo_url": f"https://{TOKEN}@github.com/o/r.git"}, "git_repo_url", "credentials"),
    ("token in the query", {"git_repo_url": f"https://github.com/o/r.git?access_token={TOKEN}"}, "git_repo_url", "Se"),
    ("ssh url with password", {"git_repo_url": f"ssh://git:{TOKEN}@github.com/o/r.git"}, "git_repo_url", "Secret"),
    ("plain http", {"git_repo_url": "http://github.com/o/r.git"}, "git_repo_url", "not https or ssh"),
    ("ftp", {"git_repo_url": "ftp://x"}, "git_repo_url", "not https or ssh"),
    ("whitespace in url", {"git_repo_url": "https://github.com/o/r .git"}, "git_repo_url", "whitespace"),
    ("url that is an option", {"git_repo_url": "-uhttps://github.com/o/r.git"}, "git_repo_url", "option"),
    ("url without a path", {"git_repo_url": "https://github.com"}, "git_repo_url", "no repository path"),
]

ALL_CLASSES = WHOLE_VALUE + CIDRS + UNKNOWN_KEYS + NULLS + TYPOS + NUMBERS + CLUSTER_NAMES + GIT


@pytest.mark.parametrize(("case", "overrides", "key", "part"), ALL_CLASSES, ids=[c[0] for c in ALL_CLASSES])
def test_bad_value_is_refused_in_one_line_naming_the_key(case: str, overrides: dict, key: str, part: str) -> None:
    err = refusal(overrides)
    message = str(err)
    assert err.key.startswith(key), message
    assert message.startswith(f"config key '{err.key}' = "), message
    assert part in message, message
    assert "\n" not in message and len(message) < 600, message
    assert TOKEN not in message, "an error message must never print a credential"


def test_token_in_git_url_is_shown_redacted() -> None:
    err = refusal({"git_repo_url": f"https://x:{TOKEN}@github.com/o/r.git"})
    assert "'https://***@github.com/o/r.git'" in str(err)
    assert "argocd.argoproj.io/secret-type=repository" in str(err)


def test_long_value_is_shortened_with_its_length() -> None:
    err = refusal({"cluster_name": "x" * 5000})
    shown = str(err).split(" = ", 1)[1].split(": accepted", 1)[0]
    assert len(shown) < SHOWN_MAX + 30
    assert shown.endswith("… (5000 characters)")


def test_deeply_nested_value_is_refused_naming_its_key_even_for_cdk_keys() -> None:
    deep: Any = "x"
    for _ in range(40):
        deep = [deep]
    for key in ("@aws-cdk/core:somethingNested", "cluster_name"):
        err = refusal({key: deep})
        assert err.key == key
        assert "nested at most 32 levels" in str(err)
        assert "[[[[[" in str(err) and len(str(err)) < 200


def test_unknown_key_check_lets_cdk_keys_through() -> None:
    config = PlatformConfig.from_context(
        {
            "@aws-cdk/core:checkSecretUsage": True,
            "aws:cdk:enable-path-metadata": True,
            "availability-zones:account=1:region=r": [],
            "nat_gateways": 2,
        }
    )
    assert config.nat_gateways == 2


# --- explicit beats implicit: the AWS environment fills only what the configuration leaves open ---

CREDS = {"CDK_DEFAULT_ACCOUNT": "222222222222", "CDK_DEFAULT_REGION": "us-east-1"}


def test_configured_region_wins_over_cdk_default_region() -> None:
    config = config_from(
        {"CDK_DEFAULT_REGION": "us-east-1"},
        region="eu-west-1",
        availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    )
    assert config.region == "eu-west-1"


def test_cdk_default_region_fills_an_unset_region() -> None:
    context = {k: v for k, v in TEST_CONTEXT.items() if k not in ("region", "availability_zones")}
    context["availability_zones"] = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    config = PlatformConfig.from_context(context, {"CDK_DEFAULT_REGION": "eu-west-1"})
    assert config.region == "eu-west-1"


def test_region_from_environment_without_zones_says_where_it_came_from() -> None:
    context = {k: v for k, v in TEST_CONTEXT.items() if k not in ("region", "availability_zones")}
    with pytest.raises(ConfigError, match="comes from CDK_DEFAULT_REGION") as err:
        PlatformConfig.from_context(context, {"CDK_DEFAULT_REGION": "eu-west-1"})
    assert err.value.key == "availability_zones"


def test_credentials_account_fills_the_placeholder_account() -> None:
    assert config_from(CREDS).account == "222222222222"


def test_configured_account_matching_the_credentials_is_used() -> None:
    assert config_from(CREDS, account="222222222222").account == "222222222222"


def test_credentials_of_another_account_than_configured_stop_synth() -> None:
    err = refusal({"account": "333333333333"}, CREDS)
    assert err.key == "account"
    assert "credentials in use are for account 222222222222" in str(err)
    assert "cdk diff/deploy" in str(err)


def test_configured_account_stands_without_credentials() -> None:
    assert config_from({"CDK_DEFAULT_REGION": "us-east-1"}, account="333333333333").account == "333333333333"


# --- documented values and edges are accepted ---

EDGES: list[tuple[str, dict[str, Any]]] = [
    ("shortest cluster name", {"cluster_name": "a"}),
    ("longest cluster name", {"cluster_name": "A" + "b-" * ((CLUSTER_NAME_MAX - 1) // 2)}),
    ("smallest vpc", {"vpc_cidr": "192.168.0.0/20"}),
    ("largest service cidr", {"vpc_cidr": "192.168.0.0/16", "service_ipv4_cidr": "10.0.0.0/12"}),
    ("smallest service cidr", {"service_ipv4_cidr": "172.31.255.0/24"}),
    ("three nat gateways", {"nat_gateways": 3}),
    ("40 public cidrs", {**PUBLIC, "public_access_cidrs": [f"52.0.0.{i}/32" for i in range(40)]}),
    ("public cidrs exactly at the guard", {**PUBLIC, "public_access_cidrs": ["11.0.0.0/8"]}),
    ("internet with opt-in", {**PUBLIC, "public_access_cidrs": ["0.0.0.0/0"], "allow_public_endpoint_anywhere": True}),
    ("admin role with a path", {"admin_principal_arns": ["arn:aws:iam::123456789012:role/team/ops/Admin+1"]}),
    ("viewer role", {"viewer_principal_arns": ["arn:aws:iam::123456789012:role/viewers"]}),
    ("log retention of a year", {"log_retention_days": 365}),
    (
        "china region and partition",
        {
            "region": "cn-north-1",
            "availability_zones": ["cn-north-1a", "cn-north-1b", "cn-north-1d"],
            "admin_principal_arns": ["arn:aws-cn:iam::123456789012:role/admin"],
        },
    ),
    ("node group at its limit", {"system_node_max": 450, "system_node_desired": 450, "system_node_min": 450}),
    ("git over ssh", {"git_repo_url": "ssh://git@github.com/o/r.git"}),
    ("git scp form", {"git_repo_url": "git@github.com:o/r.git"}),
    ("commit id", {"git_revision": "0123456789abcdef0123456789abcdef01234567"}),
    ("tag with slashes", {"git_revision": "refs/tags/v1.2.3"}),
    ("expire never", {"karpenter_expire_after": "Never"}),
    ("compound duration", {"karpenter_consolidate_after": "1h30m"}),
    ("limits at the maximum", {"karpenter_spot_cpu_limit": 1_000_000}),
]


@pytest.mark.parametrize(("case", "overrides"), EDGES, ids=[c[0] for c in EDGES])
def test_documented_edge_value_is_accepted(case: str, overrides: dict[str, Any]) -> None:
    config = config_from(**overrides)
    for key, value in overrides.items():
        assert getattr(config, key) == (tuple(value) if isinstance(value, list) else value), key


@pytest.mark.parametrize("days", sorted(LOG_RETENTION_DAYS))
def test_every_cloudwatch_retention_period_is_accepted(days: int) -> None:
    assert config_from(flow_log_retention_days=days).flow_log_retention_days == days


def test_retention_periods_include_the_multi_year_ones() -> None:
    assert {1096, 1827, 3653} <= set(LOG_RETENTION_DAYS)


def test_internet_guard_threshold_is_one_slash_8() -> None:
    assert ipaddress.IPv4Network("11.0.0.0/8").num_addresses == PUBLIC_ADDRESSES_MAX


def test_bad_config_fails_before_any_stack_is_built() -> None:
    with pytest.raises(ConfigError, match="nat_gateways"):
        build_app(fixed_context(nat_gateways=9), env={}, nag=False)


def test_kubernetes_version_key_is_refused_with_what_replaced_it() -> None:
    with pytest.raises(ConfigError) as err:
        build_app(fixed_context(kubernetes_version="1.29"), env={}, nag=False)
    assert str(err.value) == (
        "config key 'kubernetes_version' = '1.29': removed: the Kubernetes version follows the release profile, "
        "so the kubectl layer, Karpenter and every chart pin agree with it; set `release` instead "
        "(current is 1.36, seed is 1.29)"
    )


@pytest.mark.parametrize("release", sorted(versions.PROFILES))
def test_ami_alias_defaults_to_the_profiles_pin_and_an_explicit_one_wins(release: str) -> None:
    alias = versions.PROFILES[release].ami_alias
    assert config_from(release=release).ami_alias == alias
    assert PlatformConfig(release=release).ami_alias == alias
    assert config_from(release=release, ami_alias="al2023@v20250101").ami_alias == "al2023@v20250101"


@pytest.mark.parametrize("release", sorted(versions.PROFILES))
def test_release_selects_one_profile_for_kubernetes_karpenter_and_charts(release: str) -> None:
    config = config_from(release=release)
    assert config.profile is versions.PROFILES[release]
    assert config.kubernetes is versions.PROFILES[release].kubernetes
    assert config.profile.charts["karpenter"].version == versions.PROFILES[release].karpenter_version


def test_configuration_reference_states_the_accepted_sets_the_code_checks() -> None:
    from platform_config.config import KARPENTER_LIMIT_MAX, PUBLIC_CIDRS_MAX, SYSTEM_NODES_MAX
    from tests.test_readme_promises import config_table_rows

    rows = config_table_rows()
    assert ", ".join(map(str, LOG_RETENTION_DAYS)) in rows["flow_log_retention_days"]
    assert f"1-{CLUSTER_NAME_MAX} ASCII letters, digits and `-`, starting with a letter" in rows["cluster_name"]
    assert f"more than {PUBLIC_ADDRESSES_MAX:,} addresses (one /8)" in rows["public_access_cidrs"]
    assert f"at most {PUBLIC_CIDRS_MAX} (EKS quota)" in rows["public_access_cidrs"]
    assert f"to {SYSTEM_NODES_MAX}" in rows["system_node_max"]
    assert f"1 to {KARPENTER_LIMIT_MAX}" in rows["karpenter_spot_cpu_limit"]


def test_duration_keys_follow_the_pattern_of_the_profiles_nodepool_crd(monkeypatch: pytest.MonkeyPatch) -> None:
    # The accepted durations are the CRD's (upstream_facts/<profile>/crds), not a retyped copy: a CRD whose pattern
    # took days would make "3d" valid and "720h" invalid with no edit to the config module.
    days = {"pattern": "^[0-9]+d$"}
    spec = {"template": {"properties": {"spec": {"properties": {"expireAfter": days}}}}, "disruption": {}}
    spec["disruption"] = {"properties": {"consolidateAfter": days}}
    crd = {"versions": {"v1": {"schema": {"properties": {"spec": {"properties": spec}}}}}}
    monkeypatch.setattr(config_module, "load_fact", lambda rel, profile: crd)
    assert config_from(karpenter_expire_after="3d", karpenter_consolidate_after="1d").karpenter_expire_after == "3d"
    assert refusal({"karpenter_expire_after": "720h"}).key == "karpenter_expire_after"

"""Property: for every key, any JSON value either gives a valid config or a ConfigError naming that key."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from platform_config.config import ConfigError, PlatformConfig
from platform_config.raw_context import is_cdk_key
from tests.fixed_context import TEST_CONTEXT

KEYS = [f.name for f in fields(PlatformConfig)]
BASE = dict(TEST_CONTEXT)
# Modest and reproducible: the same examples on every run, fast enough for every `make test`.
PROPERTY = settings(
    max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
# Near misses of documented values: the edits a user (or a copy-paste) makes to a value that works.
EDITS = [
    lambda s: s + "\n",
    lambda s: " " + s,
    str.upper,
    lambda s: s.replace("1", "١"),
    lambda s: s.replace("-", "_"),
    lambda s: s[:-1],
    lambda s: s + s,
    lambda s: "-" + s,
    lambda s: s.replace(".", "/"),
    lambda s: s.replace("/", "/255.255."),
]
DOCUMENTED_TEXT = [
    "eks-platform",
    "111111111111",
    "us-east-1",
    "us-east-1a",
    "10.0.0.0/16",
    "172.20.0.0/16",
    "203.0.113.0/24",
    "private",
    "public_and_private",
    "arn:aws:iam::123456789012:role/admin",
    "m6i.large",
    "https://github.com/example-org/eks-platform.git",
    "main",
    "720h",
    "Never",
    "al2023@v20240101",
    "30",
    "true",
    "amd64,arm64",
]


@st.composite
def near_misses(draw: st.DrawFn) -> Any:
    text = draw(st.sampled_from(DOCUMENTED_TEXT))
    edited = draw(st.sampled_from(EDITS))(text)
    return draw(st.sampled_from([edited, [edited], [text, edited], text]))


def value_for_key() -> st.SearchStrategy[Any]:
    return st.one_of(JSON_VALUES, near_misses(), st.integers(-(10**20), 10**20), st.lists(st.text(), max_size=5))


@pytest.mark.parametrize("key", KEYS)
@PROPERTY
@given(value=value_for_key())
def test_any_value_for_a_key_builds_a_config_or_names_that_key(key: str, value: Any) -> None:
    try:
        config = PlatformConfig.from_context({**BASE, key: value}, {})
    except ConfigError as err:
        message = str(err)
        assert key in message, message
        assert "\n" not in message and len(message) < 800, message
        return
    default = getattr(PlatformConfig(), key)
    assert type(getattr(config, key)) is type(default)


@PROPERTY
@given(key=st.text(min_size=1), value=JSON_VALUES)
def test_any_key_is_ours_cdks_or_refused_by_name(key: str, value: Any) -> None:
    try:
        PlatformConfig.from_context({**BASE, key: value}, {})
    except ConfigError as err:
        assert err.key in (key, *KEYS), str(err)
        if err.key == key and key not in KEYS:
            assert not is_cdk_key(key) or "nested" in str(err)
        return
    assert key in KEYS or is_cdk_key(key)


ACCEPTED_SAMPLES: dict[str, list[Any]] = {
    "cluster_name": ["a", "Blue-1", "A" + "b-" * 39 + "c"],
    "region": ["us-east-1", "eu-west-1", "ap-southeast-2"],
    "vpc_cidr": ["10.0.0.0/16", "192.168.0.0/20", "172.16.0.0/18"],
    "service_ipv4_cidr": ["172.20.0.0/16", "10.100.0.0/24", "192.168.128.0/17"],
    "nat_gateways": [1, 3, "2"],
    "interface_endpoints": [False, True, "true"],
    "flow_log_retention_days": [1, 731, 3653],
    "system_node_instance_types": [["m6i.large"], "c6i.xlarge,m5.large", ["t3.medium", "m6a.large"]],
    "git_repo_url": ["git@github.com:o/r.git", "ssh://git@example.com:2222/o/r.git", "https://gitlab.com/g/s/r"],
    "git_revision": ["main", "refs/tags/v1.2.3", "0123456789abcdef0123456789abcdef01234567"],
    "karpenter_categories": [["c"], ["c", "m", "r", "inf"], "t,g"],
    "karpenter_architectures": [["arm64"], "amd64,arm64"],
    "karpenter_expire_after": ["Never", "1h30m", "24h"],
    "karpenter_consolidate_after": ["30s", "0s", "5m"],
}


@st.composite
def accepted_contexts(draw: st.DrawFn) -> dict[str, Any]:
    context = dict(BASE)
    for key, samples in ACCEPTED_SAMPLES.items():
        if draw(st.booleans()):
            context[key] = draw(st.sampled_from(samples))
    region = context.get("region", "us-east-1")
    context["availability_zones"] = [f"{region}{z}" for z in "abc"]
    return context


@settings(max_examples=6, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(context=accepted_contexts())
def test_combinations_of_accepted_values_build_or_are_refused_cleanly(context: dict[str, Any]) -> None:
    from platform_stacks.platform_app import build_app

    try:
        PlatformConfig.from_context(context, {})
    except ConfigError as err:  # two accepted values can conflict (a service CIDR inside the VPC's)
        assert "overlap" in str(err), str(err)
        return
    platform = build_app(context, env={}, nag=False)
    assert platform.config.cluster_name == context["cluster_name"]

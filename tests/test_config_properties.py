"""Property: for every key, any JSON value either gives a valid config or a ConfigError naming that key."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from platform_config.config import ConfigError, PlatformConfig
from platform_config.raw_context import is_cdk_key
from platform_stacks.platform_app import cdk_json_context

KEYS = [f.name for f in fields(PlatformConfig)]
BASE = cdk_json_context()
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
    "al2023@v20240807",
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

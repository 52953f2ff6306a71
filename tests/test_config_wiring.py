"""Every configuration key reaches a construct: one in-process build records which PlatformConfig fields the stacks
read after validation; a key nothing reads is either declared (config.NOT_READ_BY_CONSTRUCTS, with its reason) or
a defect (a key that passes every other test but changes nothing)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import Any

import pytest

import platform_stacks.platform_app as platform_app
from platform_config.config import NOT_READ_BY_CONSTRUCTS, PlatformConfig, known_keys
from tests.fixed_context import fixed_context
from tests.test_nag import NON_DEFAULT_OPTIONS, TODAY

# Every conditional feature switched on, so the keys read only in that mode are read (the topic turns on
# Alertmanager's SNS route).
EVERYTHING_ON: dict[str, Any] = {
    **NON_DEFAULT_OPTIONS,
    "alert_sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:platform-alerts",
}


def keys_read_by_build(context: Mapping[str, Any], monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The PlatformConfig fields read while the stacks are built (validation's own reads not counted)."""
    names = {f.name for f in fields(PlatformConfig)}
    read: set[str] = set()
    recording = {"on": False}
    original_get = PlatformConfig.__getattribute__
    original_config = platform_app.app_config

    def spy(self: PlatformConfig, name: str) -> Any:
        if recording["on"] and name in names:
            read.add(name)
        return original_get(self, name)

    def validated_then_recorded(*args: Any, **kwargs: Any) -> PlatformConfig:
        config = original_config(*args, **kwargs)
        recording["on"] = True
        return config

    monkeypatch.setattr(PlatformConfig, "__getattribute__", spy)
    monkeypatch.setattr(platform_app, "app_config", validated_then_recorded)
    platform_app.build_app(context, env={}, today=TODAY, nag=False)
    return read


def unwired(read: set[str], keys: set[str], declared: Mapping[str, str]) -> Iterator[str]:
    """One line per key that reaches no construct and is not declared, and per declared key that is read."""
    for key in sorted(keys - read - set(declared)):
        yield f"{key}: no construct reads it; wire it or declare it in config.NOT_READ_BY_CONSTRUCTS with a reason"
    for key in sorted(set(declared) & read):
        yield f"{key}: declared as read by no construct, but the build reads it; remove it from NOT_READ_BY_CONSTRUCTS"


@pytest.fixture(scope="module")
def read_keys() -> set[str]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return keys_read_by_build(fixed_context(**EVERYTHING_ON), monkeypatch)


def test_every_config_key_is_read_by_a_construct_or_declared_with_its_reason(read_keys: set[str]) -> None:
    assert list(unwired(read_keys, known_keys(), NOT_READ_BY_CONSTRUCTS)) == []
    assert all(reason.strip() for reason in NOT_READ_BY_CONSTRUCTS.values())


def test_a_key_no_construct_reads_is_reported(read_keys: set[str]) -> None:
    assert list(unwired(read_keys, {*known_keys(), "shop_banner_text"}, NOT_READ_BY_CONSTRUCTS)) == [
        "shop_banner_text: no construct reads it; wire it or declare it in config.NOT_READ_BY_CONSTRUCTS with a reason"
    ]


def test_a_declared_key_that_the_build_reads_is_reported(read_keys: set[str]) -> None:
    declared = {**NOT_READ_BY_CONSTRUCTS, "cluster_name": "pretend"}
    assert [line for line in unwired(read_keys, known_keys(), declared) if line.startswith("cluster_name")] == [
        "cluster_name: declared as read by no construct, but the build reads it; remove it from NOT_READ_BY_CONSTRUCTS"
    ]

"""Error messages teach with values that work: every example a message shows is accepted by its key, a CIDR with
host bits gets the network form (and /32 where one address makes sense), and an assumed-role STS ARN gets the
role ARN it maps to, shown whole."""

from __future__ import annotations

import re
from typing import Any

import pytest

from platform_config.config import EXAMPLES, ConfigError, PlatformConfig
from tests.fixed_context import fixed_context

# Keys whose example needs a companion setting to be valid (a public CIDR needs the public endpoint).
COMPANIONS: dict[str, dict[str, Any]] = {"public_access_cidrs": {"endpoint_access": "public_and_private"}}
# Bad values per key that make its message show an example or a suggestion.
BAD: dict[str, list[str]] = {
    "vpc_cidr": ["10.0.0.1/16", "10.0.0.0"],
    "service_ipv4_cidr": ["172.20.0.5/16", "not-a-cidr"],
    "public_access_cidrs": ["203.0.113.7/24", "203.0.113.0"],
    "admin_principal_arns": ["arn:aws:sts::123456789012:assumed-role/Admin/me", "arn:aws:iam::123456789012:user/ana"],
    "viewer_principal_arns": ["arn:aws:sts::123456789012:assumed-role/Viewer/you@example.com"],
    "system_node_instance_types": ["m6i.larg"],
    "karpenter_expire_after": ["30 days"],
    "karpenter_consolidate_after": ["1 minute"],
    "ami_alias": ["al2023@latest"],
    "spot_drill_selection": ["ALL"],
}


def accepts(key: str, value: str) -> bool:
    try:
        PlatformConfig.from_context(fixed_context(**{key: value, **COMPANIONS.get(key, {})}))
    except ConfigError:
        return False
    return True


def error(key: str, value: str) -> str:
    with pytest.raises(ConfigError) as err:
        PlatformConfig.from_context(fixed_context(**{key: value, **COMPANIONS.get(key, {})}))
    assert err.value.key == key
    assert "\n" not in str(err.value)
    return str(err.value)


def shown_values(message: str) -> list[str]:
    """The concrete values a message offers: `such as X`, `did you mean X (...)` / `or X (...)`, `use X`."""
    found = re.findall(r"such as (\S+)", message)
    found += re.findall(r"(?:did you mean|or) ([0-9./]+) \(", message)
    found += re.findall(r"use (arn:[^\s()]+)", message)
    return [value.rstrip(".;:,") for value in found]


@pytest.mark.parametrize(("key", "example"), sorted(EXAMPLES.items()))
def test_every_example_a_message_uses_is_accepted_by_its_key(key: str, example: str) -> None:
    assert accepts(key, example), f"{key}'s example {example!r} is refused by {key}"


@pytest.mark.parametrize(("key", "bad"), [(key, bad) for key, values in sorted(BAD.items()) for bad in values])
def test_every_value_a_message_offers_is_accepted(key: str, bad: str) -> None:
    offered = shown_values(error(key, bad))
    assert offered, "the message offers no value to copy"
    assert [value for value in offered if not accepts(key, value)] == []


def test_a_public_cidr_with_host_bits_suggests_the_network_and_the_single_address() -> None:
    message = error("public_access_cidrs", "203.0.113.7/24")
    assert "did you mean 203.0.113.0/24 (the whole network) or 203.0.113.7/32 (that one address)?" in message


def test_a_vpc_cidr_with_host_bits_suggests_only_the_network() -> None:
    message = error("vpc_cidr", "10.0.0.1/16")
    assert "did you mean 10.0.0.0/16 (the whole network)?" in message and "/32" not in message


def test_an_assumed_role_session_suggests_its_role_arn_and_is_shown_whole() -> None:
    session = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_PlatformAdmins_0123456789abcdef/jane.doe"
    message = error("admin_principal_arns", session)
    assert message.startswith(f"config key 'admin_principal_arns' = {session!r}: ")
    assert "use arn:aws:iam::123456789012:role/AWSReservedSSO_PlatformAdmins_0123456789abcdef " in message
    assert "IAM users" not in message


def test_an_iam_user_is_still_told_to_use_a_role() -> None:
    assert "IAM users are refused" in error("admin_principal_arns", "arn:aws:iam::123456789012:user/ana")

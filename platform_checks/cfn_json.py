"""Tokenized JSON properties of a synthesized template (Helm values, manifests) parsed with stable placeholders."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def token_placeholder(token: object) -> str:
    """Default stand-in for a CloudFormation token inside a JSON string: ${Ref:X}, ${GetAtt:X.Attr}, ${Import:X}."""
    if isinstance(token, dict) and set(token) == {"Ref"}:
        return f"${{Ref:{token['Ref']}}}"
    if isinstance(token, dict) and set(token) == {"Fn::GetAtt"}:
        return "${GetAtt:" + ".".join(token["Fn::GetAtt"]) + "}"
    if isinstance(token, dict) and set(token) == {"Fn::ImportValue"} and isinstance(token["Fn::ImportValue"], str):
        return f"${{Import:{token['Fn::ImportValue']}}}"
    return "${token}"


def json_property(value: object, placeholder: Callable[[object], str] = token_placeholder) -> Any:
    """Parse a JSON-string property (Helm values, manifests) that CDK turns into an Fn::Join when it embeds
    tokens. Tokens always sit inside JSON strings, so joining with a placeholder text parses."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        value = separator.join(p if isinstance(p, str) else placeholder(p) for p in parts)
    if not isinstance(value, str):
        raise ValueError(f"not a JSON property: {value!r:.80}")
    return json.loads(value)

"""The raw context, read and checked before cdk.App exists: what the CLI passed, or cdk.json without the CLI."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from platform_config.errors import ConfigError

# Where the CDK CLI puts the context for the app, exactly as aws-cdk-lib's App reads it: JSON in
# CDK_CONTEXT_JSON, and what did not fit in the environment in the file CONTEXT_OVERFLOW_LOCATION_ENV names.
CONTEXT_ENV = "CDK_CONTEXT_JSON"
CONTEXT_OVERFLOW_ENV = "CONTEXT_OVERFLOW_LOCATION_ENV"
# Deeper JSON crashes the Python/JavaScript bridge (RecursionError); CDK's own values are a few levels deep.
MAX_DEPTH = 32


class ContextSourceError(ConfigError):
    """The context as a whole cannot be read (cdk.json missing or not JSON): names the file, not a key."""

    def __init__(self, source: str, problem: str) -> None:
        self.key, self.value, self.accepted = source, None, problem
        ValueError.__init__(self, f"{source}: {problem}")


def is_cdk_key(key: str) -> bool:
    """CDK's own context keys: feature flags (@aws-cdk/...), CLI settings (aws:cdk:...), lookups (with ':')."""
    return ":" in key or key.startswith("@aws-cdk/")


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Depth of lists/objects in a JSON value, counted without recursion; stops counting past `limit`."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, list | dict):
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _normal(key: str) -> str:
    return re.sub(r"[\s_-]+", "", key).lower()


def check_raw(context: Mapping[str, Any], known: Iterable[str]) -> None:
    """Before anything reads a value: no value nested past MAX_DEPTH, no unknown key, no null for our keys."""
    known = sorted(known)
    by_normal = {_normal(k): k for k in known}
    for key in sorted(context):
        value = context[key]
        if nesting_depth(value) > MAX_DEPTH:
            raise ConfigError(key, value, f"accepted is JSON nested at most {MAX_DEPTH} levels deep")
        if is_cdk_key(key):
            continue
        if key not in known:
            canonical = by_normal.get(_normal(key))
            if canonical:
                hint = f"unknown key; did you mean {canonical!r}? (keys are lower case with '_')"
            else:
                close = difflib.get_close_matches(_normal(key), list(by_normal), n=1, cutoff=0.75)
                hint = (
                    f"unknown key; did you mean {by_normal[close[0]]!r}?"
                    if close
                    else "unknown key; the keys are listed in docs/configuration.md (CDK's own keys contain ':')"
                )
            raise ConfigError(key, value, hint)
        if value is None:
            raise ConfigError(key, value, "null is not a value; remove the key to get its documented default")


def _value_problem(text: str, pos: int, inside: tuple[str, ...]) -> tuple[str, str, str] | None:
    """(key, start of its value, problem) for the first value json cannot parse (too deep, too long an integer)."""
    decoder = json.JSONDecoder()
    space = re.compile(r"[ \t\n\r]*")
    pos = space.match(text, pos).end()  # type: ignore[union-attr]
    if text[pos : pos + 1] != "{":
        return None
    pos += 1
    while True:
        pos = space.match(text, pos).end()  # type: ignore[union-attr]
        if text[pos : pos + 1] != '"':
            return None
        key, pos = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
        pos = space.match(text, pos).end() + 1  # type: ignore[union-attr]  # past ':'
        pos = space.match(text, pos).end()  # type: ignore[union-attr]
        if inside and key == inside[0]:
            return _value_problem(text, pos, inside[1:])
        try:
            _, pos_after = decoder.raw_decode(text, pos)
        except RecursionError:
            return key, text[pos : pos + 40], f"accepted is JSON nested at most {MAX_DEPTH} levels deep"
        except ValueError as err:
            return key, text[pos : pos + 40], f"accepted is a value JSON can read ({err})"
        pos = space.match(text, pos_after).end() + 1  # type: ignore[union-attr]  # past ',' or '}'


def parse_object(text: str, source: str, inside: tuple[str, ...] = ()) -> dict[str, Any]:
    """JSON text holding one object; a value too deep or too large to parse is reported under its key."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ContextSourceError(source, f"is not valid JSON ({err})") from None
    except (RecursionError, ValueError):
        found = _value_problem(text, 0, inside)
        if found is None:
            raise ContextSourceError(source, "cannot be read as JSON") from None
        key, start, problem = found
        raise ConfigError(key, start, problem, shown_as=start[:30] + "…") from None
    if not isinstance(data, dict):
        raise ContextSourceError(source, "is not a JSON object")
    return data


def cli_context(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The context the CDK CLI passed (as App reads it: overflow file over CDK_CONTEXT_JSON); None without the CLI."""
    if CONTEXT_ENV not in environ and CONTEXT_OVERFLOW_ENV not in environ:
        return None
    context: dict[str, Any] = {}
    if environ.get(CONTEXT_ENV):
        context.update(parse_object(environ[CONTEXT_ENV], CONTEXT_ENV))
    if environ.get(CONTEXT_OVERFLOW_ENV):
        path = Path(environ[CONTEXT_OVERFLOW_ENV])
        context.update(parse_object(path.read_text(), str(path)))
    return context


def cdk_json_context(path: Path) -> dict[str, Any]:
    """The `context` block of cdk.json (what `cdk synth` passes; `python app.py` must read it itself)."""
    if not path.is_file():
        raise ContextSourceError(str(path), "not found: run through `cdk synth` (make synth) or restore cdk.json")
    context = parse_object(path.read_text(), str(path), inside=("context",)).get("context", {})
    if not isinstance(context, dict):
        raise ContextSourceError(str(path), "its 'context' is not a JSON object")
    return context


def app_context(environ: Mapping[str, str], cdk_json: Path) -> dict[str, Any]:
    """The context the CDK CLI passed; cdk.json's only when run without the CLI (never both)."""
    passed = cli_context(environ)
    return passed if passed is not None else cdk_json_context(cdk_json)

"""ConfigError: one line naming the key, the value (shortened, never a stack of nesting) and what is accepted."""

from __future__ import annotations

SHOWN_MAX = 60  # characters of a value shown in an error; longer values end in '…' and their length
_NESTING_SHOWN = 4


def _render(value: object, depth: int, budget: list[int]) -> str:
    """Value as the user wrote it (JSON words for null/true/false), stopping once the budget is spent."""
    if budget[0] <= 0:
        return "…"
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = repr(value[: SHOWN_MAX + 1])
    elif isinstance(value, list | tuple | dict):
        if depth >= _NESTING_SHOWN:
            text = "[…]" if not isinstance(value, dict) else "{…}"
        elif isinstance(value, dict):
            items = [f"{_render(k, depth + 1, budget)}: {_render(v, depth + 1, budget)}" for k, v in value.items()]
            text = "{" + ", ".join(items) + "}"
        else:
            text = "[" + ", ".join(_render(v, depth + 1, budget) for v in value) + "]"
    else:
        text = repr(value)
        if len(text) > SHOWN_MAX:  # a 4000-digit integer
            text = text[:SHOWN_MAX]
    budget[0] -= len(text)
    return text


def shown(value: object) -> str:
    """A readable rendering of a config value: at most about SHOWN_MAX characters, safe for any nesting."""
    text = _render(value, 0, [SHOWN_MAX * 2])
    full = len(value) if isinstance(value, str) else None
    if len(text) > SHOWN_MAX or (full is not None and full > SHOWN_MAX):
        size = f" ({full} characters)" if full is not None else ""
        return text[:SHOWN_MAX] + "…" + size
    return text


class ConfigError(ValueError):
    """One bad context value: names the key, the value and what is accepted."""

    def __init__(self, key: str, value: object, accepted: str, *, shown_as: str | None = None) -> None:
        self.key = key
        self.value = value
        self.accepted = accepted
        name = key if len(key) <= SHOWN_MAX else key[:SHOWN_MAX] + "…"
        super().__init__(f"config key {name!r} = {shown_as or shown(value)}: {accepted}")

"""Typed, validated platform configuration and the one module of pinned versions."""

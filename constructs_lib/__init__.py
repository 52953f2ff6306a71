"""Constructs: one logical unit each, exposing what they create as attributes."""

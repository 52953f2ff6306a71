"""Stacks: deployable units that only wire constructs together."""

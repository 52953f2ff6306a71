"""Generators: each writes checked-in files from the code or upstream data; --check fails when they are stale."""

"""Project tools: run as scripts (python tools/<name>.py) and imported by tests and platform_checks."""

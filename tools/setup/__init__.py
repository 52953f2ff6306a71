"""Set-up: each installs, fetches or prepares what the checks and the other tools need; writes no source."""

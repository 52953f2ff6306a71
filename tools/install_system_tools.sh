#!/usr/bin/env bash
# Installs the system tools the checks need (promtool); fails loudly rather than letting a check skip.
# Debian/Ubuntu: apt-get (no sudo when root, no prompt); macOS: Homebrew; elsewhere: one clear message.
set -euo pipefail
command -v promtool >/dev/null 2>&1 && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "error: promtool missing; run as root: apt-get install prometheus" >&2; exit 1; }
    SUDO=(sudo -n)
  fi
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null
elif [ "$(uname -s)" = Darwin ] && command -v brew >/dev/null 2>&1; then
  brew install prometheus
else
  echo "error: promtool (from Prometheus) is needed by make test; install it: Debian/Ubuntu 'apt-get install" \
    "prometheus', macOS 'brew install prometheus', else https://prometheus.io/download/ and put promtool on PATH" >&2
  exit 1
fi
command -v promtool >/dev/null

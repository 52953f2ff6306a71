#!/usr/bin/env bash
# Installs the system tools the checks need (promtool; Graphviz `dot` for make diagram); fails loudly rather
# than letting a check skip.
# Debian/Ubuntu: apt-get (no sudo when root, no prompt); macOS: Homebrew; elsewhere: one clear message.
set -euo pipefail
# Debian and Homebrew name both packages alike: prometheus ships promtool, graphviz ships dot.
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
[ ${#missing[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "error: missing ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2; exit 1; }
    SUDO=(sudo -n)
  fi
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif [ "$(uname -s)" = Darwin ] && command -v brew >/dev/null 2>&1; then
  brew install "${missing[@]}"
else
  echo "error: make test needs promtool (Prometheus) and make diagram needs dot (Graphviz); install them:" \
    "Debian/Ubuntu 'apt-get install ${missing[*]}', macOS 'brew install ${missing[*]}', else" \
    "https://prometheus.io/download/ and https://graphviz.org/download/, and put promtool and dot on PATH" >&2
  exit 1
fi
command -v promtool >/dev/null
command -v dot >/dev/null

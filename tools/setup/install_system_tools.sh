#!/usr/bin/env bash
# Installs the tools the checks need without installing or starting a service: promtool is extracted from the
# distribution's package into .tools/promtool/ (the package itself is never installed: Debian's `prometheus`
# would start a server on port 9090, the port the runbook's port-forward uses); Graphviz `dot` (a library and
# its commands, no service) is installed for make diagram. Fails loudly rather than letting a check skip.
# Debian/Ubuntu: apt-get (no sudo when root, no prompt); macOS: Homebrew; elsewhere: one clear message.
set -euo pipefail
# The repository root is the nearest directory above this script holding cdk.json (as tools/_paths.py finds it).
root="$(cd "$(dirname "$0")" && pwd)"
while [ ! -f "$root/cdk.json" ]; do
  [ "$root" != / ] || { echo "error: no cdk.json above $0: run it inside the repository" >&2; exit 1; }
  root="$(dirname "$root")"
done
PROMTOOL_DIR="${PROMTOOL_DIR:-$root/.tools/promtool}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

SUDO=()
updated=0
as_root() {
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "error: run as root: $*" >&2; exit 1; }
    SUDO=(sudo -n)
  fi
  "${SUDO[@]}" "$@"
}

# Keep only the promtool binary found under the unpacked package tree $1.
keep_promtool() {
  local found
  found="$(find "$1" -type f -path '*/bin/promtool' | head -n 1)"
  [ -n "$found" ] || { echo "error: the prometheus package holds no bin/promtool" >&2; exit 1; }
  mkdir -p "$PROMTOOL_DIR"
  cp "$found" "$PROMTOOL_DIR/promtool.part"
  chmod 755 "$PROMTOOL_DIR/promtool.part"
  mv "$PROMTOOL_DIR/promtool.part" "$PROMTOOL_DIR/promtool"
}

need_dot=0
command -v dot >/dev/null 2>&1 || need_dot=1
need_promtool=0
[ -x "$PROMTOOL_DIR/promtool" ] || need_promtool=1
[ $need_dot -eq 0 ] && [ $need_promtool -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ $need_promtool -eq 1 ]; then
    # `apt-get download` fetches the .deb into the current directory; dpkg-deb -x unpacks it without the
    # package database, maintainer scripts or service units ever seeing it.
    if ! (cd "$work" && apt-get download -qq prometheus >/dev/null 2>&1); then
      as_root apt-get update -qq && updated=1
      (cd "$work" && apt-get download -qq prometheus >/dev/null)
    fi
    dpkg-deb -x "$(find "$work" -maxdepth 1 -name 'prometheus_*.deb' | head -n 1)" "$work/unpacked"
    keep_promtool "$work/unpacked"
  fi
  if [ $need_dot -eq 1 ]; then
    [ $updated -eq 1 ] || as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >/dev/null
  fi
elif [ "$(uname -s)" = Darwin ] && command -v brew >/dev/null 2>&1; then
  if [ $need_promtool -eq 1 ]; then
    # The bottle is fetched into Homebrew's cache and unpacked here; `brew install prometheus` is not run.
    brew fetch --quiet prometheus >/dev/null
    mkdir -p "$work/unpacked"
    tar -xzf "$(brew --cache prometheus)" -C "$work/unpacked"
    keep_promtool "$work/unpacked"
  fi
  [ $need_dot -eq 0 ] || brew install graphviz
else
  echo "error: make test needs promtool and make diagram needs dot (Graphviz); put promtool (from the" \
    "Prometheus release archive, https://prometheus.io/download/, no server needed) at $PROMTOOL_DIR/promtool" \
    "and install Graphviz (https://graphviz.org/download/) so dot is on PATH" >&2
  exit 1
fi
[ -x "$PROMTOOL_DIR/promtool" ]
command -v dot >/dev/null

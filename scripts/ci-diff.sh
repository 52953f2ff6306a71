#!/usr/bin/env bash
# Offline infrastructure diff for pull requests: compares every stack of the head's synthesized cloud
# assembly with the base branch's template of the same stack, using `cdk diff --template` (no AWS call).
# Prints Markdown on stdout (the PR workflow appends it to $GITHUB_STEP_SUMMARY).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/ci-diff.sh [--max-lines N] [--full FILE] BASE_CDK_OUT HEAD_CDK_OUT

  BASE_CDK_OUT   cloud assembly synthesized from the PR's base commit (may be missing: every stack is new)
  HEAD_CDK_OUT   cloud assembly synthesized from the PR's head commit
  --max-lines N  lines of diff shown per stack in the Markdown (default 400; the step summary is capped at 1 MiB)
  --full FILE    also write the untruncated diff of every stack to FILE
Environment: CI_DIFF_CDK is the CDK CLI command (default "npx --no-install cdk": the pinned CLI from
  npm ci). Not "CDK": the CLI reads every CDK* variable as an option.
Exit: 0 when every stack was diffed, 1 when the CDK CLI failed on a stack, 2 on bad usage.
USAGE
}

die_usage() {
  echo "ci-diff.sh: $1 (see --help)" >&2
  exit 2
}

max_lines=400
full_file=""
positional=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --max-lines)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || die_usage "--max-lines needs a number"
      max_lines="$2"; shift 2 ;;
    --full)
      [[ $# -ge 2 ]] || die_usage "--full needs a file"
      full_file="$2"; shift 2 ;;
    -*) die_usage "unknown option '$1'" ;;
    *) positional+=("$1"); shift ;;
  esac
done
[[ ${#positional[@]} -eq 2 ]] || die_usage "expected BASE_CDK_OUT and HEAD_CDK_OUT"
base_out="${positional[0]}"
head_out="${positional[1]}"
[[ -f "$head_out/manifest.json" ]] || die_usage "no cloud assembly at '$head_out' (manifest.json missing)"

# Word splitting is wanted here: the command may be "npx --no-install cdk" or a path.
read -r -a cdk_cmd <<<"${CI_DIFF_CDK:-npx --no-install cdk}"

# Prints "<artifact id>\t<display name>\t<template file>" for each CloudFormation stack of an assembly.
list_stacks() {
  python3 - "$1" <<'PY'
import json, sys
manifest = json.load(open(sys.argv[1] + "/manifest.json"))
for art_id, art in manifest.get("artifacts", {}).items():
    if art.get("type") == "aws:cloudformation:stack":
        print(f"{art_id}\t{art.get('displayName', art_id)}\t{art['properties']['templateFile']}")
PY
}

declare -A base_templates=()
if [[ -f "$base_out/manifest.json" ]]; then
  while IFS=$'\t' read -r art_id _ template; do
    base_templates["$art_id"]="$base_out/$template"
  done < <(list_stacks "$base_out")
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A stack that the base does not have is compared with an empty template, so all of it shows as added.
echo '{}' >"$work/empty.template.json"
[[ -z "$full_file" ]] || : >"$full_file"

echo "## Infrastructure diff (offline, base vs head templates)"
echo
if [[ ! -f "$base_out/manifest.json" ]]; then
  echo "> Base branch has no cloud assembly; every stack is shown as new."
  echo
fi

status=0
declare -A head_ids=()
while IFS=$'\t' read -r art_id display template; do
  head_ids["$art_id"]=1
  against="${base_templates[$art_id]:-$work/empty.template.json}"
  out="$work/$art_id.diff"
  # --exclusively: with --template the CLI refuses to select the stack's dependencies as well.
  # --app <dir>: diff the already synthesized assembly instead of running the app again.
  if FORCE_COLOR=0 "${cdk_cmd[@]}" diff --app "$head_out" --exclusively --no-notices \
    --template "$against" "$display" >"$out" 2>&1; then
    verdict=""
  else
    verdict=" (cdk diff FAILED)"
    status=1
  fi
  [[ -z "$full_file" ]] || { echo "### $display$verdict"; cat "$out"; echo; } >>"$full_file"
  total=$(wc -l <"$out")
  echo "### \`$display\`$verdict"
  [[ -n "${base_templates[$art_id]:-}" ]] || echo "_New stack (not in base)._"
  echo '```'
  head -n "$max_lines" "$out"
  echo '```'
  if [[ "$total" -gt "$max_lines" ]]; then
    echo "_Truncated: $total lines, first $max_lines shown; the full diff is in the workflow artifact._"
  fi
  echo
done < <(list_stacks "$head_out")

for art_id in "${!base_templates[@]}"; do
  # shellcheck disable=SC2016  # the backticks are Markdown, not a command substitution
  [[ -n "${head_ids[$art_id]:-}" ]] || printf '### `%s`\n_Removed: the stack is in base but not in head._\n\n' "$art_id"
done

exit "$status"

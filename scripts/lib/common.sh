# Helpers shared by scripts/setup-cluster.sh and scripts/destroy.sh; sourcing it only defines functions.
# shellcheck shell=bash
#
# The sourcing script sets these first:
#   script_name   the name messages start with ("setup-cluster: error: ...")
#   repo_root     absolute path of the repository (holds cdk.json and node_modules)
#   dry_run       true or false: false runs each command `run` prints, true only prints it
#   total_steps   how many steps `step` numbers ("==> Step <step_no>/<total_steps>: ...")
#   step_no       0: `step` counts up from it
#   cluster_name  from --cluster-name, or "" for the default resolve_cluster_and_region picks
#   region        from --region, or "" for the default resolve_cluster_and_region picks
# resolve_cluster_and_region then sets cluster_name, region and cdk_ctx (the -c flags) for the script to read.

# Reads one key of cdk.json's "context"; prints nothing when python3 or the key is missing.
# shellcheck disable=SC2154 # repo_root: set by the sourcing script
cdk_context() {
  command -v python3 >/dev/null 2>&1 || return 0
  [[ -f "$repo_root/cdk.json" ]] || return 0
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("context", {}).get(sys.argv[2], ""))' \
    "$repo_root/cdk.json" "$1" 2>/dev/null || true
}

# Fills in the cluster name and region the flags left empty, in the order the CDK app uses.
resolve_cluster_and_region() {
  if [[ -z "$cluster_name" ]]; then
    cluster_name="$(cdk_context cluster_name)"
    cluster_name="${cluster_name:-${CLUSTER_NAME:-eks-platform}}"
  fi
  if [[ -z "$region" ]]; then
    region="${AWS_REGION:-${CDK_DEFAULT_REGION:-}}"
    [[ -n "$region" ]] || region="$(cdk_context region)"
    region="${region:-us-east-1}"
  fi
  # The CDK CLI, the app and the AWS CLI all read these, so every step targets the same region.
  export AWS_REGION="$region" AWS_DEFAULT_REGION="$region"
  # shellcheck disable=SC2034 # read by the sourcing script
  cdk_ctx=(-c "cluster_name=$cluster_name" -c "region=$region")
  # RELEASE (as in `make deploy RELEASE=seed`) selects the release profile; unset = cdk.json's `release`.
  if [[ -n "${RELEASE:-}" ]]; then cdk_ctx+=(-c "release=$RELEASE"); fi
}

# Prints the numbered title of the next step.
# shellcheck disable=SC2154 # total_steps: set by the sourcing script
step() {
  step_no=$((step_no + 1))
  echo "==> Step $step_no/$total_steps: $1"
}

# Prints a command so it can be pasted into a shell: plain words bare, anything else in single quotes.
show_cmd() {
  local arg out="+"
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./:=@,+-]+$ ]]; then
      out+=" $arg"
    else
      out+=" '${arg//\'/\'\\\'\'}'"
    fi
  done
  echo "$out"
}

# Prints the exact command, then runs it unless this is a dry run.
# shellcheck disable=SC2154 # dry_run: set by the sourcing script
run() {
  show_cmd "$@"
  if [[ "$dry_run" == false ]]; then
    "$@"
  fi
}

# One clear usage error on stderr, exit 2.
# shellcheck disable=SC2154 # script_name: set by the sourcing script
usage_error() {
  echo "${script_name}: error: $1 (see --help)" >&2
  exit 2
}

# Where to get each prerequisite (the .ps1 twin prints the same hints).
install_hint() {
  case "$1" in
    aws) echo "install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html" ;;
    kubectl) echo "install kubectl within one minor of the cluster (1.36 for release current, 1.29 for seed): https://kubernetes.io/docs/tasks/tools/ (make test also unpacks both into .tools/)" ;;
    node) echo "install Node.js 20: https://nodejs.org/en/download" ;;
    npx) echo "it comes with npm: install Node.js 20 (https://nodejs.org/en/download), then run 'npm ci' in the repo" ;;
    python3) echo "install Python 3.11: https://www.python.org/downloads/" ;;
  esac
}

# Step 1 of both scripts: every tool with an install hint; a dry run reports what is missing and goes on.
check_prerequisites() {
  local tool missing=()
  for tool in aws kubectl node npx python3; do
    if command -v "$tool" >/dev/null 2>&1; then
      echo "    found $tool"
    else
      missing+=("$tool")
      echo "    MISSING $tool: $(install_hint "$tool")" >&2
    fi
  done
  # npx would fetch an unpinned CLI when the project's pinned aws-cdk (package.json) is not installed.
  if [[ -x "$repo_root/node_modules/.bin/cdk" ]]; then
    echo "    found the pinned CDK CLI (node_modules/.bin/cdk)"
  else
    missing+=("cdk-cli")
    echo "    MISSING the pinned CDK CLI (node_modules/.bin/cdk): run 'npm ci' in $repo_root" >&2
  fi
  if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ "$dry_run" == true ]]; then
      echo "${script_name}: missing prerequisites: ${missing[*]} (dry run goes on; a real run stops here)" >&2
    else
      echo "${script_name}: error: missing prerequisites: ${missing[*]}; install them and run again" >&2
      exit 1
    fi
  fi
}

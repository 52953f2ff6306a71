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

# Fills in the cluster name and region the flags left empty. One rule with make and the app: the configuration
# decides the region (--region, else cdk.json's `region`, else us-east-1); an AWS_REGION or AWS_DEFAULT_REGION
# naming another region stops here (platform_config.config.refuse_other_region says the same in the app).
resolve_cluster_and_region() {
  local variable value
  if [[ -z "$cluster_name" ]]; then
    cluster_name="$(cdk_context cluster_name)"
    cluster_name="${cluster_name:-${CLUSTER_NAME:-eks-platform}}"
  fi
  if [[ -z "$region" ]]; then
    region="$(cdk_context region)"
    region="${region:-us-east-1}"
  fi
  for variable in AWS_REGION AWS_DEFAULT_REGION; do
    value="${!variable:-}"
    if [[ -n "$value" && "$value" != "$region" ]]; then
      echo "${script_name}: error: your environment sets $variable=$value but the configured region is $region" \
        "(--region, else cdk.json's region); the configuration decides the region, so both must agree: unset" \
        "$variable, or pass --region $value with its availability_zones in cdk.json" >&2
      exit 1
    fi
  done
  # The CDK CLI, the app and the AWS CLI all read these, so every step targets the same region.
  export AWS_REGION="$region" AWS_DEFAULT_REGION="$region"
  # shellcheck disable=SC2034 # read by the sourcing script
  cdk_ctx=(-c "cluster_name=$cluster_name" -c "region=$region")
  # RELEASE (as in `make deploy RELEASE=seed`) selects the release profile; unset = cdk.json's `release`.
  if [[ -n "${RELEASE:-}" ]]; then cdk_ctx+=(-c "release=$RELEASE"); fi
}

# One of the value options every script takes (--cluster-name, --region, --timeout): "$1" the option, "$2" its
# value; sets cluster_name, region or timeout_s. The caller shifts 2.
# shellcheck disable=SC2034 # the variables are read by the sourcing script
value_option() {
  [[ $# -ge 2 && -n "$2" && "$2" != -* ]] || usage_error "option '$1' needs a value"
  case "$1" in
    --cluster-name) cluster_name="$2" ;;
    --region) region="$2" ;;
    --timeout)
      [[ "$2" =~ ^[0-9]+$ ]] || usage_error "option '--timeout' needs a whole number of seconds, got '$2'"
      timeout_s="$2" ;;
  esac
}

# The flags of a script that changes the cluster (destroy, drill): --dry-run or --yes, the value options and
# --help (the caller's usage function). "$1" names what a real run does, for the refusal without --yes.
# shellcheck disable=SC2034 # dry_run, yes, cluster_name and region are read by the sourcing script
parse_guarded_options() {
  local action="$1"
  shift
  dry_run=false yes=false cluster_name="" region=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --dry-run) dry_run=true; shift ;;
      --yes) yes=true; shift ;;
      --cluster-name | --region | --timeout) value_option "$@"; shift 2 ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "unknown option '$1'" ;;
    esac
  done
  if [[ "$dry_run" == false && "$yes" == false ]]; then
    usage_error "refusing to $action without --yes (run with --dry-run first to see every step)"
  fi
}

# Prints a read-only query (to fd 3: callers capture stdout) and runs it; a dry run calls nothing and answers
# with the placeholder given as the first argument, so the commands that follow still print.
query() {
  local placeholder="$1"
  shift
  show_cmd "$@" >&3
  if [[ "$dry_run" == true ]]; then
    echo "$placeholder"
  else
    "$@"
  fi
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

# The project's own environment: .venv (Python and the CDK app's packages) and the pinned CDK CLI, made by
# `make deps`; never the user's global python. Puts the venv first on PATH (cdk.json runs `python3 app.py`).
# shellcheck disable=SC2154 # repo_root, dry_run, script_name: set by the sourcing script
prepare_environment() {
  run make -C "$repo_root" deps
  export PATH="$repo_root/.venv/bin:$PATH"
  # jsii's end-of-life banner for Node 20 would interleave every CDK call's output.
  export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_VERSION_CHECK=1
  venv_python="$repo_root/.venv/bin/python"
  if [[ "$dry_run" == false && ! -x "$venv_python" ]]; then
    echo "${script_name}: error: make deps did not create $venv_python; run 'make deps' and read its error" >&2
    exit 1
  fi
}

# One line each for the credentials, the region and the target account; stops on missing credentials or
# on credentials for another account than cdk.json's `account` (the placeholder 111111111111 matches any).
# The target account is cdk.json's (the credentials' when it holds the placeholder; <account> in a dry run).
# Sets caller_arn, caller_account and target_account.
# shellcheck disable=SC2154 # region: set by resolve_cluster_and_region
check_aws_identity() {
  local cmd=(aws sts get-caller-identity --query '[Account,Arn]' --output text) out configured
  show_cmd "${cmd[@]}"
  if [[ "$dry_run" == true ]]; then
    caller_account="<account>" caller_arn="<your principal>"
    echo "    credentials: not checked (dry run)"
  elif ! out="$("${cmd[@]}" 2>&1)"; then
    echo "${script_name}: error: no usable AWS credentials: ${out%%$'\n'*}" >&2
    echo "    Log in (aws sso login --profile NAME, or aws configure), check with 'aws sts get-caller-identity', run again." >&2
    exit 1
  else
    read -r caller_account caller_arn <<<"${out##*$'\n'}"
    echo "    credentials: $caller_arn"
  fi
  echo "    region: $region"
  configured="$(cdk_context account)"
  target_account="$caller_account"
  if [[ -n "$configured" && "$configured" != 111111111111 ]]; then
    target_account="$configured"
  fi
  echo "    target account: $target_account"
  if [[ "$dry_run" == false && "$target_account" != "$caller_account" ]]; then
    echo "${script_name}: error: cdk.json sets account $configured but your credentials are for $caller_account;" \
      "switch credentials (AWS_PROFILE) or fix cdk.json's account" >&2
    exit 1
  fi
}

# Where to get each prerequisite (the .ps1 twin prints the same hints).
install_hint() {
  case "$1" in
    aws) echo "install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html" ;;
    kubectl) echo "install kubectl within one minor of the cluster (1.36 for release current, 1.29 for seed): https://kubernetes.io/docs/tasks/tools/ (make test also unpacks both into .tools/)" ;;
    node) echo "install Node.js 22 LTS: https://nodejs.org/en/download" ;;
    npx) echo "it comes with npm: install Node.js 22 LTS (https://nodejs.org/en/download)" ;;
    make) echo "install GNU make (Debian/Ubuntu: apt-get install make; macOS: xcode-select --install)" ;;
    python3) echo "install Python 3.11: https://www.python.org/downloads/" ;;
  esac
}

# Step 1 of both scripts: every tool named, with an install hint; a dry run reports what is missing and goes on.
check_prerequisites() {
  local tool missing=()
  for tool in "$@"; do
    if command -v "$tool" >/dev/null 2>&1; then
      echo "    found $tool"
    else
      missing+=("$tool")
      echo "    MISSING $tool: $(install_hint "$tool")" >&2
    fi
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ "$dry_run" == true ]]; then
      echo "${script_name}: missing prerequisites: ${missing[*]} (dry run goes on; a real run stops here)" >&2
    else
      echo "${script_name}: error: missing prerequisites: ${missing[*]}; install them and run again" >&2
      exit 1
    fi
  fi
}

# The IAM role behind a caller ARN (an access entry needs the role, not the STS session):
# arn:aws:sts::1:assumed-role/Admin/me -> arn:aws:iam::1:role/Admin; prints nothing for IAM users (admin access
# entries accept roles only: config refuses users), root or others.
iam_principal() {
  local arn="$1" partition account rest
  IFS=: read -r _ partition _ _ account rest <<<"$arn"
  case "$rest" in
    assumed-role/*/*) rest="${rest#assumed-role/}"; echo "arn:$partition:iam::$account:role/${rest%%/*}" ;;
    role/*) echo "arn:$partition:iam::$account:$rest" ;;
  esac
}

# Shows a failed kubectl call; stops on errors waiting cannot fix, with what to do.
# shellcheck disable=SC2154 # script_name: set by the sourcing script
explain_kubectl_error() {
  local first="${1%%$'\n'*}"
  case "$1" in
    *NotFound* | *"not found"*) ;;
    *Unauthorized* | *Forbidden* | *"must be logged in"* | *"provide credentials"*)
      echo "${script_name}: error: kubectl was refused: $first" >&2
      echo "    Your principal has no access entry on the cluster: add it to admin_principal_arns" \
        "(cdk.json or --add-me) and deploy again." >&2
      exit 1 ;;
    *"i/o timeout"* | *"no such host"* | *"connection refused"* | *"Unable to connect"*)
      echo "${script_name}: error: the cluster API endpoint is unreachable: $first" >&2
      echo "    With endpoint_access=private kubectl works only from inside the VPC: see docs/runbook.md" \
        "(Private endpoint access), or use public_and_private with your public_access_cidrs." >&2
      exit 1 ;;
    *) echo "    kubectl: $first" ;;
  esac
}

# The stacks' Outputs from `cdk deploy --outputs-file`, one "Key: value" line each, with the venv's python.
# shellcheck disable=SC2154 # venv_python: set by prepare_environment
print_outputs() {
  if [[ ! -f "$1" ]]; then
    echo "    ($1 is missing: read the Outputs of each stack in the CloudFormation console)"
    return 0
  fi
  "$venv_python" -c '
import json, sys
for stack, outputs in sorted(json.load(open(sys.argv[1])).items()):
    for key, value in outputs.items():
        if not key.startswith("ExportsOutput"):
            print(f"    {key}: {value}")
' "$1"
}

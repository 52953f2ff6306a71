#!/usr/bin/env bash
# Bootstraps the platform end to end: prerequisites, the project's venv (make deps), credentials, config,
# cdk bootstrap, cdk deploy --all, kubeconfig, wait for the ArgoCD root application, list nodes, then how to
# reach the cluster (the stacks' Outputs). --dry-run prints every step and runs only what needs no AWS.
# Twin of scripts/setup-cluster.ps1: keep the steps, flags and messages of both in step.
set -euo pipefail

# Only builtins before the prerequisite check, so --dry-run works on a machine missing every tool.
script_dir="${BASH_SOURCE[0]%/*}"
[[ "$script_dir" != "${BASH_SOURCE[0]}" ]] || script_dir=.
repo_root="$(cd "$script_dir/.." && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"
script_name="setup-cluster"
root_app="platform-root"
root_app_namespace="argocd"
total_steps=9
outputs_file="cdk.out/outputs.json"
step_no=0

usage() {
  local text
  # read, not cat: --help must work on a machine without coreutils on PATH, like --dry-run.
  IFS= read -r -d '' text <<'USAGE' || true
Usage: scripts/setup-cluster.sh [--dry-run] [--add-me] [--cluster-name NAME] [--region REGION] [--timeout SECONDS] [--help]

Deploys the EKS platform into the AWS account of your current credentials, then waits for ArgoCD.
Steps: 1 check prerequisites, 2 make deps (the project's .venv and pinned CDK CLI),
       3 aws sts get-caller-identity (credentials, region, target account),
       4 check the configuration (a Kubernetes version EKS still creates, admin access),
       5 npx cdk bootstrap, 6 npx cdk deploy --all --require-approval broadening,
       7 aws eks update-kubeconfig, 8 wait for ArgoCD application platform-root (Healthy and Synced),
       9 kubectl get nodes -L karpenter.sh/capacity-type; then the stacks' Outputs: how to reach everything

  --dry-run              print each step's exact command; run only what needs no AWS (the preflight, offline)
  --add-me               with no admin_principal_arns configured, add the deploying principal without asking
  --cluster-name NAME    default: cdk.json context cluster_name, else $CLUSTER_NAME, else eks-platform
  --region REGION        default: cdk.json context region, else us-east-1 (passed to cdk as -c region=);
                         an AWS_REGION or AWS_DEFAULT_REGION naming another region stops the script
  --timeout SECONDS      how long to wait for platform-root (default 1800)
  -h, --help             show this help
Environment: RELEASE=seed|current selects the release profile (default: cdk.json context release).
Exit: 0 done, 1 a step failed or a prerequisite is missing, 2 bad usage.
USAGE
  printf '%s' "$text"
}

dry_run=false
add_me=false
cluster_name=""
region=""
timeout_s=1800
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) dry_run=true; shift ;;
    --add-me) add_me=true; shift ;;
    --cluster-name | --region | --timeout) value_option "$@"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
done

resolve_cluster_and_region

echo "setup-cluster: cluster=$cluster_name region=$region dry-run=$dry_run"

step "check prerequisites (aws kubectl node npx python3 make)"
check_prerequisites aws kubectl node npx python3 make

cd "$repo_root"

step "prepare the project environment (make deps: .venv and the pinned CDK CLI)"
prepare_environment

step "check AWS credentials, region and target account"
check_aws_identity

step "check the configuration (a Kubernetes version EKS still creates, admin access)"
# Prints the target (account, region, AWS profile, cluster, stacks) before anything changes. A dry run runs it
# too, --offline (zones by region prefix only), with the system python3 when make deps has not run.
preflight_cmd=("$venv_python" scripts/preflight.py --script "${cdk_ctx[@]}")
show_cmd "${preflight_cmd[@]}"
if [[ "$dry_run" == true ]]; then
  [[ -x "$venv_python" ]] || preflight_cmd[0]=python3
  preflight_cmd+=(--offline)
  echo "    (dry run: the same check --offline, no AWS call)"
fi
if [[ "$dry_run" == true ]] && ! command -v "${preflight_cmd[0]}" >/dev/null 2>&1; then
  echo "    (dry run: not checked, no python3; a real run stops at make deps)"
  admins=unknown
else
  preflight="$("${preflight_cmd[@]}")" || {
    echo "${script_name}: error: the configuration cannot be deployed (see the line above); nothing was deployed" >&2
    exit 1
  }
  admins="${preflight##*admin_principals=}"
  echo "${preflight%$'\n'admin_principals=*}"
fi
if [[ "$admins" == 0 && "$dry_run" == true ]]; then
  echo "    admin_principal_arns is empty: a real run offers the deploying principal (--add-me accepts it)"
elif [[ "$admins" == 0 ]]; then
  # The cluster gives its creator no admin: without an access entry nobody can use kubectl.
  principal="$(iam_principal "$caller_arn")"
  echo "    admin_principal_arns is empty: nobody would be able to use kubectl on the cluster"
  if [[ -z "$principal" ]]; then
    echo "${script_name}: error: cannot derive an IAM role from $caller_arn; admin access entries accept IAM" \
      "roles only: deploy through a role (aws sso login, or assume one) or set admin_principal_arns to a role ARN" >&2
    exit 1
  fi
  answer=n
  if [[ "$add_me" == true ]]; then
    answer=y
  elif [[ -t 0 ]]; then
    read -r -p "    Add the deploying principal $principal as cluster admin? [y/N] " answer
  fi
  if [[ "$answer" != [yY]* ]]; then
    echo "${script_name}: error: no admin principal; set admin_principal_arns in cdk.json or run with --add-me" >&2
    exit 1
  fi
  cdk_ctx+=(-c "admin_principal_arns=$principal")
  echo "    adding: -c admin_principal_arns=$principal"
fi

step "bootstrap the CDK environment"
run npx cdk bootstrap "aws://$target_account/$region" "${cdk_ctx[@]}"

step "deploy every stack"
# broadening: CloudFormation changes that widen IAM or security groups wait for your yes.
run npx cdk deploy --all --require-approval broadening --outputs-file "$outputs_file" "${cdk_ctx[@]}"

step "write the kubeconfig"
run aws eks update-kubeconfig --name "$cluster_name" --region "$region"

step "wait for ArgoCD application $root_app to be Healthy and Synced (timeout ${timeout_s}s)"
status_cmd=(kubectl -n "$root_app_namespace" get application "$root_app"
  -o "jsonpath={.status.health.status} {.status.sync.status}")
echo "    (polled every 15s until it prints \"Healthy Synced\")"
show_cmd "${status_cmd[@]}"
if [[ "$dry_run" == false ]]; then
  start=$SECONDS
  while true; do
    # The Application may not exist yet right after deploy (NotFound: not ready yet); any other kubectl
    # error is shown, and the ones that will not heal by waiting stop the script with what to do.
    if status="$("${status_cmd[@]}" 2>&1)"; then
      read -r health sync <<<"$status"
    else
      health=Missing sync=Unknown
      explain_kubectl_error "$status"
    fi
    elapsed=$((SECONDS - start))
    echo "    [${elapsed}s/${timeout_s}s] $root_app: health=${health:-Unknown} sync=${sync:-Unknown}"
    [[ "${health:-}" == Healthy && "${sync:-}" == Synced ]] && break
    if ((elapsed >= timeout_s)); then
      echo "setup-cluster: error: $root_app not Healthy and Synced after ${timeout_s}s;" \
        "inspect with: kubectl -n $root_app_namespace get applications" >&2
      exit 1
    fi
    sleep 15
  done
fi

step "show the nodes and their capacity type"
run kubectl get nodes -L karpenter.sh/capacity-type

echo "==> How to reach the cluster, Argo CD, Grafana and the shop (the stacks' Outputs, also in $outputs_file):"
if [[ "$dry_run" == true ]]; then
  echo "    (after a real run: ClusterName, Region, UpdateKubeconfigCommand, InterruptionQueueName,"
  echo "     ArgoCdPortForward, GrafanaPortForward, ShopUrl: how to read the shop ALB's address unless"
  echo "     shop_ingress=off; passwords: README, Day-one access)"
  echo "setup-cluster: dry run done; nothing that needs AWS was called"
else
  print_outputs "$outputs_file"
  echo "setup-cluster: done"
fi

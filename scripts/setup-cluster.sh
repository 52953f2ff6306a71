#!/usr/bin/env bash
# Bootstraps the platform end to end: prerequisites, cdk bootstrap, cdk deploy --all, kubeconfig,
# wait for the ArgoCD root application, list nodes. --dry-run prints every step and runs none of them.
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
total_steps=6
step_no=0

usage() {
  local text
  # read, not cat: --help must work on a machine without coreutils on PATH, like --dry-run.
  IFS= read -r -d '' text <<'USAGE' || true
Usage: scripts/setup-cluster.sh [--dry-run] [--cluster-name NAME] [--region REGION] [--timeout SECONDS] [--help]

Deploys the EKS platform into the AWS account of your current credentials, then waits for ArgoCD.
Steps: 1 check prerequisites, 2 npx cdk bootstrap, 3 npx cdk deploy --all --require-approval never,
       4 aws eks update-kubeconfig, 5 wait for ArgoCD application platform-root (Healthy and Synced),
       6 kubectl get nodes -L karpenter.sh/capacity-type

  --dry-run              print each step's exact command; call nothing (no AWS, no kubectl)
  --cluster-name NAME    default: cdk.json context cluster_name, else $CLUSTER_NAME, else eks-platform
  --region REGION        default: $AWS_REGION, else $CDK_DEFAULT_REGION, else cdk.json context region,
                         else us-east-1 (the same order the CDK app uses)
  --timeout SECONDS      how long to wait for platform-root (default 1800)
  -h, --help             show this help
Environment: RELEASE=seed|current selects the release profile (default: cdk.json context release).
Exit: 0 done, 1 a step failed or a prerequisite is missing, 2 bad usage.
USAGE
  printf '%s' "$text"
}

dry_run=false
cluster_name=""
region=""
timeout_s=1800
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) dry_run=true; shift ;;
    --cluster-name | --region | --timeout)
      [[ $# -ge 2 && -n "$2" && "$2" != -* ]] || usage_error "option '$1' needs a value"
      case "$1" in
        --cluster-name) cluster_name="$2" ;;
        --region) region="$2" ;;
        --timeout)
          [[ "$2" =~ ^[0-9]+$ ]] || usage_error "option '--timeout' needs a whole number of seconds, got '$2'"
          timeout_s="$2" ;;
      esac
      shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
done

resolve_cluster_and_region

echo "setup-cluster: cluster=$cluster_name region=$region dry-run=$dry_run"

step "check prerequisites (aws kubectl node npx python3, and the pinned CDK CLI)"
check_prerequisites

cd "$repo_root"

step "bootstrap the CDK environment"
run npx cdk bootstrap "${cdk_ctx[@]}"

step "deploy every stack"
run npx cdk deploy --all --require-approval never "${cdk_ctx[@]}"

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
    # The Application may not exist yet right after deploy: treat that as "not ready", not as failure.
    status="$("${status_cmd[@]}" 2>/dev/null || echo "Missing Unknown")"
    read -r health sync <<<"$status"
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

if [[ "$dry_run" == true ]]; then
  echo "setup-cluster: dry run done; nothing was called"
else
  echo "setup-cluster: done"
fi

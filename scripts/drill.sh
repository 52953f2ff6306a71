#!/usr/bin/env bash
# The Spot interruption drill (spot_drill=true): starts the AWS FIS experiment the Karpenter stack created, then
# shows the interruption queue, the Spot node replacement and the shop's availability until the experiment
# ends. --dry-run (make drill's default) prints every command and calls none of them.
set -euo pipefail

# Only builtins before the prerequisite check, so --dry-run works on a machine missing every tool.
script_dir="${BASH_SOURCE[0]%/*}"
[[ "$script_dir" != "${BASH_SOURCE[0]}" ]] || script_dir=.
repo_root="$(cd "$script_dir/.." && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"
script_name="drill"
shop_namespace="astronomy-shop"
spot_selector="karpenter.sh/nodepool=spot"
poll_s=15
total_steps=6
step_no=0

usage() {
  local text
  IFS= read -r -d '' text <<'USAGE' || true
Usage: scripts/drill.sh (--dry-run | --yes) [--cluster-name NAME] [--region REGION] [--timeout SECONDS] [--help]

Rehearses a Spot interruption on the deployed platform (needs spot_drill=true, deployed).
Steps: 1 check prerequisites, 2 find the FIS experiment template (stack output SpotDrillTemplateId),
       3 show the Spot nodes and the shop before, 4 aws fis start-experiment,
       5 every 15s until the experiment ends: its state, the interruption queue, the Spot NodeClaims and
         the shop's Deployments (ready/desired), 6 show the Spot nodes and the shop after

  --dry-run              print each step's exact command; call nothing (no AWS, no kubectl)
  --yes                  required for a real run: this interrupts Spot nodes of the cluster
  --cluster-name NAME    default: cdk.json context cluster_name, else $CLUSTER_NAME, else eks-platform
  --region REGION        default: cdk.json context region, else us-east-1; an AWS_REGION or
                         AWS_DEFAULT_REGION naming another region stops the script
  --timeout SECONDS      how long to watch the experiment (default 900)
  -h, --help             show this help
Exit: 0 the experiment completed and every shop Deployment is ready again, 1 otherwise, 2 bad usage.
USAGE
  printf '%s' "$text"
}

timeout_s=900
parse_guarded_options "interrupt Spot nodes" "$@"
resolve_cluster_and_region

# One look at the drill: the experiment's state (in $status), the queue backlog, Spot NodeClaims, shop readiness.
watch_once() {
  status="$(query running aws fis get-experiment --id "$experiment" --query experiment.state.status --output text)"
  run aws sqs get-queue-attributes --queue-url "$queue_url" --attribute-names ApproximateNumberOfMessages \
    --query Attributes.ApproximateNumberOfMessages --output text
  run kubectl get nodeclaims -l "$spot_selector" -o wide
  run kubectl -n "$shop_namespace" get deployments \
    -o 'custom-columns=NAME:.metadata.name,READY:.status.readyReplicas,DESIRED:.spec.replicas'
}

exec 3>&1
echo "drill: cluster=$cluster_name region=$region dry-run=$dry_run"

step "check prerequisites (aws kubectl)"
check_prerequisites aws kubectl

step "find the FIS experiment template (output SpotDrillTemplateId of $cluster_name-Karpenter)"
template="$(query '<template-id>' aws cloudformation describe-stacks --stack-name "$cluster_name-Karpenter" \
  --query "Stacks[0].Outputs[?OutputKey=='SpotDrillTemplateId'].OutputValue" --output text)"
if [[ -z "$template" || "$template" == None ]]; then
  echo "${script_name}: error: $cluster_name-Karpenter has no SpotDrillTemplateId output: the drill is opt-in;" \
    "set spot_drill=true (cdk.json, or make deploy ARGS=\"-c spot_drill=true\") and deploy first" >&2
  exit 1
fi
echo "    template: $template"
queue_url="$(query '<queue-url>' aws sqs get-queue-url --queue-name "$cluster_name" --query QueueUrl --output text)"

step "show the Spot nodes and the shop before"
run kubectl get nodes -l "$spot_selector" -L topology.kubernetes.io/zone
run kubectl -n "$shop_namespace" get deployments

step "start the experiment (one Spot interruption warning per selected node, 2 minutes before the stop)"
experiment="$(query '<experiment-id>' aws fis start-experiment --experiment-template-id "$template" \
  --query experiment.id --output text)"
echo "    experiment: $experiment"

step "watch the experiment, the queue, the Spot NodeClaims and the shop (every ${poll_s}s, timeout ${timeout_s}s)"
if [[ "$dry_run" == true ]]; then
  watch_once
  echo "    (polled every ${poll_s}s until the experiment is completed, stopped or failed)"
else
  start=$SECONDS
  while true; do
    watch_once
    echo "    [$((SECONDS - start))s/${timeout_s}s] experiment: $status"
    case "$status" in completed | stopped | failed) break ;; esac
    if ((SECONDS - start >= timeout_s)); then
      echo "${script_name}: error: the experiment is still $status after ${timeout_s}s;" \
        "aws fis get-experiment --id $experiment" >&2
      exit 1
    fi
    sleep "$poll_s"
  done
fi

step "show the Spot nodes and the shop after"
run kubectl get nodes -l "$spot_selector" -L topology.kubernetes.io/zone
ready="$(query "" kubectl -n "$shop_namespace" get deployments \
  -o 'jsonpath={range .items[*]}{.metadata.name} {.status.readyReplicas} {.spec.replicas}{"\n"}{end}')"
unready=0
while read -r name have want; do
  [[ -n "$name" ]] || continue
  if [[ "${have:-0}" != "$want" ]]; then
    unready=$((unready + 1))
    echo "    not ready: $name (${have:-0}/$want)"
  fi
done <<<"$ready"
if [[ "$dry_run" == true ]]; then
  echo "drill: dry run done; nothing was called"
elif [[ "${status:-}" != completed || $unready -gt 0 ]]; then
  echo "${script_name}: error: experiment $status, $unready shop Deployment(s) not ready" >&2
  exit 1
else
  echo "drill: done; the experiment completed and every shop Deployment is ready"
fi

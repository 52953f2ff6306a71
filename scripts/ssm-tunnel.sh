#!/usr/bin/env bash
# kubectl to a private-only API endpoint without a bastion: an SSM port forward (AWS-StartPortForwardingSession-
# ToRemoteHost) through one of the cluster's Karpenter On-Demand nodes (their role carries
# AmazonSSMManagedInstanceCore; the system nodes' does not), then kubectl against 127.0.0.1 with the endpoint's
# name for TLS. --dry-run prints every command and calls none of them.
set -euo pipefail

script_dir="${BASH_SOURCE[0]%/*}"
[[ "$script_dir" != "${BASH_SOURCE[0]}" ]] || script_dir=.
repo_root="$(cd "$script_dir/.." && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"
script_name="ssm-tunnel"
total_steps=4
step_no=0

usage() {
  local text
  IFS= read -r -d '' text <<'USAGE' || true
Usage: scripts/ssm-tunnel.sh [--dry-run] [--cluster-name NAME] [--region REGION] [--local-port PORT] [--help]

Forwards 127.0.0.1:PORT to the cluster's private API endpoint through SSM (no inbound port, no SSH key).
Steps: 1 check prerequisites (aws, session-manager-plugin, kubectl), 2 aws eks describe-cluster (endpoint),
       3 aws ec2 describe-instances (a running On-Demand Karpenter node of the cluster),
       4 aws ssm start-session (runs until Ctrl-C); use kubectl with the printed --server and --tls-server-name

  --dry-run              print each step's exact command; call nothing
  --cluster-name NAME    default: cdk.json context cluster_name, else $CLUSTER_NAME, else eks-platform
  --region REGION        default: cdk.json context region, else us-east-1; an AWS_REGION or
                         AWS_DEFAULT_REGION naming another region stops the script
  --local-port PORT      local port of the tunnel (default 8443)
  -h, --help             show this help
Exit: 0 the session ended, 1 a step failed, 2 bad usage.
USAGE
  printf '%s' "$text"
}

dry_run=false
cluster_name=""
region=""
local_port=8443
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) dry_run=true; shift ;;
    --cluster-name | --region) value_option "$@"; shift 2 ;;
    --local-port)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -ge 1024 && "$2" -le 65535 ]] ||
        usage_error "option '--local-port' needs a port from 1024 to 65535, got '${2:-}'"
      local_port="$2"
      shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
done
resolve_cluster_and_region

exec 3>&1
echo "ssm-tunnel: cluster=$cluster_name region=$region local-port=$local_port dry-run=$dry_run"

step "check prerequisites (aws session-manager-plugin kubectl)"
check_prerequisites aws kubectl
if ! command -v session-manager-plugin >/dev/null 2>&1; then
  echo "    MISSING session-manager-plugin: install the Session Manager plugin for the AWS CLI:" \
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html" >&2
  [[ "$dry_run" == true ]] || { echo "${script_name}: error: missing prerequisites: session-manager-plugin" >&2; exit 1; }
fi

step "find the private API endpoint"
endpoint="$(query https://EXAMPLE.gr7.eks.amazonaws.com aws eks describe-cluster --name "$cluster_name" \
  --query cluster.endpoint --output text)"
host="${endpoint#https://}"
echo "    endpoint host: $host"

step "find a running On-Demand Karpenter node of $cluster_name (it runs the SSM agent)"
instances="$(query i-0123456789abcdef0 aws ec2 describe-instances \
  --filters "Name=tag:eks-platform.io/cluster,Values=$cluster_name" "Name=tag:karpenter.sh/nodepool,Values=on-demand" \
  Name=instance-state-name,Values=running --query 'Reservations[].Instances[].InstanceId' --output text)"
read -r instance _ <<<"$instances" || true
if [[ -z "${instance:-}" || "$instance" == None ]]; then
  echo "${script_name}: error: no running On-Demand Karpenter node of $cluster_name to tunnel through;" \
    "Karpenter starts one for the stateful workloads (kubectl get nodeclaims), or see docs/runbook.md" \
    "(Private endpoint access) for a dedicated instance" >&2
  exit 1
fi
echo "    through: $instance"

step "forward 127.0.0.1:$local_port to $host:443 (Ctrl-C ends it)"
echo "    in another shell: kubectl --server https://127.0.0.1:$local_port --tls-server-name $host get nodes"
run aws ssm start-session --target "$instance" --document-name AWS-StartPortForwardingSessionToRemoteHost \
  --parameters "host=$host,portNumber=443,localPortNumber=$local_port"

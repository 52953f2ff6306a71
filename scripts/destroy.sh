#!/usr/bin/env bash
# Tears the platform down in the order that leaves nothing behind: ArgoCD apps, load balancers and volumes,
# Karpenter capacity, then the CDK stacks in reverse order. --dry-run prints every step and runs none of them.
# Same flags, defaults and messages as scripts/setup-cluster.sh; a real run needs --yes.
set -euo pipefail

# Only builtins before the prerequisite check, so --dry-run works on a machine missing every tool.
script_dir="${BASH_SOURCE[0]%/*}"
[[ "$script_dir" != "${BASH_SOURCE[0]}" ]] || script_dir=.
repo_root="$(cd "$script_dir/.." && pwd)"
# shellcheck source=lib/common.sh
source "$script_dir/lib/common.sh"
script_name="destroy"
root_app="platform-root"
argocd_namespace="argocd"
argocd_finalizer="resources-finalizer.argocd.argoproj.io"
# Seconds between polls; DESTROY_POLL_SECONDS exists for the tests' stubbed aws and kubectl.
poll_s="${DESTROY_POLL_SECONDS:-15}"
# The tag the AWS Load Balancer Controller puts on every load balancer, target group and security group it creates.
lb_tag_key="elbv2.k8s.aws/cluster"
total_steps=14
step_no=0

usage() {
  local text
  # read, not cat: --help must work on a machine without coreutils on PATH, like --dry-run.
  IFS= read -r -d '' text <<'USAGE' || true
Usage: scripts/destroy.sh (--dry-run | --yes) [--cluster-name NAME] [--region REGION] [--timeout SECONDS] [--help]

Deletes the EKS platform and everything it launched, in an order that leaves no orphaned AWS resource.
Steps: 1 check prerequisites, 2 make deps (the project's .venv and pinned CDK CLI),
       3 aws sts get-caller-identity (credentials, region, target account), 4 aws eks update-kubeconfig,
       5 delete ArgoCD application platform-root with cascade (its resources and child applications),
       6 delete any remaining ArgoCD applications,
       7 delete Ingresses and LoadBalancer Services (their load balancers block VPC deletion),
       8 wait until no load balancer, target group or security group tagged elbv2.k8s.aws/cluster=NAME is left,
       9 delete PersistentVolumeClaims (the EBS CSI driver deletes their volumes),
       10 delete the Karpenter NodePools, 11 wait until no NodeClaim is left,
       12 delete the EC2NodeClasses (Karpenter removes its instance profiles),
       13 npx cdk list, 14 npx cdk destroy --force of the listed stacks: Addons, Karpenter, Cluster, Network

  --dry-run              print each step's exact command; call nothing (no AWS, no kubectl)
  --yes                  required for a real run: this deletes the cluster and its data
  --cluster-name NAME    default: cdk.json context cluster_name, else $CLUSTER_NAME, else eks-platform
  --region REGION        default: cdk.json context region, else us-east-1 (passed to cdk as -c region=);
                         an AWS_REGION or AWS_DEFAULT_REGION naming another region stops the script
  --timeout SECONDS      how long each deletion and each wait (load balancers, NodeClaims) may take (default 1800)
  -h, --help             show this help
Environment: RELEASE=seed|current selects the release profile (default: cdk.json context release).
Exit: 0 done, 1 a step failed or a prerequisite is missing, 2 bad usage or no --yes.
USAGE
  printf '%s' "$text"
}

timeout_s=1800
parse_guarded_options "delete the cluster" "$@"

resolve_cluster_and_region
# Reverse deployment order: each stack goes before the ones it depends on.
stacks=("$cluster_name-Addons" "$cluster_name-Karpenter" "$cluster_name-Cluster" "$cluster_name-Network")

# True when the API server knows the CRD: a partial deploy (failed Addons or Karpenter stack) has none,
# and then the steps that need it have nothing to delete.
has_crd() {
  local found
  found="$(query "customresourcedefinition.apiextensions.k8s.io/$1" kubectl get crd "$1" --ignore-not-found -o name)"
  if [[ -z "$found" ]]; then
    echo "    CRD $1 not installed: nothing to delete"
    return 1
  fi
}

exec 3>&1
echo "destroy: cluster=$cluster_name region=$region dry-run=$dry_run"

step "check prerequisites (aws kubectl node npx python3 make)"
check_prerequisites aws kubectl node npx python3 make

cd "$repo_root"

step "prepare the project environment (make deps: .venv and the pinned CDK CLI)"
prepare_environment

step "check AWS credentials, region and target account"
check_aws_identity

step "write the kubeconfig"
run aws eks update-kubeconfig --name "$cluster_name" --region "$region"

# ArgoCD deletes an Application's resources only when the Application carries its finalizer, and the
# controller must still run to do it: so this comes first, while the Addons stack is intact.
step "delete ArgoCD application $root_app with cascade (its resources and child applications)"
argo_installed=false
if has_crd applications.argoproj.io; then
  argo_installed=true
  apps="$(query "application.argoproj.io/$root_app" kubectl -n "$argocd_namespace" get applications.argoproj.io -o name)"
  # Children without the finalizer would be deleted but leave their workloads (and load balancers) behind.
  [[ "$dry_run" == false ]] || echo "    (one patch per listed application)"
  for app in $apps; do
    run kubectl -n "$argocd_namespace" patch "$app" --type merge \
      -p "{\"metadata\":{\"finalizers\":[\"$argocd_finalizer\"]}}"
  done
  run kubectl -n "$argocd_namespace" delete applications.argoproj.io "$root_app" --ignore-not-found \
    --wait "--timeout=${timeout_s}s"
fi

step "delete any remaining ArgoCD applications"
if [[ "$argo_installed" == true ]]; then
  run kubectl -n "$argocd_namespace" delete applications.argoproj.io --all --wait "--timeout=${timeout_s}s"
else
  echo "    ArgoCD not installed: nothing to delete"
fi

# Load balancers and their security groups sit in the VPC's subnets; CloudFormation cannot delete the
# VPC while they exist. Deleting the objects lets their controller delete them (their finalizers wait).
step "delete Ingresses and LoadBalancer Services (their load balancers block VPC deletion)"
run kubectl delete ingresses.networking.k8s.io --all-namespaces --all --wait "--timeout=${timeout_s}s"
lb_jsonpath='{range .items[?(@.spec.type=="LoadBalancer")]}{.metadata.namespace}{" "}{.metadata.name}{"\n"}{end}'
lb_services="$(query "<namespace> <name>" kubectl get services --all-namespaces -o "jsonpath=$lb_jsonpath")"
while read -r svc_namespace svc_name; do
  [[ -n "${svc_name:-}" ]] || continue
  run kubectl -n "$svc_namespace" delete service "$svc_name" --wait "--timeout=${timeout_s}s"
done <<<"$lb_services"
[[ "$dry_run" == false ]] || echo "    (one delete per listed service)"

# The controller deletes an Ingress's ALB, target groups and security groups after the Ingress is gone, and only
# while it runs (Addons stack): wait for AWS to say they are gone, or the Network stack's deletion fails later.
step "wait until the controller's load balancers, target groups and security groups are gone (timeout ${timeout_s}s)"
lb_cmd=(aws resourcegroupstaggingapi get-resources --region "$region"
  --tag-filters "Key=$lb_tag_key,Values=$cluster_name"
  --resource-type-filters elasticloadbalancing:loadbalancer elasticloadbalancing:targetgroup ec2:security-group
  --query "ResourceTagMappingList[].ResourceARN" --output text)
echo "    (polled every ${poll_s}s until it prints nothing)"
show_cmd "${lb_cmd[@]}"
if [[ "$dry_run" == false ]]; then
  start=$SECONDS
  while true; do
    lb_left=()
    # Captured first: set -e does not see a failing command inside a for list, which would read as "none left".
    lb_out="$("${lb_cmd[@]}")"
    for arn in $lb_out; do
      [[ "$arn" == "None" ]] || lb_left+=("$arn")
    done
    elapsed=$((SECONDS - start))
    echo "    [${elapsed}s/${timeout_s}s] tagged load balancer resources left: ${#lb_left[@]}"
    ((${#lb_left[@]} > 0)) || break
    if ((elapsed >= timeout_s)); then
      echo "destroy: error: ${#lb_left[@]} AWS resources tagged $lb_tag_key=$cluster_name still exist after" \
        "${timeout_s}s: ${lb_left[*]}; the stacks were not touched. Remove them as docs/runbook.md (Teardown) describes." >&2
      exit 1
    fi
    sleep "$poll_s"
  done
fi

# StatefulSet claims outlive their workload; their EBS volumes are deleted only while the EBS CSI driver
# (an EKS add-on of the Cluster stack) runs. No --wait: a claim still mounted by an add-on of the Addons
# stack goes when cdk destroy removes that pod. Volumes with reclaimPolicy Retain stay: see the runbook.
step "delete PersistentVolumeClaims (the EBS CSI driver deletes their volumes)"
run kubectl delete persistentvolumeclaims --all-namespaces --all --wait=false

# Karpenter terminates the instances of a deleted NodePool; they are not in CloudFormation, and would
# otherwise keep the node role, subnets and security group of the stacks in use.
step "delete the Karpenter NodePools"
karpenter_installed=false
if has_crd nodepools.karpenter.sh; then
  karpenter_installed=true
  run kubectl delete nodepools.karpenter.sh --all --wait "--timeout=${timeout_s}s"
fi

step "wait until no Karpenter NodeClaim is left (timeout ${timeout_s}s)"
nodeclaims_cmd=(kubectl get nodeclaims.karpenter.sh -o name)
echo "    (polled every ${poll_s}s until it prints nothing)"
show_cmd "${nodeclaims_cmd[@]}"
if [[ "$dry_run" == false && "$karpenter_installed" == true ]]; then
  start=$SECONDS
  while true; do
    left="$("${nodeclaims_cmd[@]}")"
    count=0
    while read -r line; do
      if [[ -n "$line" ]]; then count=$((count + 1)); fi
    done <<<"$left"
    elapsed=$((SECONDS - start))
    echo "    [${elapsed}s/${timeout_s}s] NodeClaims left: $count"
    ((count > 0)) || break
    if ((elapsed >= timeout_s)); then
      echo "destroy: error: $count NodeClaims still exist after ${timeout_s}s; the stacks were not touched." \
        "Inspect with: kubectl get nodeclaims; kubectl -n kube-system logs deploy/karpenter" >&2
      exit 1
    fi
    sleep "$poll_s"
  done
fi

# An EC2NodeClass's finalizer deletes the instance profile Karpenter created for it; the Karpenter
# controller (Karpenter stack) must still run, so this precedes cdk destroy.
step "delete the EC2NodeClasses (Karpenter removes its instance profiles)"
if [[ "$karpenter_installed" == true ]]; then
  run kubectl delete ec2nodeclasses.karpenter.k8s.aws --all --wait "--timeout=${timeout_s}s"
elif [[ "$dry_run" == false ]]; then
  echo "    Karpenter not installed: nothing to delete"
fi

# cdk destroy fails on a stack id the app does not synthesize (e.g. before the Addons stack existed),
# so only the stacks `cdk list` names are passed; CloudFormation skips synthesized but undeployed ones.
step "list the stacks the CDK app synthesizes"
listed="$(query "${stacks[*]}" npx cdk list "${cdk_ctx[@]}")"
to_destroy=()
for stack in "${stacks[@]}"; do
  for name in $listed; do
    if [[ "$name" == "$stack" ]]; then
      to_destroy+=("$stack")
    fi
  done
done
echo "    will destroy: ${to_destroy[*]:-nothing}"

step "destroy the stacks in reverse order"
if [[ ${#to_destroy[@]} -gt 0 ]]; then
  run npx cdk destroy --force "${to_destroy[@]}" "${cdk_ctx[@]}"
fi

if [[ "$dry_run" == true ]]; then
  echo "destroy: dry run done; nothing was called"
else
  echo "destroy: done. Check for leftovers as docs/runbook.md (Teardown) describes."
fi

"""destroy.sh tears down in order (apps, load balancers, volumes, Karpenter, stacks) and calls nothing dry."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_setup_scripts import BASH, calls

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "destroy.sh"

STEP_TITLES = [
    "check prerequisites (aws kubectl node npx python3 make)",
    "prepare the project environment (make deps: .venv and the pinned CDK CLI)",
    "check AWS credentials, region and target account",
    "write the kubeconfig",
    "delete ArgoCD application platform-root with cascade (its resources and child applications)",
    "delete any remaining ArgoCD applications",
    "delete Ingresses and LoadBalancer Services (their load balancers block VPC deletion)",
    "wait until the controller's load balancers, target groups and security groups are gone (timeout 1800s)",
    "delete PersistentVolumeClaims (the EBS CSI driver deletes their volumes)",
    "delete the Karpenter NodePools",
    "wait until no Karpenter NodeClaim is left (timeout 1800s)",
    "delete the EC2NodeClasses (Karpenter removes its instance profiles)",
    "list the stacks the CDK app synthesizes",
    "destroy the stacks in reverse order",
]
FINALIZER_PATCH = '{"metadata":{"finalizers":["resources-finalizer.argocd.argoproj.io"]}}'
LB_ITEMS = '{range .items[?(@.spec.type=="LoadBalancer")]}'
LB_JSONPATH = f'jsonpath={LB_ITEMS}{{.metadata.namespace}}{{" "}}{{.metadata.name}}{{"\\n"}}{{end}}'
WAIT = "--wait --timeout=1800s"


def argv(line: str) -> str:
    """A printed command as the shims log it ("$*"): words joined by single spaces, quotes removed."""
    return " ".join(shlex.split(line))


def lb_query(cluster: str, region: str) -> str:
    """The poll for what the AWS Load Balancer Controller created for this cluster and has not deleted yet."""
    return (
        f"aws resourcegroupstaggingapi get-resources --region {region} --tag-filters "
        f"Key=elbv2.k8s.aws/cluster,Values={cluster} --resource-type-filters elasticloadbalancing:loadbalancer "
        "elasticloadbalancing:targetgroup ec2:security-group --query ResourceTagMappingList[].ResourceARN --output text"
    )


def expected_dry_run(cluster: str, region: str, repo: Path) -> list[str]:
    ctx = f"-c cluster_name={cluster} -c region={region}"
    stacks = " ".join(f"{cluster}-{s}" for s in ("Addons", "Karpenter", "Cluster", "Network"))
    return [
        f"make -C {repo} deps",
        "aws sts get-caller-identity --query [Account,Arn] --output text",
        f"aws eks update-kubeconfig --name {cluster} --region {region}",
        "kubectl get crd applications.argoproj.io --ignore-not-found -o name",
        "kubectl -n argocd get applications.argoproj.io -o name",
        f"kubectl -n argocd patch application.argoproj.io/platform-root --type merge -p {FINALIZER_PATCH}",
        f"kubectl -n argocd delete applications.argoproj.io platform-root --ignore-not-found {WAIT}",
        f"kubectl -n argocd delete applications.argoproj.io --all {WAIT}",
        f"kubectl delete ingresses.networking.k8s.io --all-namespaces --all {WAIT}",
        f"kubectl get services --all-namespaces -o {LB_JSONPATH}",
        f"kubectl -n <namespace> delete service <name> {WAIT}",
        lb_query(cluster, region),
        "kubectl delete persistentvolumeclaims --all-namespaces --all --wait=false",
        "kubectl get crd nodepools.karpenter.sh --ignore-not-found -o name",
        f"kubectl delete nodepools.karpenter.sh --all {WAIT}",
        "kubectl get nodeclaims.karpenter.sh -o name",
        f"kubectl delete ec2nodeclasses.karpenter.k8s.aws --all {WAIT}",
        f"npx cdk list {ctx}",
        f"npx cdk destroy --force {stacks} {ctx}",
    ]


# Each shim logs "<name> <args>" to $SHIM_LOG and answers the script's queries from FAKE_* variables.
SHIM = """#!/bin/sh
printf '%s\n' "{name} $*" >> "$SHIM_LOG"
case "$*" in
  *"get crd"*) [ -n "$FAKE_NO_CRDS" ] || echo "customresourcedefinition.apiextensions.k8s.io/$3" ;;
  *"get applications"*) printf '%b' "$FAKE_APPS" ;;
  *"get services"*) printf '%b' "$FAKE_LB_SERVICES" ;;
  *"get nodeclaims"*) printf '%b' "$FAKE_NODECLAIMS" ;;
  *"cdk list"*) printf '%b' "$FAKE_CDK_LIST" ;;
  *"resourcegroupstaggingapi"*)
    # The first FAKE_LB_POLLS polls still find FAKE_LB_ARNS (a load balancer that takes time to go).
    n=0; [ ! -f "$SHIM_LOG.lb" ] || read -r n < "$SHIM_LOG.lb"; n=$((n + 1)); echo "$n" > "$SHIM_LOG.lb"
    [ "$n" -gt "${FAKE_LB_POLLS:-0}" ] || printf '%b' "$FAKE_LB_ARNS" ;;
  *"get-caller-identity"*) printf '123456789012\\tarn:aws:iam::123456789012:user/ops\\n' ;;
esac
exit 0
"""
ALL_TOOLS = ["aws", "kubectl", "node", "npx", "python3", "make"]


def make_bin(tmp_path: Path, tools: list[str]) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for tool in tools:
        shim = bindir / tool
        if tool == "python3":
            shim.symlink_to(sys.executable)
            continue
        shim.write_text(SHIM.replace("{name}", tool))
        shim.chmod(0o755)
    return bindir


def make_repo(tmp_path: Path, context: dict[str, str] | None) -> Path:
    """A copy of the script in a throwaway repo, so cdk.json and node_modules are under test control."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "scripts" / "destroy.sh")
    shutil.copytree(REPO / "scripts" / "lib", repo / "scripts" / "lib")
    if context is not None:
        (repo / "cdk.json").write_text(json.dumps({"app": "python3 app.py", "context": context}))
    # What make deps leaves: the venv's python (make itself is a shim here).
    python = repo / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    return repo / "scripts" / "destroy.sh"


Result = subprocess.CompletedProcess[str]


def run(script: Path, args: list[str], bindir: Path, tmp_path: Path, **env: str) -> Result:
    full_env = {"PATH": str(bindir), "HOME": str(tmp_path), "SHIM_LOG": str(tmp_path / "calls.log")}
    full_env.update(env)
    return subprocess.run(
        [BASH, str(script), *args], capture_output=True, text=True, env=full_env, timeout=30, check=False
    )


def titles(stdout: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in stdout.splitlines() if line.startswith("==> Step ")]


def printed(stdout: str) -> list[str]:
    return [argv(line[2:]) for line in stdout.splitlines() if line.startswith("+ ")]


CONTEXT = {"cluster_name": "ctx-cluster", "region": "eu-west-1"}
DEPLOYED = {
    "FAKE_APPS": "application.argoproj.io/platform-root\\napplication.argoproj.io/jaeger\\n",
    "FAKE_LB_SERVICES": "astronomy-shop frontend-proxy\\n",
    "FAKE_NODECLAIMS": "",
    # No Addons stack in this app yet: destroy must pass only the stacks cdk list names.
    "FAKE_CDK_LIST": "ctx-cluster-Network\\nctx-cluster-Cluster\\nctx-cluster-Karpenter\\n",
}


def test_dry_run_lists_every_step_in_order_and_calls_nothing(tmp_path: Path) -> None:
    script = make_repo(tmp_path, CONTEXT)
    result = run(script, ["--dry-run"], make_bin(tmp_path, ALL_TOOLS), tmp_path)
    assert result.returncode == 0, result.stderr
    assert titles(result.stdout) == STEP_TITLES
    assert [line.split(": ", 1)[0] for line in result.stdout.splitlines() if line.startswith("==>")] == [
        f"==> Step {n}/14" for n in range(1, 15)
    ]
    assert printed(result.stdout) == expected_dry_run("ctx-cluster", "eu-west-1", script.parent.parent)
    assert "dry run done; nothing was called" in result.stdout
    assert calls(tmp_path) == [], "a dry run must not invoke aws, kubectl, npx or node"


def test_dry_run_works_with_no_tools_at_all_and_honours_flags(tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    flags = ["--dry-run", "--cluster-name", "flag-cluster", "--region", "ap-south-1"]
    result = run(SCRIPT, flags, empty, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "missing prerequisites: aws kubectl node npx python3 make (dry run goes on" in result.stderr
    assert printed(result.stdout) == expected_dry_run("flag-cluster", "ap-south-1", REPO)


def test_an_environment_region_other_than_the_configured_one_stops_like_setup(tmp_path: Path) -> None:
    script = make_repo(tmp_path, CONTEXT)
    result = run(script, ["--dry-run"], make_bin(tmp_path, ALL_TOOLS), tmp_path, AWS_REGION="us-west-2")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("destroy: error: your environment sets AWS_REGION=us-west-2 but the configured")
    agreeing = run(script, ["--dry-run"], make_bin(tmp_path, []), tmp_path, AWS_REGION=CONTEXT["region"])
    assert f"destroy: cluster=ctx-cluster region={CONTEXT['region']} dry-run=true" in agreeing.stdout


def test_real_run_calls_exactly_the_printed_commands_in_order(tmp_path: Path) -> None:
    script = make_repo(tmp_path, CONTEXT)
    result = run(script, ["--yes"], make_bin(tmp_path, ALL_TOOLS), tmp_path, **DEPLOYED)
    assert result.returncode == 0, result.stderr
    assert titles(result.stdout) == STEP_TITLES
    assert calls(tmp_path) == printed(result.stdout)
    made = calls(tmp_path)
    # Every application gets ArgoCD's finalizer before the root goes, so children cascade too.
    patched = [c.split()[4] for c in made if " patch " in c]
    assert patched == ["application.argoproj.io/platform-root", "application.argoproj.io/jaeger"]
    patch_child = f"kubectl -n argocd patch application.argoproj.io/jaeger --type merge -p {FINALIZER_PATCH}"
    delete_root = f"kubectl -n argocd delete applications.argoproj.io platform-root --ignore-not-found {WAIT}"
    assert made.index(patch_child) < made.index(delete_root)
    assert f"kubectl -n astronomy-shop delete service frontend-proxy {WAIT}" in made
    assert made[-1] == (
        "npx cdk destroy --force ctx-cluster-Karpenter ctx-cluster-Cluster ctx-cluster-Network "
        "-c cluster_name=ctx-cluster -c region=eu-west-1"
    )
    # The elapsed seconds depend on the machine's load.
    assert re.search(r"\[\d+s/1800s\] NodeClaims left: 0", result.stdout)
    assert result.stdout.rstrip().endswith(
        "destroy: done. Check for leftovers as docs/runbook.md (Teardown) describes."
    )


def test_karpenter_goes_after_the_workloads_and_before_the_stacks(tmp_path: Path) -> None:
    script = make_repo(tmp_path, CONTEXT)
    run(script, ["--yes"], make_bin(tmp_path, ALL_TOOLS), tmp_path, **DEPLOYED)
    made = calls(tmp_path)

    def first(fragment: str) -> int:
        return next(i for i, c in enumerate(made) if fragment in c)

    order = [
        first("delete applications.argoproj.io platform-root"),
        first("delete applications.argoproj.io --all"),
        first("delete service frontend-proxy"),
        first("delete persistentvolumeclaims"),
        first("delete nodepools.karpenter.sh"),
        first("get nodeclaims"),
        first("delete ec2nodeclasses"),
        first("cdk destroy"),
    ]
    assert order == sorted(order)


def test_nodeclaim_wait_times_out_with_a_clear_error_before_touching_the_stacks(tmp_path: Path) -> None:
    script = make_repo(tmp_path, CONTEXT)
    env = {**DEPLOYED, "FAKE_NODECLAIMS": "nodeclaim.karpenter.sh/spot-a\\nnodeclaim.karpenter.sh/spot-b\\n"}
    result = run(script, ["--yes", "--timeout", "0"], make_bin(tmp_path, ALL_TOOLS), tmp_path, **env)
    assert result.returncode == 1
    assert "[0s/0s] NodeClaims left: 2" in result.stdout
    assert "destroy: error: 2 NodeClaims still exist after 0s; the stacks were not touched." in result.stderr
    made = calls(tmp_path)
    assert made[-1] == "kubectl get nodeclaims.karpenter.sh -o name"
    assert not any("ec2nodeclasses" in c or c.startswith("npx") for c in made)


ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/k8s-astronom-astronom-0a1b2c3d4e/5f6a"
SG_ARN = "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123456789abcdef0"


def test_stacks_go_only_after_a_slow_load_balancer_is_gone(tmp_path: Path) -> None:
    script = make_repo(tmp_path, CONTEXT)
    env = {**DEPLOYED, "FAKE_LB_POLLS": "2", "FAKE_LB_ARNS": f"{ALB_ARN}\\t{SG_ARN}\\n", "DESTROY_POLL_SECONDS": "0"}
    result = run(script, ["--yes"], make_bin(tmp_path, [*ALL_TOOLS, "sleep"]), tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert re.findall(r"\[\d+s/1800s\] tagged load balancer resources left: (\d+)", result.stdout) == ["2", "2", "0"]
    made = calls(tmp_path)
    polls = [i for i, c in enumerate(made) if c == lb_query("ctx-cluster", "eu-west-1")]
    assert len(polls) == 3
    delete_ingresses = made.index(f"kubectl delete ingresses.networking.k8s.io --all-namespaces --all {WAIT}")
    destroy = next(i for i, c in enumerate(made) if c.startswith("npx cdk destroy"))
    assert delete_ingresses < polls[0] and polls[-1] < destroy


def test_a_load_balancer_that_never_goes_stops_with_one_line_naming_it_and_no_stack_is_touched(
    tmp_path: Path,
) -> None:
    script = make_repo(tmp_path, CONTEXT)
    env = {**DEPLOYED, "FAKE_LB_POLLS": "1000000", "FAKE_LB_ARNS": f"{ALB_ARN}\\n", "DESTROY_POLL_SECONDS": "0"}
    result = run(script, ["--yes", "--timeout", "1"], make_bin(tmp_path, [*ALL_TOOLS, "sleep"]), tmp_path, **env)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("destroy: error:")]
    assert errors == [
        "destroy: error: 1 AWS resources tagged elbv2.k8s.aws/cluster=ctx-cluster still exist after 1s: "
        f"{ALB_ARN}; the stacks were not touched. Remove them as docs/runbook.md (Teardown) describes."
    ]
    made = calls(tmp_path)
    assert made[-1] == lb_query("ctx-cluster", "eu-west-1")
    assert not any(c.startswith("npx") or "persistentvolumeclaims" in c or "nodepools" in c for c in made)


def test_partial_deploy_without_crds_skips_to_the_stacks(tmp_path: Path) -> None:
    script = make_repo(tmp_path, CONTEXT)
    env = {**DEPLOYED, "FAKE_NO_CRDS": "1", "FAKE_CDK_LIST": "ctx-cluster-Network\\nctx-cluster-Cluster\\n"}
    result = run(script, ["--yes"], make_bin(tmp_path, ALL_TOOLS), tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert "CRD applications.argoproj.io not installed: nothing to delete" in result.stdout
    assert "CRD nodepools.karpenter.sh not installed: nothing to delete" in result.stdout
    made = calls(tmp_path)
    assert not any(" patch " in c or "delete applications" in c or "delete nodepools" in c for c in made)
    assert not any("nodeclaims" in c or "ec2nodeclasses" in c for c in made)
    assert made[-1].startswith("npx cdk destroy --force ctx-cluster-Cluster ctx-cluster-Network -c")


def test_real_run_refuses_without_yes_and_calls_nothing(tmp_path: Path) -> None:
    script = make_repo(tmp_path, CONTEXT)
    result = run(script, ["--cluster-name", "prod"], make_bin(tmp_path, ALL_TOOLS), tmp_path, **DEPLOYED)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "destroy: error: refusing to delete the cluster without --yes "
        "(run with --dry-run first to see every step) (see --help)"
    ]
    assert calls(tmp_path) == []


def test_real_run_stops_before_any_call_when_a_tool_is_missing(tmp_path: Path) -> None:
    script = make_repo(tmp_path, CONTEXT)
    result = run(script, ["--yes"], make_bin(tmp_path, ["aws", "kubectl", "node", "python3", "make"]), tmp_path)
    assert result.returncode == 1
    assert "destroy: error: missing prerequisites: npx; install them and run again" in result.stderr
    assert "Step 2/14" not in result.stdout
    assert calls(tmp_path) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "destroy: error: unknown option '--bogus' (see --help)"),
        (["--yes", "--region"], "destroy: error: option '--region' needs a value (see --help)"),
        (["--cluster-name", "--yes"], "option '--cluster-name' needs a value"),
        (
            ["--dry-run", "--timeout", "soon"],
            "option '--timeout' needs a whole number of seconds, got 'soon'",
        ),
    ],
)
def test_bad_flag_is_one_clear_error_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(SCRIPT, args, make_bin(tmp_path, ALL_TOOLS), tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert message in result.stderr
    assert calls(tmp_path) == []


def test_help_names_every_flag(tmp_path: Path) -> None:
    result = run(SCRIPT, ["--help"], make_bin(tmp_path, []), tmp_path)
    assert result.returncode == 0
    for flag in (
        "--dry-run",
        "--yes",
        "--cluster-name NAME",
        "--region REGION",
        "--timeout SECONDS",
        "--help",
    ):
        assert flag in result.stdout


def test_destroy_script_is_executable() -> None:  # shellcheck: test_setup_scripts checks every shell script
    assert SCRIPT.stat().st_mode & 0o111


def test_credentials_for_another_account_than_cdk_json_stop_before_anything_is_deleted(tmp_path: Path) -> None:
    script = make_repo(tmp_path, {**CONTEXT, "account": "999988887777"})
    result = run(script, ["--yes"], make_bin(tmp_path, ALL_TOOLS), tmp_path, **DEPLOYED)
    assert result.returncode == 1
    assert "cdk.json sets account 999988887777 but your credentials are for 123456789012" in result.stderr
    assert not any(c.startswith(("kubectl", "npx")) for c in calls(tmp_path))

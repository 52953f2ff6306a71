"""app.py: the context the CLI passed (cdk.json only without the CLI), checked first; plain support warnings
per release profile."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from platform_config.raw_context import app_context, cli_context
from platform_stacks.platform_app import build_app, support_warnings
from tests.conftest import ROOT, Synthesized
from tests.fixed_context import TEST_CONTEXT, fixed_context
from tests.stack_fixtures import config
from tests.synth_cache import shared_dir

TOKEN = "ghp_" + "Q" * 36  # shaped like a GitHub token, built here so the repo holds no token-like literal


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No AWS or CDK settings from the developer's shell, outputs in tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "AWS_", "CONTEXT_"))}
    env["CDK_OUTDIR"] = str(tmp_path)
    return env


def run_app(env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "app.py"], cwd=cwd, env=env, capture_output=True, text=True, check=False)


# app.py run without the CLI reads cdk.json's account, region and zones: tests/test_fork.py, in its fork's copy.


def test_python_app_py_reports_bad_config_in_one_line(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    env["CDK_CONTEXT_JSON"] = json.dumps(fixed_context(nat_gateways=7))
    result = run_app(env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: config key 'nat_gateways' = 7: accepted is 1 (cheap) to 3 (one per AZ, zonal HA)"
    )


def test_seed_past_extended_support_warns_that_eks_no_longer_creates_1_29() -> None:
    (warning,) = support_warnings(config(release="seed"), dt.date(2026, 11, 26))
    assert warning == (
        "Release profile seed: Kubernetes 1.29 left EKS extended support on 2026-03-23: EKS no longer creates "
        "clusters at this version, so a new deploy will fail and existing clusters are upgraded automatically. "
        "Select a supported release profile (release=current)."
    )


def test_seed_between_standard_and_extended_support_warns_of_extra_cost() -> None:
    (warning,) = support_warnings(config(release="seed"), dt.date(2025, 6, 1))
    assert "Kubernetes 1.29 left EKS standard support on 2025-03-23" in warning


@pytest.mark.parametrize(
    ("release", "today"),
    [("seed", dt.date(2024, 6, 1)), ("current", dt.date(2026, 11, 26)), ("current", dt.date(2027, 8, 2))],
)
def test_no_warning_while_in_standard_support(release: str, today: dt.date) -> None:
    assert support_warnings(config(release=release), today) == []


def test_current_warns_the_day_after_standard_support_ends() -> None:
    (warning,) = support_warnings(config(release="current"), dt.date(2027, 8, 3))
    assert warning.startswith("Release profile current: Kubernetes 1.36 left EKS standard support on 2027-08-02")


def test_synth_carries_the_profiles_support_warning_or_none(synthesized: Synthesized) -> None:
    metadata = synthesized.platform.cluster.node.metadata
    warnings = [str(m.data) for m in metadata if m.type == "aws:cdk:warning"]
    eks_no_longer_creates = any("no longer creates clusters" in w for w in warnings)
    # TODAY (conftest) is after 1.29's extended support and inside 1.36's standard support.
    assert eks_no_longer_creates == (synthesized.config.release == "seed"), warnings
    if synthesized.config.release == "current":
        assert not any("Release profile" in w for w in warnings), warnings


def test_stack_names_follow_the_cluster_name() -> None:
    platform = build_app(fixed_context(cluster_name="blue"), env={}, nag=False)
    assert [s.stack_name for s in (platform.network, platform.cluster, platform.karpenter, platform.addons)] == [
        "blue-Network",
        "blue-Cluster",
        "blue-Karpenter",
        "blue-Addons",
    ]


# --- app.py under the CLI's contract: checks the passed context before the CDK loads, one line, no traceback ---

DEEP_CONTEXT = json.dumps(TEST_CONTEXT)[:-1] + ', "@aws-cdk/x:deep": ' + "[" * 3000 + "]" * 3000 + "}"
BAD_CLI_CONTEXTS = [
    ("value nested 3000 deep", DEEP_CONTEXT, "@aws-cdk/x:deep", "nested at most 32 levels"),
    ("null cluster name", {"cluster_name": None}, "cluster_name", "null is not a value"),
    ("upper-case key", {"NAT_GATEWAYS": 2}, "NAT_GATEWAYS", "did you mean 'nat_gateways'?"),
    ("underscore in cluster name", {"cluster_name": "my_cluster"}, "cluster_name", "CloudFormation stack names"),
    ("token in git url", {"git_repo_url": f"https://{TOKEN}@github.com/o/r.git"}, "git_repo_url", "Secret"),
]


@pytest.mark.parametrize(("case", "context", "key", "part"), BAD_CLI_CONTEXTS, ids=[c[0] for c in BAD_CLI_CONTEXTS])
def test_app_py_refuses_bad_cli_context_in_one_line_without_traceback(
    tmp_path: Path, case: str, context: Any, key: str, part: str
) -> None:
    env = clean_env(tmp_path)
    env["CDK_CONTEXT_JSON"] = context if isinstance(context, str) else json.dumps(fixed_context(**context))
    result = run_app(env)
    assert result.returncode == 1, result.stderr[-2000:]
    (line,) = [x for x in result.stderr.splitlines() if x.strip() and "JSII" not in x]
    assert line.startswith(f"error: config key '{key}' = "), result.stderr[-2000:]
    assert part in line
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr


def test_app_py_refuses_the_placeholder_repo_against_an_account_in_one_line(tmp_path: Path) -> None:
    # What `cdk diff` of an unconfigured clone with credentials passes: the CLI sets CDK_DEFAULT_ACCOUNT.
    env = clean_env(tmp_path)
    env.update(CDK_CONTEXT_JSON=json.dumps(fixed_context()), CDK_DEFAULT_ACCOUNT="222233334444")
    result = run_app(env)
    assert result.returncode == 1, result.stderr[-2000:]
    (line,) = [x for x in result.stderr.splitlines() if x.strip() and "JSII" not in x]
    assert line.startswith("error: config key 'git_repo_url' = 'https://github.com/example-org/eks-platform.git'")
    assert "accepted is your fork's URL" in line and "Traceback" not in result.stderr


def test_cli_context_is_read_like_aws_cdk_lib_reads_it(tmp_path: Path) -> None:
    overflow = tmp_path / "context-overflow.json"
    overflow.write_text(json.dumps({"cluster_name": "from-file", "git_revision": "v1"}))
    env = {"CDK_CONTEXT_JSON": json.dumps({"cluster_name": "from-env", "nat_gateways": 2})}
    assert cli_context(env) == {"cluster_name": "from-env", "nat_gateways": 2}
    env["CONTEXT_OVERFLOW_LOCATION_ENV"] = str(overflow)
    # aws-cdk-lib's App: the overflow file is applied over CDK_CONTEXT_JSON.
    assert cli_context(env) == {"cluster_name": "from-file", "nat_gateways": 2, "git_revision": "v1"}


def test_context_passed_by_the_cli_is_never_mixed_with_cdk_json(tmp_path: Path) -> None:
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"app": "x", "context": {"cluster_name": "from-file"}}))
    assert app_context({"CDK_CONTEXT_JSON": "{}"}, cdk_json) == {}
    assert app_context({"CDK_CONTEXT_JSON": '{"nat_gateways": 2}'}, cdk_json) == {"nat_gateways": 2}
    assert app_context({}, cdk_json) == {"cluster_name": "from-file"}
    assert cli_context({}) is None


def test_unparseable_values_in_cdk_json_or_cli_context_are_named_by_key(tmp_path: Path) -> None:
    from platform_config.config import ConfigError

    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text('{"app": "x", "context": {"nat_gateways": 1, "cluster_name": ' + "[" * 5000 + "]" * 5000 + "}}")
    with pytest.raises(ConfigError, match=r"^config key 'cluster_name' = \[\[\[.*nested at most 32 levels"):
        app_context({}, cdk_json)
    huge = '{"karpenter_spot_cpu_limit": ' + "9" * 5000 + "}"
    with pytest.raises(ConfigError, match=r"^config key 'karpenter_spot_cpu_limit' = 9999.*a value JSON can read"):
        app_context({"CDK_CONTEXT_JSON": huge}, cdk_json)


def test_missing_cdk_json_is_one_clean_error(tmp_path: Path) -> None:
    from platform_config.config import ConfigError

    with pytest.raises(ConfigError, match="not found: run through `cdk synth`"):
        app_context({}, tmp_path / "cdk.json")


# --- documented edge values synthesize through the entry point (CDK_CONTEXT_JSON plus the overflow file) ---

PUBLIC_EDGES: dict[str, Any] = {
    "cluster_name": "A" + "b-" * 39 + "c",  # 80 characters: the longest name every consumer accepts
    "region": "eu-west-1",
    "availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    "vpc_cidr": "192.168.0.0/20",
    "service_ipv4_cidr": "10.0.0.0/12",
    "nat_gateways": 3,
    "flow_log_retention_days": 3653,
    "endpoint_access": "public_and_private",
    "public_access_cidrs": [f"52.0.0.{i}/32" for i in range(40)],  # the EKS maximum of 40
    "admin_principal_arns": ["arn:aws:iam::123456789012:role/team/ops/Admin+1"],
    "system_node_max": 450,
    "git_repo_url": "git@github.com:o/r.git",
    "git_revision": "0123456789abcdef0123456789abcdef01234567",
    "karpenter_expire_after": "Never",
    "karpenter_consolidate_after": "1h30m",
    "karpenter_spot_cpu_limit": 1_000_000,
}


def test_documented_edges_of_another_partition_synthesize(tmp_path: Path) -> None:
    platform = build_app(
        {
            **TEST_CONTEXT,
            "cluster_name": "a",
            "region": "cn-north-1",
            "availability_zones": ["cn-north-1a", "cn-north-1b", "cn-north-1d"],
            "admin_principal_arns": ["arn:aws-cn:iam::123456789012:role/ops@example.com"],
            "git_repo_url": "ssh://git@example.com:2222/o/r.git",
            "git_revision": "refs/tags/v1.2.3",
            "flow_log_retention_days": 1,
            "karpenter_architectures": "amd64,arm64",
        },
        env={},
        outdir=str(tmp_path),
    )
    assembly = platform.app.synth()
    assert sorted(s.stack_name for s in assembly.stacks) == ["a-Addons", "a-Cluster", "a-Karpenter", "a-Network"]
    entries = assembly.get_stack_by_name("a-Cluster").template["Resources"].values()
    principals = [r["Properties"]["PrincipalArn"] for r in entries if r["Type"] == "AWS::EKS::AccessEntry"]
    assert "arn:aws-cn:iam::123456789012:role/ops@example.com" in principals


# --- the real CLI: a region set in cdk.json wins over the CDK_DEFAULT_REGION the CLI always exports; the documented
# edge values, in a context larger than the CLI's environment limit, reach app.py (CDK_CONTEXT_JSON and the overflow
# file the CLI writes for the rest) ---

# Its size limit for the environment it passes the app (toolkit-lib's writeContextToEnv), read from the pinned CLI.
CLI_BUNDLE = ROOT / "node_modules" / "aws-cdk" / "lib" / "index.js"
PADDING_KEY = "@aws-cdk/x:padding"  # a CDK-owned key the app accepts and ignores
OVERFLOWED = ("cluster_name", "public_access_cidrs")


def cli_environment_limit() -> int:
    match = re.search(r'envVariableSizeLimit = os\w*\.platform\(\) === "win32" \? \d+ : (\d+);', CLI_BUNDLE.read_text())
    assert match, f"{CLI_BUNDLE}: the CLI's context size limit moved; update this test's pattern"
    return int(match.group(1))


def edge_context() -> dict[str, Any]:
    """The documented edge values with a padding key past the CLI's limit before the cluster name and the CIDRs:
    the CLI sends the keys before the padding in CDK_CONTEXT_JSON and the rest in its overflow file."""
    context = fixed_context(**PUBLIC_EDGES)
    last = {k: context.pop(k) for k in OVERFLOWED}
    return {**context, PADDING_KEY: "x" * cli_environment_limit(), **last}


@pytest.fixture(scope="module")
def cli_assembly() -> Path:
    """One `cdk synth` of the pinned CLI (about 10 s) with the documented edge values, its assembly directory; one per
    pytest run, whichever worker runs the tests that read it."""
    key = hashlib.sha256(json.dumps([str(ROOT), edge_context()], sort_keys=True).encode()).hexdigest()[:16]
    return shared_dir(f"cli-{key}", run_cli) / "cdk.out"


def run_cli(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    cdk_json = json.loads((ROOT / "cdk.json").read_text())
    cdk_json["app"] = f"python3 {ROOT / 'app.py'}"
    # The suite's own context, never the user's settings in cdk.json.
    cdk_json["context"] = edge_context()
    (project / "cdk.json").write_text(json.dumps(cdk_json))
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    shutil.copy(ROOT / "package.json", project / "package.json")
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(out := tmp_path / "cdk.out")
    del env["CDK_OUTDIR"]
    env.update(
        HOME=str(home),
        # jsii keeps its unpacked packages under HOME; an empty HOME would unpack aws-cdk-lib again (about 7 s).
        # The cache holds npm packages only, no AWS or CDK configuration.
        JSII_RUNTIME_PACKAGE_CACHE_ROOT=os.environ.get(
            "JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(Path.home() / ".cache" / "aws" / "jsii" / "package-cache")
        ),
        PATH=f"{Path(sys.executable).parent}:{env['PATH']}",
        CDK_HOME=str(tmp_path / "cdk-home"),
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="true",
    )
    cmd = ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--output", str(out)]
    result = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_pinned_cdk_cli_synthesizes_a_non_default_region_offline_with_no_aws_configuration(cli_assembly: Path) -> None:
    from tools.report.synth_summary import summarize

    text, passed = summarize(cli_assembly)
    assert passed, text
    manifest = json.loads((cli_assembly / "manifest.json").read_text())
    environments = {a["environment"] for a in manifest["artifacts"].values() if "environment" in a}
    assert environments == {"aws://111111111111/eu-west-1"}
    network = json.loads((cli_assembly / f"{PUBLIC_EDGES['cluster_name']}-Network.template.json").read_text())
    zones = {
        r["Properties"]["AvailabilityZone"] for r in network["Resources"].values() if r["Type"] == "AWS::EC2::Subnet"
    }
    assert zones == set(PUBLIC_EDGES["availability_zones"])


def test_documented_edge_values_synthesize_through_the_cli_and_its_context_overflow_file(cli_assembly: Path) -> None:
    # The CLI cuts the context at the first key past its limit (the padding): the cluster name and the CIDRs reach
    # app.py in the overflow file only.
    context = edge_context()
    assert len(json.dumps({PADDING_KEY: context[PADDING_KEY]})) > cli_environment_limit()
    assert list(context)[-len(OVERFLOWED) - 1 :] == [PADDING_KEY, *OVERFLOWED]
    name = PUBLIC_EDGES["cluster_name"]
    manifest = json.loads((cli_assembly / "manifest.json").read_text())
    stacks = {k: v for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack"}
    assert sorted(stacks) == sorted(f"{name}-{s}" for s in ("Network", "Cluster", "Karpenter", "Addons"))
    network = json.loads((cli_assembly / f"{name}-Network.template.json").read_text())
    # The flow log group (flow_log_retention_days); the default-SG handler's group keeps log_retention_days.
    retentions = sorted(
        r["Properties"]["RetentionInDays"] for r in network["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"
    )
    assert retentions == sorted([PUBLIC_EDGES["flow_log_retention_days"], config().log_retention_days])
    karpenter = json.loads((cli_assembly / f"{name}-Karpenter.template.json").read_text())
    (queue,) = [r for r in karpenter["Resources"].values() if r["Type"] == "AWS::SQS::Queue"]
    assert queue["Properties"]["QueueName"] == name
    cluster = json.dumps(json.loads((cli_assembly / f"{name}-Cluster.template.json").read_text()))
    assert all(cidr in cluster for cidr in PUBLIC_EDGES["public_access_cidrs"])

"""`make upgrade-plan FROM=cluster` reads the running state through `aws` and `kubectl` (stubbed here on PATH):
a healthy cluster plans like its profile; skewed nodes, missing credentials and a wrong account give one line. The
command line runs in the test's process (its `python -m` start is tested in test_upgrade_plan)."""

from __future__ import annotations

import base64
import gzip
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from platform_config.addons import addons
from platform_config.versions import PROFILES
from tools.report import plan_check, upgrade_plan

ROOT = Path(__file__).resolve().parent.parent
FROM = min(PROFILES, key=lambda n: int(PROFILES[n].kubernetes.version.split(".")[1]))
TO = max(PROFILES, key=lambda n: int(PROFILES[n].kubernetes.version.split(".")[1]))
ACCOUNT = "123456789012"

STUB = """#!{python}
import json, os, sys
data = json.load(open(os.environ["STUB_DATA"]))
key = " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:3]])
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(" ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
reply = data.get(key, {{"rc": 1, "stderr": "stub: unexpected " + key}})
sys.stdout.write(reply.get("stdout", ""))
sys.stderr.write(reply.get("stderr", ""))
sys.exit(reply.get("rc", 0))
"""


def helm_secret(namespace: str, release: str, version: str) -> dict[str, Any]:
    payload = gzip.compress(json.dumps({"chart": {"metadata": {"version": version}}}).encode())
    data = base64.b64encode(base64.b64encode(payload)).decode()
    return {"metadata": {"namespace": namespace, "labels": {"name": release}}, "data": {"release": data}}


def cluster_of(profile: str, kubelet: str | None = None, account: str = ACCOUNT) -> dict[str, Any]:
    """Stub replies for a cluster running `profile` (every pin read from versions.py and the registry)."""
    p = PROFILES[profile]
    minor = p.kubernetes.version
    records = addons(profile)
    secrets = [helm_secret(r.namespace, r.release, r.pin(p).version) for r in records if r.by_cdk]
    apps = [
        {"spec": {"source": {"chart": r.chart, "targetRevision": r.pin(p).version}}} for r in records if not r.by_cdk
    ]
    nodes = [{"status": {"nodeInfo": {"kubeletVersion": kubelet or f"v{minor}.0-eks"}}} for _ in range(2)]
    classes = [{"spec": {"amiSelectorTerms": [{"alias": p.ami_alias}]}}]
    return {
        "aws sts get-caller-identity": {"stdout": f"{account}\tarn:aws:iam::{account}:user/dev\n"},
        "aws eks describe-cluster": {"stdout": json.dumps({"cluster": {"version": minor}})},
        "aws eks list-insights": {"stdout": json.dumps({"insights": []})},
        "kubectl get nodes": {"stdout": json.dumps({"items": nodes})},
        "kubectl get secrets": {"stdout": json.dumps({"items": secrets})},
        "kubectl get applications.argoproj.io": {"stdout": json.dumps({"items": apps})},
        "kubectl get ec2nodeclasses.karpenter.k8s.aws": {"stdout": json.dumps({"items": classes})},
    }


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str


Planner = Callable[..., Outcome]


@pytest.fixture
def planner(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Planner:
    """`make upgrade-plan FROM=cluster`'s command line, run in this process (tools.report.upgrade_plan.main) with
    the stubs first on PATH: its exit status and what it printed."""

    def run(tmp_path: Path, replies: dict[str, Any], account: str = "", **extra_env: str) -> Outcome:
        bindir = tmp_path / "bin"
        bindir.mkdir(exist_ok=True)
        for name in ("aws", "kubectl"):
            (bindir / name).write_text(STUB.format(python=sys.executable))
            (bindir / name).chmod(0o755)
        (tmp_path / "replies.json").write_text(json.dumps(replies))
        (tmp_path / "cdk.json").write_text(json.dumps({"context": {"account": account, "cluster_name": "demo"}}))
        for key in os.environ:
            if key.startswith(("AWS_", "CDK_", "CLUSTER_NAME")):
                monkeypatch.delenv(key)
        env = {"PATH": str(bindir), "STUB_DATA": str(tmp_path / "replies.json"), "STUB_LOG": str(tmp_path / "log")}
        for key, value in (env | extra_env).items():
            monkeypatch.setenv(key, value)
        argv = ["--from", "cluster", "--to", TO, "--format", "json"]
        argv += ["--context", str(tmp_path / "cdk.json"), "--json", str(tmp_path / "plan.json")]
        capsys.readouterr()
        code = upgrade_plan.main(argv)
        out, err = capsys.readouterr()
        return Outcome(code, out, err)

    return run


def test_a_healthy_cluster_plans_like_its_profile_and_the_checker_accepts_it(tmp_path: Path, planner: Planner) -> None:
    result = planner(tmp_path, cluster_of(FROM))
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "plan.json").read_text())
    assert plan_check.check(data) == []
    assert data["start"] == upgrade_plan.platform_state(FROM)
    assert len(data["steps"]) == len(upgrade_plan.plan(FROM, TO)["steps"])
    calls = (tmp_path / "log").read_text()
    assert "eks describe-cluster --name demo --region us-east-1" in calls
    assert "eks list-insights --cluster-name demo" in calls


def test_skewed_nodes_refuse_the_plan_in_one_line_naming_the_skew(tmp_path: Path, planner: Planner) -> None:
    minor = int(PROFILES[FROM].kubernetes.version.split(".")[1])
    result = planner(tmp_path, cluster_of(FROM, kubelet=f"v1.{minor - 4}.9-eks"))
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert f"nodes 1.{minor - 4} more than 3 minors behind" in line


def test_a_kubelet_newer_than_the_control_plane_is_refused_in_one_line(tmp_path: Path, planner: Planner) -> None:
    minor = int(PROFILES[FROM].kubernetes.version.split(".")[1])
    result = planner(tmp_path, cluster_of(FROM, kubelet=f"v1.{minor + 1}.0-eks"))
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert "newer than the control plane" in line


def test_no_credentials_is_one_line_saying_how_to_log_in(tmp_path: Path, planner: Planner) -> None:
    replies = cluster_of(FROM) | {
        "aws sts get-caller-identity": {"rc": 255, "stderr": "Unable to locate credentials. You can configure...\n"}
    }
    result = planner(tmp_path, replies)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: cluster: no usable AWS credentials") and "Unable to locate credentials" in line
    assert "eks" not in (tmp_path / "log").read_text(), "nothing is read from the cluster without credentials"


def test_credentials_for_another_account_are_one_line_naming_both(tmp_path: Path, planner: Planner) -> None:
    configured = "222222222222"
    result = planner(tmp_path, cluster_of(FROM), account=configured)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert f"cdk.json sets account {configured} but your credentials are for {ACCOUNT}" in line


def test_the_placeholder_account_matches_any_credentials(tmp_path: Path, planner: Planner) -> None:
    from tools.report.cluster_state import PLACEHOLDER_ACCOUNT

    assert planner(tmp_path, cluster_of(FROM), account=PLACEHOLDER_ACCOUNT).returncode == 0


def test_a_missing_release_is_one_line_naming_it(tmp_path: Path, planner: Planner) -> None:
    replies = cluster_of(FROM)
    replies["kubectl get secrets"] = {"stdout": json.dumps({"items": []})}
    result = planner(tmp_path, replies)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: cluster: cluster demo: no Helm release ")


def test_an_environment_naming_another_region_is_one_line_and_reads_nothing(tmp_path: Path, planner: Planner) -> None:
    # cdk.json here sets no region: the configured one is us-east-1, so a stray AWS_REGION must not redirect the read.
    result = planner(tmp_path, cluster_of(FROM), AWS_REGION="eu-west-1")
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert "AWS_REGION=eu-west-1" in line and "us-east-1" in line
    log = tmp_path / "log"
    assert not log.exists() or "eks" not in log.read_text(), "nothing is read from another region's cluster"

"""A running cluster as an upgrade-plan state (`make upgrade-plan FROM=cluster`): control-plane and kubelet
versions, the chart version of each CDK-installed Helm release and each Argo CD Application, the AMI alias; read
with the user's credentials through `aws` and `kubectl`, after the setup scripts' credential and account checks."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from platform_config.addons import ADDONS
from platform_config.config import ConfigError, refuse_other_region

PLACEHOLDER_ACCOUNT = "111111111111"  # cdk.json's placeholder matches any account (as in scripts/lib/common.sh)


class ClusterError(Exception):
    """One clear line: what could not be read, and what to do."""


def _run(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    except FileNotFoundError as err:
        raise ClusterError(f"{argv[0]} is not installed or not on PATH") from err
    if done.returncode != 0:
        first = (done.stderr or done.stdout).strip().splitlines()
        raise ClusterError(f"`{' '.join(argv[:3])}` failed: {first[0] if first else f'exit {done.returncode}'}")
    return done.stdout


def _json(argv: list[str]) -> Any:
    text = _run(argv)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ClusterError(f"`{' '.join(argv[:3])}` printed no JSON") from err


def target(context: dict[str, Any], env: Mapping[str, str] = os.environ) -> tuple[str, str, str]:
    """(cluster name, region, configured account); the configuration decides the region and an environment naming
    another one stops here, the project's one region rule (platform_config.config.refuse_other_region)."""
    cluster = str(context.get("cluster_name") or env.get("CLUSTER_NAME") or "eks-platform")
    region = str(context.get("region") or "us-east-1")
    try:
        refuse_other_region(region, env)
    except ConfigError as err:
        raise ClusterError(str(err)) from None
    return cluster, region, str(context.get("account") or "")


def check_identity(configured: str) -> str:
    try:
        out = _run(["aws", "sts", "get-caller-identity", "--query", "[Account,Arn]", "--output", "text"])
    except ClusterError as err:
        raise ClusterError(
            f"no usable AWS credentials ({err}); log in (aws sso login --profile NAME, or aws configure) and run again"
        ) from err
    account = out.split()[0] if out.split() else ""
    if configured and configured != PLACEHOLDER_ACCOUNT and configured != account:
        raise ClusterError(
            f"cdk.json sets account {configured} but your credentials are for {account}; "
            "switch credentials (AWS_PROFILE) or fix cdk.json's account"
        )
    return account


def _minor(version: str) -> str:
    parts = version.lstrip("v").split(".")
    return f"{int(parts[0])}.{int(parts[1])}"


def helm_release_version(secret: dict[str, Any]) -> str:
    """The chart version a Helm release secret records (data.release: base64 of base64 of gzip of JSON)."""
    payload = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    release = json.loads(gzip.decompress(payload) if payload[:2] == b"\x1f\x8b" else payload)
    return str(release["chart"]["metadata"]["version"])


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in _minor(version).split("."))


def read_state(context: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The cluster as a plan state and its EKS insights in ERROR, or ClusterError with one line."""
    cluster, region, configured = target(context)
    check_identity(configured)
    eks = ["--region", region, "--output", "json"]
    version = _json(["aws", "eks", "describe-cluster", "--name", cluster, *eks])["cluster"]["version"]
    insights = _json(["aws", "eks", "list-insights", "--cluster-name", cluster, *eks]).get("insights", [])
    kubelets = [
        n["status"]["nodeInfo"]["kubeletVersion"] for n in _json(["kubectl", "get", "nodes", "-o", "json"])["items"]
    ]
    if not kubelets:
        raise ClusterError(f"cluster {cluster} has no nodes (kubectl get nodes)")
    secrets = _json(["kubectl", "get", "secrets", "-A", "-l", "owner=helm,status=deployed", "-o", "json"])["items"]
    releases = {(s["metadata"]["namespace"], s["metadata"]["labels"]["name"]): helm_release_version(s) for s in secrets}
    apps = _json(["kubectl", "get", "applications.argoproj.io", "-A", "-o", "json"])["items"]
    sources = [src for a in apps for src in [a["spec"].get("source") or {}, *a["spec"].get("sources", [])]]
    by_chart = {src["chart"]: str(src.get("targetRevision", "")) for src in sources if src.get("chart")}
    charts: dict[str, str] = {}
    for record in ADDONS:
        found = releases.get((record.namespace, record.release)) if record.by_cdk else by_chart.get(record.chart)
        if not found:
            where = f"Helm release {record.release} in {record.namespace}" if record.by_cdk else "Argo CD Application"
            raise ClusterError(f"cluster {cluster}: no {where} for chart {record.chart}")
        charts.setdefault(record.chart, found)
    classes = _json(["kubectl", "get", "ec2nodeclasses.karpenter.k8s.aws", "-o", "json"])["items"]
    aliases = sorted({t["alias"] for c in classes for t in c["spec"].get("amiSelectorTerms", []) if "alias" in t})
    if len(aliases) != 1:
        raise ClusterError(
            f"cluster {cluster}: expected one AMI alias in the EC2NodeClasses, found {aliases or 'none'}"
        )
    errors = sorted(i["name"] for i in insights if i.get("insightStatus", {}).get("status") == "ERROR")
    oldest, newest = min(kubelets, key=_key), max(kubelets, key=_key)
    # The plan's node state is the oldest kubelet; one newer than the API server breaks a rule on its own.
    nodes = newest if _key(newest) > _key(version) else oldest
    state = {"kubernetes": _minor(version), "nodes": _minor(nodes), "ami_alias": aliases[0], "charts": charts}
    return state, errors


def load_context(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text()).get("context", {}) if path.is_file() else {}
    return data

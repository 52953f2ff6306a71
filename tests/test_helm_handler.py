"""What aws-cdk-lib's HelmChart handler runs for each of our charts is a command the profile's pinned helm accepts.

The handler (aws_eks_v2 kubectl-handler/helm, shipped inside aws-cdk-lib) builds `helm upgrade --install ...`
from the HelmChart resource properties. We run that handler with our synthesized properties, capture the exact
command, and hand it to the helm binary of the profile's kubectl layer (helm 3.17 for seed, helm 4.2 for
current) against an unreachable API server: helm must get as far as contacting the cluster, i.e. accept every
flag. Offline: OCI pulls are replaced by a local chart, nothing reaches AWS or a cluster.
"""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import tarfile
import warnings
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import aws_cdk
import pytest

from platform_checks.cfn_json import json_property
from platform_checks.layer_tools import extract
from platform_config.addons import addons
from tests.conftest import Synthesized

HANDLER = "package/custom-resource-handlers/dist/aws-eks-v2/kubectl-handler/helm/__init__.py"
UNREACHABLE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
users: [{name: u, user: {token: not-a-secret}}]
"""


def load_handler(tmp: Path) -> ModuleType:
    """The helm handler module exactly as aws-cdk-lib ships it (read from its jsii tarball)."""
    tgz = next((Path(aws_cdk.__file__).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz"))
    with tarfile.open(tgz) as tar:
        member = tar.extractfile(HANDLER)
        assert member is not None, f"{tgz} has no {HANDLER}"
        (tmp / "cdk_helm_handler.py").write_bytes(io.BytesIO(member.read()).getvalue())
    spec = importlib.util.spec_from_file_location("cdk_helm_handler", tmp / "cdk_helm_handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # upstream's regexes are not raw strings
        spec.loader.exec_module(module)
    return module


def helm_charts(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """Every HelmChart resource's properties (the custom resource's input), by chart name."""
    out = {}
    for stack in ("karpenter", "addons"):
        for res in synthesized.resources(stack, "Custom::AWSCDK-EKS-HelmChart").values():
            props = dict(res["Properties"])
            if "Values" in props:
                props["Values"] = json.dumps(json_property(props["Values"]))
            out[props["Chart"]] = props
    return out


@pytest.fixture(scope="module")
def commands(synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The helm command the handler runs on Create, per chart, with OCI pulls replaced by a local chart."""
    tmp = tmp_path_factory.mktemp("helm-handler")
    chart_dir = tmp / "local-chart"
    chart_dir.mkdir()
    (chart_dir / "Chart.yaml").write_text("apiVersion: v2\nname: local\nversion: 0.1.0\n")
    handler = load_handler(tmp)
    handler.outdir = str(tmp)
    handler.kubeconfig = str(tmp / "kubeconfig")
    captured: list[list[str]] = []

    def check_output(cmd: list[str], **_: Any) -> bytes:
        captured.append(list(cmd))
        return b""

    # The handler's own subprocess module, with the AWS CLI call a no-op and the helm call captured.
    handler.subprocess = SimpleNamespace(**{**vars(subprocess), "check_call": lambda *a, **k: 0})
    handler.subprocess.check_output = check_output
    handler.get_chart_from_oci = lambda tmpdir, repository=None, version=None: str(chart_dir)
    out = {}
    for chart, props in helm_charts(synthesized).items():
        captured.clear()
        handler.helm_handler({"RequestType": "Create", "ResourceProperties": props}, None)
        (cmd,) = captured
        out[chart] = cmd
    (tmp / "kubeconfig").write_text(UNREACHABLE_KUBECONFIG)
    return out


def test_every_chart_is_installed_with_wait_a_bounded_timeout_and_no_atomic(commands: dict[str, list[str]]) -> None:
    assert sorted(commands) == sorted(a.chart for a in addons() if a.by_cdk)
    for chart, cmd in commands.items():
        assert cmd[:2] == ["helm", "upgrade"] and "--install" in cmd, chart
        assert "--wait" in cmd, chart
        timeout = cmd[cmd.index("--timeout") + 1]
        assert timeout.endswith("s") and int(timeout[:-1]) <= 14 * 60, chart
        # Helm 4 deprecates --atomic (--rollback-on-failure); we never ask for it.
        assert "--atomic" not in cmd and "--rollback-on-failure" not in cmd, chart


def test_the_handler_drops_skip_crds_so_karpenter_crds_come_from_karpenter_crd_first(
    synthesized: Synthesized, commands: dict[str, list[str]]
) -> None:
    # aws-cdk-lib 2.275's handler reads SkipCrds but never passes --skip-crds. Harmless here: the karpenter
    # chart installs after karpenter-crd, and Helm installs crds/ only when absent (it never upgrades them).
    assert helm_charts(synthesized)["karpenter"].get("SkipCrds") in (True, "true")
    assert "--skip-crds" not in commands["karpenter"]


def test_the_profiles_helm_accepts_every_flag_the_handler_passes(
    synthesized: Synthesized, commands: dict[str, list[str]]
) -> None:
    helm = extract(synthesized.config.release)["helm"]
    for chart, cmd in commands.items():
        result = subprocess.run(
            [str(helm), *cmd[1:]], capture_output=True, text=True, check=False, timeout=60, cwd=Path(cmd[-1]).parent
        )
        output = result.stdout + result.stderr
        assert result.returncode != 0, output  # there is no cluster
        assert "cluster unreachable" in output.lower(), f"{chart}: {output}"
        assert "unknown flag" not in output and "invalid argument" not in output, f"{chart}: {output}"


def test_an_unknown_flag_is_what_this_check_would_catch(synthesized: Synthesized) -> None:
    helm = extract(synthesized.config.release)["helm"]
    result = subprocess.run(
        [str(helm), "upgrade", "x", ".", "--install", "--no-such-flag"], capture_output=True, text=True, check=False
    )
    assert "unknown flag: --no-such-flag" in result.stderr

"""A fork that configures cdk.json as the README says keeps `make test` green: the suite never reads it; and app.py,
run without the CLI, builds the fork from that cdk.json."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from platform_config.raw_context import cdk_json_context
from platform_config.versions import DEFAULT_PROFILE
from tests.app_copy import app_copy
from tests.conftest import ROOT, Synthesized
from tests.fixed_context import FEATURE_FLAGS
from tests.synth_cache import SYNTH_CACHE_ENV, shared_dir

# The README's fork example: the keys of cdk.json's context it tells a fork for eu-west-1 to edit.
README_EXAMPLE = re.compile(r"edits these keys of `cdk.json`'s `context`:\n\n```json\n(.*?)\n```", re.DOTALL)

# Runs in the fork's copy: first the suite's entry (conftest.synthesize, stack_fixtures.config), written to a JSON
# file for the test to compare; last the fork's own entry point, app.py as `cdk synth` runs it without the CLI (it
# reads cdk.json and synthesizes into CDK_OUTDIR, set before jsii's Node process starts; then it ends the process).
PROBE = """
import json, os, runpy, sys
from pathlib import Path
from platform_config.config import PlatformConfig
from tests import conftest, stack_fixtures
from tests.fixed_context import TEST_CONTEXT

out = Path(sys.argv[1])
suite = conftest.synthesize(out / "suite")
(out / "result.json").write_text(json.dumps({
    "suite": suite.templates,
    "stack_fixture_config_is_fixed": stack_fixtures.config() == PlatformConfig.from_context(TEST_CONTEXT, {}),
}))
sys.argv = ["app.py"]
runpy.run_path("app.py", run_name="__main__")
"""


def readme_fork_keys() -> dict[str, Any]:
    found = README_EXAMPLE.search((ROOT / "README.md").read_text())
    assert found, "README's fork example moved; update README_EXAMPLE"
    keys: dict[str, Any] = json.loads("{" + found.group(1) + "}")
    return keys


def forked_context() -> dict[str, Any]:
    return {**cdk_json_context(ROOT / "cdk.json"), **readme_fork_keys()}


@pytest.fixture(scope="module")
def fork_run() -> Path:
    """The probe's outputs in a copy configured as the README's fork example: result.json and fork/ (the assembly);
    one probe per pytest run, whichever worker runs this file's tests."""
    key = hashlib.sha256(json.dumps([str(ROOT), forked_context()], sort_keys=True).encode()).hexdigest()[:16]
    return shared_dir(f"fork-{key}", run_probe)


def run_probe(tmp_path: Path) -> None:
    repo = app_copy(tmp_path / "repo", forked_context())
    # Without the run's synth cache: the fork's suite entry must really synthesize, not copy this run's assembly.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "AWS_")) and k != SYNTH_CACHE_ENV}
    env["CDK_OUTDIR"] = str(tmp_path / "fork")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]


def fork_template(fork_run: Path, stack: str) -> dict[str, Any]:
    name = forked_context()["cluster_name"]
    template: dict[str, Any] = json.loads((fork_run / "fork" / f"{name}-{stack}.template.json").read_text())
    return template


def test_cdk_json_carries_the_feature_flags_the_suite_builds_with() -> None:
    # Feature flags are code, not configuration: the suite copies them, so they must not drift apart.
    flags = {k: v for k, v in cdk_json_context(ROOT / "cdk.json").items() if k.startswith("@")}
    assert flags == FEATURE_FLAGS


# The probe's suite entry builds the default profile; compare it with the session's synth of that profile.
@pytest.mark.parametrize("profile", [DEFAULT_PROFILE], indirect=True)
def test_a_fork_configured_as_the_readme_says_gets_the_suites_own_templates(
    fork_run: Path, synthesized: Synthesized
) -> None:
    keys = readme_fork_keys()
    found = json.loads((fork_run / "result.json").read_text())
    # The fork's configuration is valid and really changes its app (else the comparison below proves nothing) ...
    fork_cluster = json.dumps(fork_template(fork_run, "Cluster"))
    assert all(cidr in fork_cluster for cidr in keys["public_access_cidrs"])
    assert all(arn in fork_cluster for arn in keys["admin_principal_arns"])
    nat = "AWS::EC2::NatGateway"
    network = fork_template(fork_run, "Network")
    assert sum(r["Type"] == nat for r in network["Resources"].values()) == keys["nat_gateways"]
    # ... while the suite's entry, run inside that fork, builds exactly what it builds here.
    assert found["suite"] == synthesized.templates
    assert found["stack_fixture_config_is_fixed"] is True


def test_app_py_run_without_the_cli_reads_cdk_jsons_account_region_and_zones_not_dummy_ones(fork_run: Path) -> None:
    keys = readme_fork_keys()
    manifest = json.loads((fork_run / "fork" / "manifest.json").read_text())
    environments = {a["environment"] for a in manifest["artifacts"].values() if "environment" in a}
    assert environments == {f"aws://{keys['account']}/{keys['region']}"}
    subnet_zones = {
        r["Properties"]["AvailabilityZone"]
        for r in fork_template(fork_run, "Network")["Resources"].values()
        if r["Type"] == "AWS::EC2::Subnet"
    }
    assert subnet_zones == set(keys["availability_zones"])

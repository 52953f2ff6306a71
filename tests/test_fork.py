"""A fork that configures cdk.json as the quick start says keeps `make test` green: the suite never reads it."""

from __future__ import annotations

import json
import os
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
from tests.synth_cache import SYNTH_CACHE_ENV

# What the README's quick start tells a fork to set in cdk.json, plus the zonal-HA NAT option.
QUICK_START = {
    "git_repo_url": "https://github.com/acme/eks-platform.git",
    "admin_principal_arns": ["arn:aws:iam::123456789012:role/platform-admins"],
    "endpoint_access": "public_and_private",
    "public_access_cidrs": ["203.0.113.0/24"],
    "nat_gateways": 3,
}

# Runs in the fork's copy: the fork's own app (from its cdk.json, cdk-nag on) and the suite's entry
# (conftest.synthesize, stack_fixtures.config), each written to a JSON file for the test to compare.
PROBE = """
import json, sys
from pathlib import Path
from platform_config.config import PlatformConfig
from platform_config.raw_context import cdk_json_context
from platform_stacks.platform_app import build_app
from tests import conftest, stack_fixtures
from tests.fixed_context import TEST_CONTEXT

out = Path(sys.argv[1])
fork = build_app(cdk_json_context(Path("cdk.json").resolve()), env={}, today=conftest.TODAY, outdir=str(out / "fork"))
fork_templates = {s.stack_name.rsplit("-", 1)[-1].lower(): s.template for s in fork.app.synth().stacks}
suite = conftest.synthesize(out / "suite")
(out / "result.json").write_text(json.dumps({
    "fork": fork_templates,
    "suite": suite.templates,
    "stack_fixture_config_is_fixed": stack_fixtures.config() == PlatformConfig.from_context(TEST_CONTEXT, {}),
}))
"""


def forked_context() -> dict[str, Any]:
    return {**cdk_json_context(ROOT / "cdk.json"), **QUICK_START}


def test_cdk_json_carries_the_feature_flags_the_suite_builds_with() -> None:
    # Feature flags are code, not configuration: the suite copies them, so they must not drift apart.
    flags = {k: v for k, v in cdk_json_context(ROOT / "cdk.json").items() if k.startswith("@")}
    assert flags == FEATURE_FLAGS


# The probe's suite entry builds the default profile; compare it with the session's synth of that profile.
@pytest.mark.parametrize("profile", [DEFAULT_PROFILE], indirect=True)
def test_a_fork_configured_as_the_quick_start_says_gets_the_suites_own_templates(
    tmp_path: Path, synthesized: Synthesized
) -> None:
    repo = app_copy(tmp_path / "fork", forked_context())
    # Without the run's synth cache: the fork's suite entry must really synthesize, not copy this run's assembly.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "AWS_")) and k != SYNTH_CACHE_ENV}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads((tmp_path / "result.json").read_text())
    # The fork's configuration is valid and really changes its app (else the comparison below proves nothing) ...
    fork_cluster = json.dumps(found["fork"]["cluster"])
    assert "203.0.113.0/24" in fork_cluster and "platform-admins" in fork_cluster
    nat = "AWS::EC2::NatGateway"
    assert sum(r["Type"] == nat for r in found["fork"]["network"]["Resources"].values()) == 3
    # ... while the suite's entry, run inside that fork, builds exactly what it builds here.
    assert found["suite"] == synthesized.templates
    assert found["stack_fixture_config_is_fixed"] is True

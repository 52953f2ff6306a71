"""cfn-lint on every synthesized template: zero findings of any level; ignored checks live in .cfnlintrc.yaml with
reasons. One cfn-lint run (about 2 s of start-up) lints every profile's templates and a planted broken template, so
the run that passes the platform is the run that shows it catches a broken one."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROFILE_NAMES, ROOT, synthesize
from tests.synth_cache import shared_result

PLANTED = "planted"
BROKEN = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": "x"}}}}


def run_cfn_lint(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def _lint(templates: dict[str, dict[str, str]]) -> dict[str, Any]:
    """cfn-lint's parseable findings by directory (a profile, or the planted template), and its stderr."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for group, files in templates.items():
            (Path(tmp) / group).mkdir()
            for name, text in files.items():
                (path := Path(tmp) / group / name).write_text(text)
                paths.append(str(path))
        result = run_cfn_lint(*sorted(paths))
        lines = result.stdout.splitlines()
        found = {group: [line for line in lines if line.startswith(f"{tmp}/{group}/")] for group in templates}
    return {
        "found": found,
        "other": [line for line in lines if not any(line in group for group in found.values())],
        "stderr": result.stderr,
        "templates": {group: sorted(files) for group, files in templates.items()},
    }


@pytest.fixture(scope="module")
def lint(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The one run's findings, shared by the pytest run's workers."""
    templates = {
        profile: {
            path.name: path.read_text()
            for path in synthesize(tmp_path_factory.mktemp(f"cdk.out-{profile}"), profile).outdir.glob(
                "*.template.json"
            )
        }
        for profile in PROFILE_NAMES
    } | {PLANTED: {"bad.template.json": json.dumps(BROKEN)}}
    key = hashlib.sha256(json.dumps(templates, sort_keys=True).encode()).hexdigest()
    result: dict[str, Any] = shared_result(f"cfn-lint-{key}", lambda: _lint(templates))
    assert result["stderr"] == "" and result["other"] == [], result
    return result


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_stack_template_lints_clean(lint: dict[str, Any], profile: str) -> None:
    assert len(lint["templates"][profile]) >= 3
    assert lint["found"][profile] == []


def test_cfn_lint_catches_a_broken_template(lint: dict[str, Any]) -> None:
    (finding,) = lint["found"][PLANTED]
    assert ":E3012:" in finding

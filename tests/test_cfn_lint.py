"""cfn-lint on every synthesized template: zero errors; ignored checks live in .cfnlintrc with reasons."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, Synthesized


def run_cfn_lint(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_stack_template_lints_clean(synthesized: Synthesized) -> None:
    templates = sorted(str(p) for p in synthesized.outdir.glob("*.template.json"))
    assert len(templates) >= 3
    result = run_cfn_lint(*templates)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_catches_a_broken_template(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.template.json"
    bad.write_text('{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": "x"}}}}')
    result = run_cfn_lint(str(bad))
    assert result.returncode != 0 and "E3012" in result.stdout

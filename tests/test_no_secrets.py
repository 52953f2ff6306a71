"""No literal password, token, private key or bcrypt hash in templates, values files, GitOps content or snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, Synthesized
from tools.report.scan_secrets import findings, main


def scanned_files() -> list[Path]:
    roots = ["helm_values", "infra", "apps", "tests/__snapshots__", "cdk.json"]
    files: list[Path] = []
    for root in roots:
        path = ROOT / root
        files.extend([path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()))
    return files


def test_synthesized_templates_hold_no_secret(synthesized: Synthesized) -> None:
    templates = sorted(synthesized.outdir.glob("*.template.json"))
    assert len(templates) == 4
    for template in templates:
        assert findings(template.read_text()) == [], template.name


@pytest.mark.parametrize("path", scanned_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_content_holds_no_secret(path: Path) -> None:
    assert findings(path.read_text(errors="replace")) == []


@pytest.mark.parametrize(
    "planted",
    [
        # Built at run time so this file itself passes the scanner (the pre-commit hook scans it too).
        "adminPassword" + ": hunter2-admin",
        '"argocdServerAdminPassword": "' + "$".join(["", "2a", "10", "a" * 53]) + '"',
        "-----BEGIN RSA " + "PRIVATE KEY-----",
        "aws_access_key_id = " + "AKIA" + "ABCDEFGHIJKLMNOP",
        "apiToken" + ": tok-1234567890",
    ],
)
def test_scanner_catches_planted_secrets(planted: str) -> None:
    assert findings(planted) != []


def test_scanner_accepts_empty_values_and_references() -> None:
    assert findings('adminPassword: ""\nexistingSecret: grafana-admin\nhttpTokens: required') == []


def test_the_secretsmanager_service_prefix_is_no_secret_but_a_secret_next_to_it_is() -> None:
    flag = '"@aws-cdk/aws-secretsmanager:useAttachedSecretResourcePolicyForSecretTargetAttachments": true'
    assert findings(flag + '\n"Action": "secretsmanager:GetSecretValue"') == []
    assert findings('"dbSecret' + '": "s3cr3t-value"') != []


def test_scanner_command_fails_on_a_planted_secret_and_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean, planted = tmp_path / "clean.yaml", tmp_path / "planted.yaml"
    clean.write_text("existingSecret: grafana-admin\n")
    planted.write_text("apiToken" + ": tok-1234567890\n")
    assert main([str(clean)]) == 0
    assert main([str(clean), str(planted)]) == 1
    assert f"{planted}: literal password or token" in capsys.readouterr().err


def test_scanner_reads_code_and_prose_for_token_shaped_secrets_only() -> None:
    # In code `token: Any` is a parameter name; a key-shaped literal is still a secret wherever it sits.
    assert findings("def render(token: Any, secrets_key=kms.Key(scope)): ...", key_values=False) == []
    assert findings("KEY = '" + "AKIA" + "ABCDEFGHIJKLMNOP'", key_values=False) != []
    assert findings("id-token: write\ncontents: read") == []

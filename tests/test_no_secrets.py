"""No literal password, token, private key or bcrypt hash in templates, values files, GitOps content or snapshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, Synthesized

PATTERNS = {
    "bcrypt hash": re.compile(r"\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}"),
    "private key": re.compile(r"-----BEGIN (RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    # A non-empty literal after a password/secret/token key (JSON or YAML); empty strings and
    # references (secretKeyRef, existingSecret, ${...}) are fine.
    "literal password or token": re.compile(
        r"""["']?\b(\w*(password|passwd|secret|token)\w*)["']?\s*[:=]\s*["']?(?!\$\{|["'\s,}])([^"'\s,}]{4,})""",
        re.IGNORECASE,
    ),
}
# Keys whose values are names or switches, not secrets.
ALLOWED_KEYS = re.compile(
    r"\w*(secretname|secretref|secretkeyref|existingsecret|createsecret|tokenreviews|secretsencryption|"
    r"serviceaccounttoken|httptokens|tokenfile|secrettemplate|passwordkey)|secrets?",
    re.IGNORECASE,
)


def findings(text: str) -> list[str]:
    out = []
    for name, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            if name == "literal password or token":
                key, value = match.group(1), match.group(3)
                if ALLOWED_KEYS.fullmatch(key) or value.lower() in ("true", "false", "null", "required", "optional"):
                    continue
            out.append(f"{name}: {match.group(0)[:60]}")
    return out


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
        "adminPassword: hunter2-admin",
        # Built at run time so this file itself never looks like it holds a hash or a key.
        '"argocdServerAdminPassword": "' + "$".join(["", "2a", "10", "a" * 53]) + '"',
        "-----BEGIN RSA " + "PRIVATE KEY-----",
        "aws_access_key_id = AKIAABCDEFGHIJKLMNOP",
        "apiToken: tok-1234567890",
    ],
)
def test_scanner_catches_planted_secrets(planted: str) -> None:
    assert findings(planted) != []


def test_scanner_accepts_empty_values_and_references() -> None:
    assert findings('adminPassword: ""\nexistingSecret: grafana-admin\nhttpTokens: required') == []

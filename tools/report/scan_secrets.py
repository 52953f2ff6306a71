"""Secret scanner: no literal password, token, private key or bcrypt hash in the files it is given.

One set of patterns for the pre-commit hook (`python -m tools.report.scan_secrets FILE...`) and for
tests/test_no_secrets.py, which runs the same findings() over templates, values, GitOps content and snapshots.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

KEY_VALUE = "literal password or token"
PATTERNS = {
    "bcrypt hash": re.compile(r"\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}"),
    "private key": re.compile(r"-----BEGIN (RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    # A non-empty literal after a password/secret/token key (JSON or YAML); empty strings and
    # references (secretKeyRef, existingSecret, ${...}) are fine.
    KEY_VALUE: re.compile(
        r"""["']?\b(\w*(password|passwd|secret|token)\w*)["']?\s*[:=]\s*["']?(?!\$\{|["'\s,}])([^"'\s,}]{4,})""",
        re.IGNORECASE,
    ),
}
# Keys whose values are names or switches, not secrets. `secretsmanager` is a service prefix: IAM actions
# (secretsmanager:GetSecretValue) and CDK feature flags (@aws-cdk/aws-secretsmanager:<flag>) follow its colon.
ALLOWED_KEYS = re.compile(
    r"\w*(secretname|secretref|secretkeyref|existingsecret|createsecret|tokenreviews|secretsencryption|"
    r"serviceaccounttoken|httptokens|tokenfile|secrettemplate|passwordkey)|secrets?|secretsmanager",
    re.IGNORECASE,
)
# Switches and GitHub permission levels (`id-token: write`), not secrets.
HARMLESS_VALUES = ("true", "false", "null", "required", "optional", "read", "write", "none")
# The key/value pattern is written for configuration (YAML, JSON, ...): in code and prose `token: Any` or
# `secrets_key = kms.Key(` are names, so there only the token-shaped patterns apply.
KEY_VALUE_SUFFIXES = {".yaml", ".yml", ".json", ".toml", ".ini", ".cfg", ".conf", ".env", ".properties"}


def findings(text: str, *, key_values: bool = True) -> list[str]:
    """Each suspected secret in text, named by its pattern and cut to 60 characters."""
    out = []
    for name, pattern in PATTERNS.items():
        if name == KEY_VALUE and not key_values:
            continue
        for match in pattern.finditer(text):
            if name == KEY_VALUE:
                key, value = match.group(1), match.group(3)
                if ALLOWED_KEYS.fullmatch(key) or value.lower() in HARMLESS_VALUES:
                    continue
            out.append(f"{name}: {match.group(0)[:60]}")
    return out


def main(argv: list[str] | None = None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    failed = 0
    for path in paths:
        file = Path(path)
        key_values = file.suffix in KEY_VALUE_SUFFIXES or file.name.startswith(".env")
        for finding in findings(file.read_text(errors="replace"), key_values=key_values):
            print(f"{path}: {finding}", file=sys.stderr)
            failed += 1
    if failed:
        hint = "move each value into a Secret and reference it (CONTRIBUTING.md, review rules)"
        print(f"{failed} suspected secret(s): {hint}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

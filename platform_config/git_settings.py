"""The git settings ArgoCD reads: a revision git accepts as a ref name or commit, a repo URL without credentials."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# A full commit id: SHA-1 (40 hex) or SHA-256 (64 hex) object names.
COMMIT_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# git's scp-like form, user@host:path (no '//' after the colon, or it would be a URL).
SCP_RE = re.compile(r"(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:(?!//)[!-~]+")
REF_MAX = 255  # one path component on most filesystems; git stores refs as files
REF_FORBIDDEN = (" ", "~", "^", ":", "?", "*", "[", "\\", "..", "@{", "//")
CREDENTIALS_HINT = (
    "ArgoCD reads repository credentials from a Secret labelled argocd.argoproj.io/secret-type=repository "
    "(docs/configuration.md: Private repositories), never from the URL"
)


def _printable_ascii(text: str) -> bool:
    return text.isascii() and all(" " < ch < "\x7f" for ch in text)


def ref_name_problem(name: str) -> str | None:
    """Why `git check-ref-format --allow-onelevel` (or option parsing) would refuse `name`; None if it is fine."""
    if COMMIT_RE.fullmatch(name):
        return None
    if not name:
        return "it is empty"
    if len(name) > REF_MAX:
        return f"it is longer than {REF_MAX} characters"
    if name.startswith("-"):
        return "it starts with '-', which git reads as an option"
    if not _printable_ascii(name):
        return "it has whitespace, control or non-ASCII characters"
    if name == "@":
        return "'@' alone is not a ref name"
    for part in REF_FORBIDDEN:
        if part in name:
            return f"it contains {part!r}"
    if name.startswith("/") or name.endswith(("/", ".")):
        return "it starts with '/' or ends with '/' or '.'"
    for component in name.split("/"):
        if component.startswith(".") or component.endswith(".lock"):
            return f"its component {component!r} starts with '.' or ends with '.lock'"
    return None


def repo_url_problem(url: str) -> str | None:
    """Why `url` is not an https/ssh git URL without credentials; None if it is fine."""
    if url.startswith("-"):
        return "it starts with '-', which git reads as an option"
    if not _printable_ascii(url):
        return "it has whitespace, control or non-ASCII characters"
    if "://" not in url:
        if SCP_RE.fullmatch(url):
            return None
        return "it is neither a URL nor git's user@host:path form"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        has_password = parts.password is not None
        has_user = parts.username is not None
    except ValueError:
        return "it is not a parseable URL"
    if parts.scheme not in ("https", "ssh"):
        return f"scheme {parts.scheme!r} is not https or ssh"
    if not host or parts.path in ("", "/"):
        return "it has no host or no repository path"
    if has_password or (parts.scheme == "https" and has_user):
        return f"it carries credentials: {CREDENTIALS_HINT}"
    if parts.query or parts.fragment:
        return f"it has a query or fragment (a place tokens hide): {CREDENTIALS_HINT}"
    return None


def redacted(url: str) -> str:
    """The URL with any user info and query replaced by *** (error messages must not print a token)."""
    url = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/]*@", r"\1***@", url)
    return re.sub(r"[?#].*$", "?***", url)

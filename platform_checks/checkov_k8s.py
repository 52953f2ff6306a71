"""checkov's securityContext and token-mount checks on the rendered workloads of a profile: each finding is excepted
by name with its reason (platform_config/pod_security.CHECKOV_EXCEPTIONS) or it is a failure."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from platform_checks.pss import pod_specs
from platform_config.pod_security import CHECKOV_EXCEPTIONS, CheckovException

ROOT = Path(__file__).resolve().parent.parent
# The securityContext checks (allowPrivilegeEscalation, read-only root filesystem, root containers, NET_RAW,
# pod and container security contexts, seccomp, capabilities) and CKV_K8S_38 (service-account token mounts).
CHECKS = (
    "CKV_K8S_20",
    "CKV_K8S_22",
    "CKV_K8S_23",
    "CKV_K8S_28",
    "CKV_K8S_29",
    "CKV_K8S_30",
    "CKV_K8S_31",
    "CKV_K8S_37",
    "CKV_K8S_38",
)
# make installs checkov into a venv of its own (requirements-checkov.txt): its pins clash with the project's.
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"


class CheckovError(RuntimeError):
    """checkov is missing or did not produce a report."""


@dataclass(frozen=True, order=True)
class Finding:
    check: str
    resource: str  # checkov's id: <Kind>.<namespace>.<name>


def workloads(objects: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The objects checkov's checks read: Pods and every controller with a pod template."""
    return [obj for obj, _template in pod_specs(objects)]


def run_checkov(objects: Iterable[Mapping[str, Any]], checkov: Path = CHECKOV) -> list[Finding]:
    """Every failed check of CHECKS on the objects (one file each, as the cluster receives them)."""
    if not checkov.is_file():
        raise CheckovError(f"{checkov} is missing: `make .tools/checkov/.installed` installs requirements-checkov.txt")
    objects = list(objects)
    with tempfile.TemporaryDirectory(prefix="checkov-") as tmp:
        for index, obj in enumerate(objects):
            meta = obj["metadata"]
            name = f"{index:04d}-{obj['kind']}-{meta.get('namespace', '')}-{meta['name']}.yaml"
            (Path(tmp) / name).write_text(yaml.safe_dump(dict(obj)))
        argv = [str(checkov), "--directory", tmp, "--framework", "kubernetes", "--check", ",".join(CHECKS)]
        argv += ["--output", "json", "--quiet", "--compact", "--skip-download"]
        # No telemetry and no version check: make test runs offline.
        env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_SKIP_VERSION_CHECK": "1"}
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode not in (0, 1):
        raise CheckovError(f"checkov exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    # A bare summary (no "results") for workloads means checkov checked nothing: never a pass.
    if objects and '"results"' not in proc.stdout:
        raise CheckovError(f"checkov checked none of the {len(objects)} workloads: {proc.stdout.strip()[:300]!r}")
    return parse_report(proc.stdout)


def parse_report(text: str) -> list[Finding]:
    """The failed checks of checkov's JSON report (one framework: an object; several: a list; nothing: `{}`...)."""
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as err:
        raise CheckovError(f"checkov printed no JSON report: {text[:300]!r}") from err
    reports = data if isinstance(data, list) else [data]
    found = []
    for report in reports:
        if not isinstance(report, dict) or "results" not in report:
            continue
        for failed in report["results"].get("failed_checks", []):
            found.append(Finding(failed["check_id"], failed["resource"]))
    return sorted(set(found))


def excepted_by(finding: Finding, profile: str, exceptions: Iterable[CheckovException]) -> CheckovException | None:
    for exc in exceptions:
        if finding.check in exc.checks and fnmatchcase(finding.resource, exc.resource) and profile in exc.profiles:
            return exc
    return None


@dataclass
class Outcome:
    """A profile's findings split into excepted and failures, and the exceptions nothing needed (stale)."""

    profile: str
    findings: list[Finding]
    failures: list[Finding]
    stale: list[CheckovException]

    def counts(self) -> dict[str, tuple[int, int]]:
        """check -> (failures, excepted findings)."""
        failed = Counter(f.check for f in self.failures)
        total = Counter(f.check for f in self.findings)
        return {check: (failed[check], total[check] - failed[check]) for check in CHECKS}


def judge(
    profile: str, findings: list[Finding], exceptions: Iterable[CheckovException] = CHECKOV_EXCEPTIONS
) -> Outcome:
    exceptions = [e for e in exceptions if profile in e.profiles]
    used: set[CheckovException] = set()
    failures = []
    for finding in findings:
        exc = excepted_by(finding, profile, exceptions)
        if exc is None:
            failures.append(finding)
        else:
            used.add(exc)
    return Outcome(profile, findings, failures, [e for e in exceptions if e not in used])


def report(outcome: Outcome) -> str:
    """One line per check, then the failures and stale exceptions by name."""
    lines = [
        f"checkov {outcome.profile}: {check} {failed} failed, {excepted} excepted"
        for check, (failed, excepted) in outcome.counts().items()
    ]
    lines += [
        f"checkov {outcome.profile}: FAILED {f.check} {f.resource} (no exception names it)" for f in outcome.failures
    ]
    lines += [
        f"checkov {outcome.profile}: STALE exception {e.resource} {','.join(e.checks)} (nothing fails it)"
        for e in outcome.stale
    ]
    return "\n".join(lines)

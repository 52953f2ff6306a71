"""Each profile's components against their documented Kubernetes range (upstream_facts/lifecycle/): in range, an
accepted risk (platform_config/accepted_risks.py), or out of range, which fails with one line. An accepted risk
whose revisit date the lifecycle data's own date has passed fails too (the data, not the calendar, decides)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_config.accepted_risks import ACCEPTED_RISKS, AcceptedRisk
from platform_config.addons import addons, version_key
from platform_config.eks_rules import minor_number
from platform_config.versions import PROFILES, ReleaseProfile

ROOT = Path(__file__).resolve().parent.parent
LIFECYCLE = ROOT / "upstream_facts" / "lifecycle"
AMI_COMPONENT = "ami-alias"


def app_minor(version: str) -> str:
    parts = version.lstrip("v").split(".")
    return f"{int(parts[0])}.{int(parts[1])}"


@functools.cache
def chart_facts(chart: str, root: Path = LIFECYCLE) -> dict[str, Any]:
    """The derived lifecycle facts of one chart (karpenter-crd reads karpenter's)."""
    path = root / f"{chart}.json"
    if not path.is_file():
        raise KeyError(f"{chart}: no {path.relative_to(ROOT)}; run python -m tools.generate.derive_upstream")
    data: dict[str, Any] = json.loads(path.read_text())
    return chart_facts(data["same_as"], root) if "same_as" in data else data


@functools.cache
def ami_facts(root: Path = LIFECYCLE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "amazon-eks-ami.json").read_text())
    return data


@dataclass(frozen=True)
class Range:
    """Kubernetes minors [low, high] (None: no bound) a release supports, what kind of statement, from where."""

    low: str | None
    high: str | None
    kind: str
    source: str

    def admits(self, kubernetes: str) -> bool:
        if self.kind == "unpublished":
            return False
        low_ok = self.low is None or minor_number(kubernetes) >= minor_number(self.low)
        return low_ok and (self.high is None or minor_number(kubernetes) <= minor_number(self.high))

    @property
    def text(self) -> str:
        if self.kind == "unpublished":
            return "no published range"
        if self.low is None and self.high is None:
            return f"any minor ({self.kind} declares none)"
        span = f"{self.low}-{self.high}" if self.high else f"{self.low}+"
        return f"{span} ({self.kind})"


@functools.cache
def _rows(chart: str) -> dict[str, dict[str, str]]:
    return {row["version"]: row for row in chart_facts(chart)["versions"]}


def chart_row(chart: str, version: str) -> dict[str, str]:
    if version not in _rows(chart):
        raise KeyError(f"{chart} {version} is not in {chart_facts(chart)['versions_source']}")
    return dict(_rows(chart)[version])


@functools.cache
def documented_range(chart: str, version: str) -> Range:
    """The range a chart version's data gives: its app minor's published/tested range (the newest `since` at or
    below the app version), narrowed by the chart's kubeVersion lower bound."""
    facts = chart_facts(chart)
    row = chart_row(chart, version)
    data_file = f"upstream_facts/lifecycle/{facts['chart']}.json"
    kube_min = row["kube_min"] or None
    if not facts["ranges"]:
        return Range(kube_min, None, "chart kubeVersion", data_file)
    app = row["app_version"]
    candidates = [
        r
        for r in facts["ranges"]
        if r["app"] == app_minor(app) and version_key(r["since"]) <= version_key(app.lstrip("v"))
    ]
    if not candidates:
        return Range(None, None, "unpublished", data_file)
    best = max(candidates, key=lambda r: version_key(r["since"]))
    low = best["min"]
    if kube_min and minor_number(kube_min) > minor_number(low):
        low = kube_min
    return Range(low, best["max"], best["kind"], data_file)


def ami_release(alias: str) -> tuple[str, list[str], bool]:
    """(release, Kubernetes minors it built, exact) for `al2023@vYYYYMMDD`; a release the changelog lacks reads as
    the newest changelog release before it (exact=False)."""
    family, _, release = alias.partition("@")
    facts = ami_facts()
    if family != facts["family"]:
        raise ValueError(f"AMI alias {alias!r}: family {family!r}; accepted: {facts['family']}@v<YYYYMMDD>")
    releases: dict[str, list[str]] = facts["releases"]
    if release in releases:
        return release, releases[release], True
    before = [r for r in releases if r < release]
    if not before:
        raise ValueError(f"AMI alias {alias!r}: older than every release in {facts['source']}")
    return before[-1], releases[before[-1]], False


def node_release_version(alias: str, kubernetes: str) -> str | None:
    """The managed node group's releaseVersion of the AMI release an alias names, for a Kubernetes minor
    (`1.36.2-20260714`), or None when the changelog has no such release or it built no image for that minor."""
    release = alias.partition("@")[2]
    found: str | None = ami_facts().get("release_versions", {}).get(release, {}).get(kubernetes)
    return found


@dataclass(frozen=True)
class Finding:
    component: str
    version: str
    kubernetes: str
    range: Range
    status: str  # "in range" | "accepted risk" | "out of range"
    risk: AcceptedRisk | None = None
    app: str = ""

    @property
    def line(self) -> str:
        app = f" ({self.app})" if self.app and self.app.lstrip("v") != self.version else ""
        text = f"{self.component} {self.version}{app} on Kubernetes {self.kubernetes}: {self.status}, documented "
        text += f"{self.range.text} in {self.range.source}"
        if self.risk:
            text += f" (accepted: {self.risk.reason}; revisit {self.risk.revisit.isoformat()})"
        return text


def risk_for(chart: str, app: str, kubernetes: str) -> AcceptedRisk | None:
    return next(
        (r for r in ACCEPTED_RISKS if (r.chart, r.app, r.kubernetes) == (chart, app_minor(app), kubernetes)), None
    )


def profile_findings(profile: ReleaseProfile) -> list[Finding]:
    """One finding per chart the profile installs (registry order), then the AMI alias."""
    kubernetes = profile.kubernetes.version
    out: list[Finding] = []
    for chart in dict.fromkeys(record.chart for record in addons(profile.name)):
        version = profile.charts[chart].version
        found = documented_range(chart, version)
        app = chart_row(chart, version)["app_version"]
        if found.admits(kubernetes):
            out.append(Finding(chart, version, kubernetes, found, "in range", app=app))
            continue
        risk = risk_for(chart, app, kubernetes)
        status = "accepted risk" if risk else "out of range"
        out.append(Finding(chart, version, kubernetes, found, status, risk, app=app))
    release, built, exact = ami_release(profile.ami_alias)
    kind = "built" if exact else f"built by {release}, the newest release before it"
    ami_range = Range(built[0], built[-1], kind, "upstream_facts/lifecycle/amazon-eks-ami.json")
    status = "in range" if kubernetes in built else "out of range"
    out.append(Finding(AMI_COMPONENT, profile.ami_alias, kubernetes, ami_range, status))
    return out


def status_line(profile: ReleaseProfile) -> str:
    """One line for the synth summary and make verify."""
    findings = profile_findings(profile)
    counts = {s: sum(f.status == s for f in findings) for s in ("in range", "accepted risk", "out of range")}
    text = f"Compatibility ({profile.name}, Kubernetes {profile.kubernetes.version}): "
    text += ", ".join(f"{n} {s}" for s, n in counts.items())
    risks = [f"{f.component} {f.version}" for f in findings if f.status != "in range"]
    return text + (f" [{'; '.join(risks)}]" if risks else "")


def failures(profiles: dict[str, ReleaseProfile] = PROFILES) -> list[str]:
    """One line per out-of-range pin with no accepted-risk entry, naming the component, its range and data file."""
    return [
        f"{name}: {f.line}; add an accepted-risk entry in platform_config/accepted_risks.py or move the pin"
        for name, profile in sorted(profiles.items())
        for f in profile_findings(profile)
        if f.status == "out of range"
    ]


@functools.cache
def data_date(root: Path = LIFECYCLE) -> dt.date:
    """The lifecycle data's date: the newest release date in its derived chart tables. Like the cost plan's price
    date, it moves only when `make derive` brings newer data, so a check against it gives the same result on any
    day for the same commit."""
    dates = [
        row["date"]
        for path in sorted(root.glob("*.json"))
        for row in json.loads(path.read_text()).get("versions", [])
        if isinstance(row, dict) and row.get("date")
    ]
    if not dates:
        raise ValueError(f"{root.relative_to(ROOT)}: no dated release in the chart tables; run make derive")
    return dt.date.fromisoformat(max(dates))


def overdue_risks(on: dt.date, risks: tuple[AcceptedRisk, ...] | None = None) -> list[str]:
    """One line per accepted risk whose revisit date is before `on`."""
    return [
        f"accepted risk {r.chart} {r.app} on Kubernetes {r.kubernetes} (platform_config/accepted_risks.py) was due "
        f"for revisit on {r.revisit.isoformat()}: check the upstream data again, then move the pin, drop the entry "
        "or give it a new revisit date with its reason"
        for r in (ACCEPTED_RISKS if risks is None else risks)
        if r.revisit < on
    ]


def overdue_failures() -> list[str]:
    """Accepted risks past due by the lifecycle data's date: what `make test` and the compatibility report fail on."""
    on = data_date()
    return [f"{line} (lifecycle data of {on.isoformat()})" for line in overdue_risks(on)]


def overdue_warnings(today: dt.date | None = None) -> list[str]:
    """Accepted risks past due by today's date: what the synth summary and make verify warn about."""
    return [f"warning: {line}" for line in overdue_risks(today or dt.date.today())]

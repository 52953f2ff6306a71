"""Every profile's components sit inside their documented Kubernetes range (upstream_facts/lifecycle/) or carry an
accepted-risk entry; an out-of-range pin with no entry fails with one line naming the component, range and file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from platform_checks import compatibility as compat
from platform_config.accepted_risks import ACCEPTED_RISKS, AcceptedRisk
from platform_config.eks_rules import INTERMEDIATE_KUBECTL_LAYERS, kubectl_layer, layer_minor, minor_number
from platform_config.versions import PROFILES, KubernetesRelease
from tests.conftest import PROFILE_NAMES, Synthesized
from tools.generate import derive_lifecycle
from tools.generate.upstream_sources import DirTree
from tools.report import compatibility as tools_compatibility
from tools.report import synth_summary
from tools.report.synth_summary import summarize

ROOT = Path(__file__).resolve().parent.parent


def test_every_profile_pin_is_in_its_documented_range_or_an_accepted_risk() -> None:
    assert compat.failures() == []


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_chart_of_the_profile_and_its_ami_alias_gets_a_finding(profile: str) -> None:
    findings = compat.profile_findings(PROFILES[profile])
    assert {f.component for f in findings} == {*PROFILES[profile].charts, compat.AMI_COMPONENT}
    assert all(f.status in ("in range", "accepted risk") for f in findings)


def test_without_the_entries_each_accepted_pin_fails_with_one_line_naming_component_range_and_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compat, "ACCEPTED_RISKS", ())
    lines = compat.failures()
    assert len(lines) == len(ACCEPTED_RISKS)
    for risk in ACCEPTED_RISKS:
        (line,) = [x for x in lines if f"{risk.chart} " in x and f"Kubernetes {risk.kubernetes}" in x]
        assert risk.documented in line
        assert f"upstream_facts/lifecycle/{risk.chart}.json" in line
        assert "\n" not in line


def test_no_accepted_risk_is_past_its_revisit_date_by_the_lifecycle_data_date() -> None:
    assert compat.overdue_failures() == []


def test_the_lifecycle_data_date_is_the_newest_release_date_in_the_chart_tables(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"versions": [{"date": "2026-01-02"}, {"date": "2026-03-04"}]}))
    (tmp_path / "b.json").write_text(json.dumps({"versions": [{"date": "2025-12-31"}], "removals": []}))
    (tmp_path / "c.json").write_text(json.dumps({"releases": {}}))
    assert compat.data_date.__wrapped__(tmp_path) == dt.date(2026, 3, 4)
    every = [r["date"] for p in compat.LIFECYCLE.glob("*.json") for r in json.loads(p.read_text()).get("versions", [])]
    assert compat.data_date() == dt.date.fromisoformat(max(d for d in every if d))


def test_a_planted_risk_past_due_by_the_data_date_fails_make_test_and_the_tool_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    on = compat.data_date()
    due = dataclasses.replace(ACCEPTED_RISKS[0], revisit=on - dt.timedelta(days=1))
    monkeypatch.setattr(compat, "ACCEPTED_RISKS", (due, *ACCEPTED_RISKS[1:]))
    (line,) = compat.overdue_failures()
    assert f"accepted risk {due.chart} {due.app} on Kubernetes {due.kubernetes}" in line
    assert due.revisit.isoformat() in line and on.isoformat() in line
    assert tools_compatibility.main(today=on) == 1
    assert line in capsys.readouterr().err


def test_a_risk_due_on_the_data_date_itself_is_not_past_due(monkeypatch: pytest.MonkeyPatch) -> None:
    on = compat.data_date()
    monkeypatch.setattr(compat, "ACCEPTED_RISKS", (dataclasses.replace(ACCEPTED_RISKS[0], revisit=on),))
    assert compat.overdue_failures() == []


def test_a_planted_risk_past_due_only_by_todays_date_warns_in_the_tool_and_the_summary_but_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], synthesized: Synthesized
) -> None:
    today = dt.date.today()
    due = dataclasses.replace(ACCEPTED_RISKS[0], revisit=max(compat.data_date(), today - dt.timedelta(days=1)))
    monkeypatch.setattr(compat, "ACCEPTED_RISKS", (due, *ACCEPTED_RISKS[1:]))
    later = due.revisit + dt.timedelta(days=1)
    (warning,) = compat.overdue_warnings(later)
    assert warning.startswith(f"warning: accepted risk {due.chart} {due.app} ") and due.revisit.isoformat() in warning
    assert compat.overdue_failures() == []  # the data's date has not passed it: make test keeps its result
    assert tools_compatibility.main(today=later) == 0
    assert warning in capsys.readouterr().out.splitlines()
    # The synth summary warns by the machine's date: on `later`, it repeats the warning.
    monkeypatch.setattr(synth_summary, "overdue_warnings", lambda: compat.overdue_warnings(later))
    assert warning in synth_summary.summarize(synthesized.outdir)[0].splitlines()


def test_a_control_plane_past_karpenters_maximum_fails_naming_karpenter_and_its_range() -> None:
    seed = PROFILES["seed"]
    karpenter_high = compat.documented_range("karpenter", seed.karpenter_version).high
    assert karpenter_high is not None
    beyond = f"1.{int(karpenter_high.split('.')[1]) + 1}"
    moved = dataclasses.replace(seed, kubernetes=dataclasses.replace(seed.kubernetes, version=beyond))
    lines = compat.failures({"moved": moved})
    assert any(line.startswith(f"moved: karpenter {seed.karpenter_version} ") for line in lines)
    assert any("upstream_facts/lifecycle/karpenter.json" in line and karpenter_high in line for line in lines)


@pytest.mark.parametrize("risk", ACCEPTED_RISKS, ids=lambda r: f"{r.chart}-{r.app}-on-{r.kubernetes}")
def test_each_accepted_risk_matches_a_pin_its_data_still_puts_out_of_range(risk: AcceptedRisk) -> None:
    matches = [
        f
        for profile in PROFILES.values()
        for f in compat.profile_findings(profile)
        if f.component == risk.chart and f.kubernetes == risk.kubernetes and compat.app_minor(f.app) == risk.app
    ]
    assert matches, "an entry no profile needs must go"
    for finding in matches:
        assert finding.status == "accepted risk"
        assert finding.range.text == risk.documented, "the data moved: revisit the entry"


def test_an_ami_alias_missing_from_the_changelog_reads_as_the_newest_release_before_it() -> None:
    releases = sorted(compat.ami_facts()["releases"])
    newer, older = releases[-1], releases[-2]
    between = f"v{int(older[1:]) + 1}"
    assert between not in releases
    assert compat.ami_release(f"al2023@{between}") == (older, compat.ami_facts()["releases"][older], False)
    assert compat.ami_release(f"al2023@{newer}")[2] is True
    with pytest.raises(ValueError, match="accepted: al2023@"):
        compat.ami_release(f"bottlerocket@{newer}")


def test_every_minor_between_the_profiles_has_one_kubectl_layer_and_a_profiles_own_minor_is_pinned_once() -> None:
    releases: list[KubernetesRelease] = [p.kubernetes for p in PROFILES.values()]
    for release in releases:
        assert kubectl_layer(release.version) == release.kubectl_layer_package
    table = [layer_minor(package) for package in INTERMEDIATE_KUBECTL_LAYERS]
    assert len(table) == len(set(table)) and not set(table) & {r.version for r in releases}
    low, high = (f(minor_number(r.version) for r in releases) for f in (min, max))
    for number in range(low, high + 1):
        assert layer_minor(kubectl_layer(f"1.{number}")) == f"1.{number}"
    with pytest.raises(KeyError, match=r"no kubectl layer package for Kubernetes 1\.99"):
        kubectl_layer("1.99")


def test_karpenter_matrix_minors_stay_strings_and_a_patch_entry_narrows_its_minor(tmp_path: Path) -> None:
    base = tmp_path / derive_lifecycle.karpenter_docs()
    matrix = base / "hack/docs/compatibilitymatrix_gen/compatibility.yaml"
    guide = base / "website/content/en/preview/upgrading/upgrade-guide.md"
    matrix.parent.mkdir(parents=True)
    guide.parent.mkdir(parents=True)
    matrix.write_text(
        "compatibility:\n"
        "  - appVersion: 1.0.x\n    minK8sVersion: 1.25\n    maxK8sVersion: 1.30\n"
        "  - appVersion: 1.0.5\n    minK8sVersion: 1.25\n    maxK8sVersion: 1.31\n"
    )
    guide.write_text("### Upgrading to `1.0.0`+\n\n```\n### Upgrading to `9.9.9`+\n```\n")
    data = derive_lifecycle.karpenter(DirTree(tmp_path), "karpenter")
    assert [(r["since"], r["min"], r["max"]) for r in data["ranges"]] == [
        ("1.0.0", "1.25", "1.30"),
        ("1.0.5", "1.25", "1.31"),
    ]
    assert data["notes"] == [{"to": "1.0.0", "source": data["sources"][1], "anchor": "upgrading-to-100"}]


def test_a_chart_version_range_is_the_app_range_narrowed_by_the_charts_kube_version() -> None:
    facts = compat.chart_facts("argo-cd")
    ranged = 0
    for row in facts["versions"]:
        found = compat.documented_range("argo-cd", row["version"])
        app_ranges = [r for r in facts["ranges"] if r["app"] == compat.app_minor(row["app_version"])]
        if not app_ranges:
            assert found.kind == "unpublished" and not found.admits("1.30")
            continue
        ranged += 1
        assert found.high == app_ranges[-1]["max"]
        assert found.low is not None
        assert int(found.low.split(".")[1]) >= int(app_ranges[-1]["min"].split(".")[1])
        if row["kube_min"]:
            assert int(found.low.split(".")[1]) >= int(row["kube_min"].split(".")[1])
    assert ranged, "no argo-cd chart row has a documented app range: the narrowing rule was never checked"


def test_every_registry_chart_has_lifecycle_facts_with_versions_from_the_chart_table() -> None:
    for profile in PROFILES.values():
        for chart, pin in profile.charts.items():
            assert compat.chart_row(chart, pin.version)["version"] == pin.version


def test_compatibility_tool_prints_each_profiles_status_and_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.report.compatibility"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    for profile in PROFILES.values():
        assert compat.status_line(profile) in result.stdout.splitlines()


def test_synth_summary_prints_the_profiles_compatibility_status(synthesized: Synthesized) -> None:
    text, _ = summarize(synthesized.outdir)
    assert compat.status_line(PROFILES[synthesized.config.release]) in text.splitlines()


def test_kubernetes_api_removals_come_from_pluto_with_the_minor_they_are_removed_in() -> None:
    data = json.loads((compat.LIFECYCLE / "kubernetes-apis.json").read_text())
    assert data["removals"], "no removals derived"
    for entry in data["removals"]:
        assert entry["removed_in"].startswith("1.")
        assert entry["api_version"] and entry["kind"]
        if entry["deprecated_in"]:
            assert int(entry["deprecated_in"].split(".")[1]) <= int(entry["removed_in"].split(".")[1])


def test_every_profiles_extended_support_ends_the_eks_extended_months_after_standard_support() -> None:
    from platform_config.eks_rules import EXTENDED_SUPPORT_MONTHS

    for profile in PROFILES.values():
        start, end = profile.kubernetes.standard_support_end, profile.kubernetes.extended_support_end
        assert (end.year - start.year) * 12 + end.month - start.month == EXTENDED_SUPPORT_MONTHS
        assert end.day == start.day

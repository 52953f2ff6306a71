"""The committed Grafana dashboards are fresh, load into Grafana's sidecar, and query only defined series."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import promql_parser
import pytest

from platform_checks.kustomize import kustomize_build
from platform_config import versions
from tests.conftest import PROFILE_NAMES
from tests.observability_helpers import (
    ROOT,
    karpenter_metrics,
    metric_names,
    recorded_names,
)
from tools.generate import build_dashboards

DASHBOARDS_DIR = ROOT / "infra" / "dashboards"


def _models() -> dict[str, dict[str, Any]]:
    """Dashboard JSON models by uid, read from the built ConfigMaps."""
    models = {}
    for cm in kustomize_build(DASHBOARDS_DIR):
        for key, text in cm["data"].items():
            models[key.removesuffix(".json")] = json.loads(text)
    return models


def _targets() -> list[tuple[str, str]]:
    return [
        (f"{uid}/{panel['title']}", target["expr"])
        for uid, model in _models().items()
        for panel in model["panels"]
        for target in panel.get("targets", [])
    ]


def test_committed_dashboards_match_the_builder() -> None:
    assert build_dashboards.stale_files(build_dashboards.render()) == []
    assert build_dashboards.main(["--check"]) == 0


def test_builder_output_is_deterministic() -> None:
    assert build_dashboards.render() == build_dashboards.render()


def test_check_mode_fails_on_a_hand_edited_dashboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(build_dashboards, "ROOT", tmp_path)
    monkeypatch.setattr(build_dashboards, "OUT_DIR", tmp_path / "dashboards")
    assert build_dashboards.main([]) == 0
    assert build_dashboards.main(["--check"]) == 0
    edited = tmp_path / "dashboards" / "dashboard-karpenter-provisioning.yaml"
    edited.write_text(edited.read_text().replace("45.0", "60.0"))
    assert build_dashboards.main(["--check"]) == 1
    assert "dashboards/dashboard-karpenter-provisioning.yaml" in capsys.readouterr().err


def test_configmaps_are_labelled_for_the_grafana_sidecar_in_monitoring() -> None:
    built = kustomize_build(DASHBOARDS_DIR)
    assert len(built) == len(build_dashboards.DASHBOARDS)
    for cm in built:
        assert cm["kind"] == "ConfigMap"
        assert cm["metadata"]["namespace"] == "monitoring"
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_dashboards_cover_savings_latency_and_interruptions() -> None:
    exprs = {expr for _, expr in _targets()}
    for needed in (
        "karpenter:fleet_savings:ratio_by_nodepool",
        "karpenter:nodes_allocatable_cpu:sum_by_nodepool_capacity_type",
        "karpenter:pods_startup_duration_seconds:p90",
        "karpenter:pods_startup_duration_seconds:p50",
        "karpenter:interruption_received_messages:increase1h",
        "karpenter:nodeclaims_disrupted:increase1h",
    ):
        assert needed in exprs, f"no panel shows {needed}"


def test_latency_panels_mark_the_45_second_target() -> None:
    model = _models()["karpenter-provisioning"]
    for panel in model["panels"]:
        steps = panel["fieldConfig"]["defaults"].get("thresholds", {}).get("steps", [])
        if any("p90" in t["expr"] for t in panel["targets"]):
            assert 45.0 in [s["value"] for s in steps], panel["title"]


def test_every_panel_target_parses_as_promql() -> None:
    targets = _targets()
    assert len(targets) >= 10
    for where, expr in targets:
        try:
            promql_parser.parse(expr)
        except Exception as err:  # the parser raises a plain Exception subclass per syntax error
            pytest.fail(f"{where}: {expr!r}: {err}")


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_series_a_dashboard_reads_is_recorded_or_exported_by_the_profiles_karpenter(profile: str) -> None:
    karpenter = versions.PROFILES[profile].karpenter_version
    recorded = recorded_names()
    for where, expr in _targets():
        for name in metric_names(promql_parser.parse(expr)):
            if ":" in name:
                assert name in recorded, f"{where} uses recording rule {name} that no rule defines"
            else:
                assert name in karpenter_metrics(karpenter), f"{where} reads {name}, not a Karpenter {karpenter} metric"

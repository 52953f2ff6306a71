"""The committed architecture picture is the one the synthesized platform draws, and it drops no part."""

from __future__ import annotations

import json
import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from platform_checks.cfn_json import json_property
from platform_checks.kustomize import kustomize_build
from platform_config.placement import STATEFUL_NODE_SELECTOR, STATEFUL_TOLERATION
from platform_config.versions import DEFAULT_PROFILE
from tests.conftest import PROFILE_NAMES, ROOT, Synthesized
from tests.make_plan import make_dry_run
from tools.generate import diagram, diagram_model

DOCS = ROOT / "docs"


@cache
def _build(directory: Path) -> list[dict[str, Any]]:
    """kustomize builds are the slow part: build each GitOps directory once per session."""
    return kustomize_build(directory)


@pytest.fixture(scope="module")
def model(synthesized: Synthesized) -> diagram_model.Model:
    return diagram_model.extract_model(synthesized.outdir, build=_build)


@pytest.fixture(scope="module")
def source(model: diagram_model.Model) -> str:
    return diagram.graph_source(model)


def _copy_assembly(synthesized: Synthesized, tmp_path: Path) -> Path:
    """manifest.json and the templates only (the assets are large and the picture does not read them)."""
    out = tmp_path / "cdk.out"
    out.mkdir()
    shutil.copy(synthesized.outdir / "manifest.json", out)
    for template in synthesized.outdir.glob("*.template.json"):
        shutil.copy(template, out)
    return out


def _edit_template(assembly: Path, stack_suffix: str, edit: Any) -> None:
    path = next(assembly.glob(f"*-{stack_suffix}.template.json"))
    template = json.loads(path.read_text())
    edit(template)
    path.write_text(json.dumps(template))


# --- the committed picture is current --------------------------------------------------------------------------


def test_committed_picture_is_the_one_the_synthesized_platform_draws(source: str, profile: str) -> None:
    """The committed picture is the default profile's; every other profile draws a different one."""
    problems = diagram.stale(source, DOCS)
    if profile == DEFAULT_PROFILE:
        assert not problems, "\n".join(problems)
    else:
        assert len(problems) == 1 and "architecture.dot is stale" in problems[0], problems


def test_the_source_is_deterministic(model: diagram_model.Model, source: str) -> None:
    assert diagram.graph_source(model) == source
    assert not re.search(r"\b[0-9a-f]{32}\b", source), "a random (uuid4) node id leaked into the source"
    assert not re.search(r'image="?/', source), "an absolute icon path leaked into the source"
    assert not re.search(r"20\d\d-\d\d-\d\d", source), "a date leaked into the source"


def test_png_and_svg_stay_small_enough_for_the_readme() -> None:
    assert (DOCS / "architecture.png").stat().st_size < 500_000
    assert (DOCS / "architecture.svg").stat().st_size < 1_000_000


def test_svg_embeds_every_icon_it_draws() -> None:
    svg = (DOCS / "architecture.svg").read_text()
    used = set(re.findall(r'<use xlink:href="#([\w-]+)"', svg))
    defined = set(re.findall(r'<symbol id="([\w-]+)"', svg))
    assert used and used <= defined, sorted(used - defined)
    assert 'xlink:href="resources/' not in svg and '<image xlink:href="data:image/png;base64,' in svg


def test_readme_shows_the_picture_at_the_top_of_the_architecture_section() -> None:
    # The README-width overview, linking to the full picture (tests/test_architecture_overview.py).
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Architecture\n", 1)[1]
    first = next(line for line in section.splitlines() if line.strip())
    assert re.match(r"\[!\[[^]]+\]\(docs/architecture-overview\.png\)\]\(docs/architecture\.svg\)", first), first


# --- every part is drawn ----------------------------------------------------------------------------------------


def _drawn(source: str) -> tuple[set[str], dict[str, str]]:
    """The cluster (box) labels and {node id: label} of a Graphviz source."""
    boxes = set(re.findall(r'^\s*graph \[.*?\blabel="((?:[^"\\]|\\.)*)"', source, re.M | re.S))
    nodes = dict(re.findall(r'^\s*"?([\w-]+)"? \[label="((?:[^"\\]|\\.)*)"', source, re.M | re.S))
    return boxes, nodes


def _synced_applications(roots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Applications in the Git paths the root Applications sync."""
    return [
        doc
        for root in roots
        for src in root["spec"].get("sources") or [root["spec"]["source"]]
        if "path" in src
        for doc in _build(ROOT / src["path"])
        if doc["kind"] == "Application"
    ]


def _missing(synthesized: Synthesized, source: str) -> list[str]:
    """What the picture must show but does not, read from the assembly independently of the generator."""
    boxes, nodes = _drawn(source)
    # Labels are wrapped for the picture: compare them as one line of words.
    texts = {" ".join(label.split()) + " " for label in nodes.values()}
    missing: list[str] = []
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    stacks = [n for n, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"]
    missing += [f"stack {n}" for n in stacks if f"{n}  (CloudFormation stack)" not in boxes]
    apps: list[dict[str, Any]] = []
    releases, pools = 0, 0
    for template in synthesized.templates.values():
        for res in template["Resources"].values():
            if res["Type"] == "Custom::AWSCDK-EKS-HelmChart":
                releases += 1
                props = res["Properties"]
                label = nodes.get("helm_" + re.sub(r"[^a-z0-9]+", "_", props["Release"]), "")
                if f"Helm {props['Chart']} {props['Version']}" not in label and f"Helm {props['Version']}" not in label:
                    missing.append(f"Helm release {props['Release']}")
            if res["Type"] == "Custom::AWSCDK-EKS-KubernetesResource":
                for doc in json_property(res["Properties"]["Manifest"]):
                    if doc["kind"] == "NodePool":
                        pools += 1
                        name = doc["metadata"]["name"]
                        if not any(text.startswith(f"NodePool {name} ") for text in texts):
                            missing.append(f"NodePool {name}")
                    if doc["kind"] == "Application":
                        apps.append(doc)
    apps += _synced_applications(apps)
    for app in apps:
        name = app["metadata"]["name"]
        if not any(text.startswith(f"Application {name} ") for text in texts):
            missing.append(f"Application {name}")
    # The oracle itself must have found something of each kind, or it would pass on an empty platform.
    assert (len(stacks), releases, pools) >= (4, 5, 2) and len(apps) >= 4, (stacks, releases, pools, len(apps))
    return sorted(missing)


def test_every_stack_nodepool_helm_release_and_application_is_drawn(synthesized: Synthesized, source: str) -> None:
    assert _missing(synthesized, source) == []


@pytest.mark.parametrize(
    ("node", "reported"),
    [
        ("nodepool_spot", "NodePool spot"),
        ("helm_argocd", "Helm release argocd"),
        ("application_astronomy_shop", "Application astronomy-shop"),
    ],
)
def test_a_dropped_part_is_detected(synthesized: Synthesized, source: str, node: str, reported: str) -> None:
    dropped = "\n".join(line for line in source.splitlines() if not line.strip().startswith(f"{node} ["))
    assert _missing(synthesized, dropped) == [reported]


def test_a_dropped_stack_is_detected(synthesized: Synthesized, source: str) -> None:
    renamed = source.replace("-Network  (CloudFormation stack)", "-Net  (CloudFormation stack)")
    assert _missing(synthesized, renamed) == [f"stack {synthesized.config.cluster_name}-Network"]


def test_spot_and_on_demand_split_follows_the_placement_contract(
    synthesized: Synthesized, model: diagram_model.Model
) -> None:
    groups = {g.id: g for g in model.groups}

    def capacity(part_id: str) -> str:
        group = groups[next(p.group for p in model.parts if p.id == part_id)]
        while group.parent:
            group = groups[group.parent]
        return group.id

    roots = [
        doc
        for res in synthesized.templates["addons"]["Resources"].values()
        if res["Type"] == "Custom::AWSCDK-EKS-KubernetesResource"
        for doc in json_property(res["Properties"]["Manifest"])
        if doc["kind"] == "Application"
    ]
    (shop,) = [a for a in _synced_applications(roots) if a["metadata"]["name"] == "astronomy-shop"]
    expected = {}
    for name, component in shop["spec"]["source"]["helm"]["valuesObject"]["components"].items():
        if component.get("enabled") is False:
            continue
        rules = component.get("schedulingRules", {})
        stateful = STATEFUL_TOLERATION in rules.get("tolerations", []) and rules.get("nodeSelector") == (
            STATEFUL_NODE_SELECTOR
        )
        expected[name] = "capacity_on-demand" if stateful else "capacity_spot"
    assert {"capacity_on-demand", "capacity_spot"} <= set(expected.values()), expected
    drawn = {name: capacity("workload_astronomy_shop_" + re.sub(r"[^a-z0-9]+", "_", name.lower())) for name in expected}
    assert drawn == expected
    assert expected["kafka"] == "capacity_on-demand" and expected["frontend"] == "capacity_spot"
    assert capacity("workload_jaeger") == "capacity_spot"
    assert "Spot" in groups["capacity_spot"].label and "On-Demand" in groups["capacity_on-demand"].label


def test_versions_come_from_the_assembly(synthesized: Synthesized, model: diagram_model.Model) -> None:
    version = synthesized.only("cluster", "AWS::EKS::Cluster")["Properties"]["Version"]
    assert f"Kubernetes {version}" in model.title
    assert f"(release profile {synthesized.config.release})" in model.title
    assert any(f"Kubernetes {version}" in p.label for p in model.parts if p.id == "control_plane")


def test_the_profile_recorded_in_the_cluster_template_names_the_picture(
    synthesized: Synthesized, tmp_path: Path
) -> None:

    assembly = _copy_assembly(synthesized, tmp_path)
    other = next(name for name in PROFILE_NAMES if name != synthesized.config.release)

    def other_profile(template: dict[str, Any]) -> None:
        assert template["Metadata"]["EksPlatform"]["Release"] == synthesized.config.release
        template["Metadata"]["EksPlatform"]["Release"] = other

    _edit_template(assembly, "Cluster", other_profile)
    model = diagram_model.extract_model(assembly, build=_build)
    assert f"(release profile {other})" in model.title


def test_the_profile_is_the_one_every_chart_version_matches() -> None:
    from platform_config.versions import PROFILES

    for name, profile in PROFILES.items():
        charts = {c: profile.charts[c].version for c in ("argo-cd", "karpenter", "kyverno")}
        assert diagram_model.release_profile(charts) == name
        assert diagram_model.release_profile({**charts, "kyverno": "0.0.1"}) is None
    assert diagram_model.release_profile({}) is None


# --- stale pictures and bad input are refused -------------------------------------------------------------------


def test_a_changed_platform_makes_the_committed_picture_stale(synthesized: Synthesized, tmp_path: Path) -> None:
    assembly = _copy_assembly(synthesized, tmp_path)

    def other_version(template: dict[str, Any]) -> None:
        for res in template["Resources"].values():
            if res["Type"] == "AWS::EKS::Cluster":
                res["Properties"]["Version"] = "9.99"

    _edit_template(assembly, "Cluster", other_version)
    source = diagram.graph_source(diagram_model.extract_model(assembly, build=_build))
    assert "Kubernetes 9.99" in source
    problems = diagram.stale(source, DOCS)
    assert len(problems) == 1
    assert "architecture.dot is stale" in problems[0] and "make diagram" in problems[0]


def test_a_picture_not_rendered_from_the_committed_source_is_detected(tmp_path: Path) -> None:
    source = (DOCS / "architecture.dot").read_text()
    for fmt in ("dot", "png", "svg"):
        shutil.copy(DOCS / f"architecture.{fmt}", tmp_path)
    (tmp_path / "architecture.svg").write_text(
        (tmp_path / "architecture.svg").read_text().replace(diagram.source_digest(source), "0" * 64)
    )
    from PIL import Image

    Image.new("RGB", (4, 4)).save(tmp_path / "architecture.png")
    problems = diagram.stale(source, tmp_path)
    assert [p.split(" ", 1)[0] for p in problems] == [
        str(tmp_path / "architecture.png"),
        str(tmp_path / "architecture.svg"),
    ]
    assert all("make diagram" in p for p in problems)


def test_no_assembly_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(diagram_model.DiagramError, match=r"no manifest.json\): run `make synth` first"):
        diagram_model.extract_model(tmp_path)


def test_an_assembly_without_a_spot_nodepool_is_refused(synthesized: Synthesized, tmp_path: Path) -> None:
    assembly = _copy_assembly(synthesized, tmp_path)

    def drop_spot(template: dict[str, Any]) -> None:
        for res in template["Resources"].values():
            if res["Type"] == "Custom::AWSCDK-EKS-KubernetesResource":
                docs = json_property(res["Properties"]["Manifest"])
                kept = [d for d in docs if not (d["kind"] == "NodePool" and d["metadata"]["name"] == "spot")]
                res["Properties"]["Manifest"] = json.dumps(kept)

    _edit_template(assembly, "Karpenter", drop_spot)
    with pytest.raises(
        diagram_model.DiagramError, match=r"expected a Spot and an On-Demand NodePool, found \['on-demand'\]"
    ):
        diagram_model.extract_model(assembly, build=_build)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, diagram_model.SPOT),
        (
            {
                "tolerations": [
                    {
                        "key": "eks-platform.io/workload-class",
                        "operator": "Equal",
                        "value": "stateful",
                        "effect": "NoSchedule",
                    }
                ]
            },
            diagram_model.SPOT,
        ),
        (
            {
                "schedulingRules": {
                    "nodeSelector": {"eks-platform.io/workload-class": "stateful"},
                    "tolerations": [
                        {
                            "key": "eks-platform.io/workload-class",
                            "operator": "Equal",
                            "value": "stateful",
                            "effect": "NoSchedule",
                        }
                    ],
                }
            },
            diagram_model.ON_DEMAND,
        ),
        (
            {
                "nodeSelector": {"eks-platform.io/node-role": "system"},
                "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}],
            },
            diagram_model.SYSTEM,
        ),
    ],
)
def test_placement_follows_the_contract(values: dict[str, Any], expected: str) -> None:
    assert diagram_model.placement(values) == expected


def test_selecting_stateful_nodes_without_the_toleration_is_refused() -> None:
    with pytest.raises(diagram_model.DiagramError, match=r"without tolerating the taint .* such pods fit no node"):
        diagram_model.placement({"nodeSelector": {"eks-platform.io/workload-class": "stateful"}})


def test_make_diagram_reports_a_missing_assembly_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert diagram.main([str(tmp_path / "cdk.out"), "--out", str(tmp_path / "docs")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "run `make synth` first" in err and err.count("\n") == 1
    assert not (tmp_path / "docs").exists()


# --- make diagram draws the reference configuration; a fork's own picture goes elsewhere ------------------------


def test_make_diagram_draws_the_reference_configuration_unless_told_an_assembly() -> None:
    assert "tools.generate.diagram --reference --out docs" in make_dry_run(
        "diagram",
    )
    assert "tools.generate.diagram --reference --release seed --out /tmp/s" in make_dry_run(
        "diagram", "RELEASE=seed", "DIAGRAM_OUT=/tmp/s"
    )
    own = make_dry_run("diagram", "DIAGRAM_FROM=cdk.out", "DIAGRAM_OUT=/tmp/mine")
    assert "tools.generate.diagram cdk.out --out /tmp/mine" in own


def test_the_reference_assembly_draws_the_committed_picture_whatever_the_fork_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a configured fork's shell may hold; the reference synth must not read it (nor cdk.json).
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"nat_gateways": 3, "git_repo_url": "https://x.example/y.git"}))
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1")
    source = diagram.graph_source(diagram_model.extract_model(diagram.reference_assembly(tmp_path)))
    assert not diagram.stale(source, DOCS)


def test_an_own_configuration_is_refused_in_the_committed_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert diagram.main([str(tmp_path / "cdk.out"), "--out", str(DOCS)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {DOCS} holds the committed picture") and err.count("\n") == 1
    assert "make diagram DIAGRAM_FROM=cdk.out DIAGRAM_OUT=<dir>" in err


def test_release_without_the_reference_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        diagram.main(["cdk.out", "--release", "seed", "--out", "/tmp/x"])
    assert exit_.value.code == 2
    assert "--release chooses the reference configuration's profile" in capsys.readouterr().err


def test_an_unknown_release_is_one_line_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert diagram.main(["--reference", "--release", "stable", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: config key 'release' = 'stable': accepted is ") and err.count("\n") == 1
    assert not list(tmp_path.iterdir())

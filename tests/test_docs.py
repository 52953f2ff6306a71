"""The docs restate no data by hand: tables of keys, add-ons and versions are generated from the code and checked;
no pin appears in prose; README stays a short front door."""

from __future__ import annotations

import re
import shutil
from dataclasses import field, fields, make_dataclass
from pathlib import Path

import pytest

from platform_checks.platform_render import PlatformRender
from platform_config import versions
from platform_config.addons import ADDONS
from platform_config.config import PlatformConfig
from tests.conftest import PROFILE_NAMES, ROOT
from tools.generate import gen_docs

README = (ROOT / "README.md").read_text()


def block(text: str, name: str) -> str:
    """The body of one generated block of a document."""
    match = next(m for m in gen_docs.BLOCK_RE.finditer(text) if m["name"] == name)
    return match["body"]


def table_rows(body: str) -> list[list[str]]:
    """The cells of each row of a Markdown table, header and rule left out."""
    rows = [line for line in body.splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def copy_docs(tmp_path: Path) -> Path:
    for path in gen_docs.doc_files(ROOT):
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return tmp_path


# ---- the generator and its check ----


def test_generated_blocks_match_the_code() -> None:
    # The blocks that synthesize and render are checked against the suite's own render below.
    assert gen_docs.stale(ROOT, skip=gen_docs.RENDERED_BLOCKS) == []
    assert gen_docs.main(["--check", "--skip-rendered"]) == 0


def test_capacity_block_is_the_plan_of_each_profiles_render(platform_render: PlatformRender) -> None:
    body = block((ROOT / "docs" / "render-gate.md").read_text(), "capacity")
    section = gen_docs.capacity_section(platform_render.profile, platform_render)
    assert section in body, (
        f"docs/render-gate.md: the {platform_render.profile} capacity plan is stale; run `make docs`"
    )


def test_a_hand_edited_table_fails_the_check_naming_make_docs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_docs(tmp_path)
    addons_page = root / "docs" / "addons.md"
    pin = versions.PROFILES[versions.DEFAULT_PROFILE].karpenter_version
    addons_page.write_text(addons_page.read_text().replace(f"| {pin} |", "| 0.0.1 |", 1))
    assert gen_docs.stale(root, skip=gen_docs.RENDERED_BLOCKS) == [
        "docs/addons.md: generated block(s) addons stale; run `make docs` (python -m tools.generate.gen_docs)"
    ]
    monkeypatch.setattr(gen_docs, "ROOT", root)
    assert gen_docs.main(["--check", "--skip-rendered"]) == 1
    assert "run `make docs`" in capsys.readouterr().err
    assert gen_docs.main(["--skip-rendered"]) == 0
    assert gen_docs.stale(root, skip=gen_docs.RENDERED_BLOCKS) == []


def test_an_unknown_or_unclosed_block_is_refused_by_name() -> None:
    with pytest.raises(gen_docs.DocsError, match=r"x.md: unknown generated block 'pins'; accepted: \["):
        gen_docs.render("<!-- BEGIN GENERATED: pins -->\n<!-- END GENERATED: pins -->\n", "x.md")
    with pytest.raises(gen_docs.DocsError, match=r"x\.md: a generated block is not closed"):
        gen_docs.render("<!-- BEGIN GENERATED: addons -->\nrow\n", "x.md")


def test_every_generated_block_is_held_by_some_document(tmp_path: Path) -> None:
    root = copy_docs(tmp_path)
    page = root / "docs" / "configuration.md"
    page.write_text(gen_docs.BLOCK_RE.sub("", page.read_text()))
    with pytest.raises(gen_docs.DocsError, match="no document holds the generated block 'config-reference'"):
        gen_docs.rendered(root, skip=gen_docs.RENDERED_BLOCKS)


def test_an_indented_block_keeps_its_list_indentation() -> None:
    text = "- item:\n\n  <!-- BEGIN GENERATED: x -->\n  <!-- END GENERATED: x -->\n"
    out = gen_docs.render(text, "x.md", {"x": lambda: "line 1\n\nline 2\n"})
    assert out == "- item:\n\n  <!-- BEGIN GENERATED: x -->\n  line 1\n\n  line 2\n  <!-- END GENERATED: x -->\n"


# ---- the configuration reference: each key documented once, in code ----


@pytest.mark.parametrize("key", [f.name for f in fields(PlatformConfig)])
def test_every_config_key_carries_its_documentation_in_code(key: str) -> None:
    (spec,) = [f for f in fields(PlatformConfig) if f.name == key]
    assert len(spec.metadata.get("doc", "")) >= 20, f"{key}: declare it with key(default, doc) in config.py"


def test_a_config_key_without_documentation_stops_the_generator_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    bare = make_dataclass("Bare", [("colour", str, field(default="blue"))])
    monkeypatch.setattr(gen_docs, "PlatformConfig", bare)
    with pytest.raises(gen_docs.DocsError, match="key 'colour' has no documentation; declare it with key"):
        gen_docs.config_reference()


def test_configuration_reference_shows_each_keys_documentation_from_code() -> None:
    body = block((ROOT / "docs" / "configuration.md").read_text(), "config-reference")
    rows = {row[0].strip("`"): row for row in table_rows(body)}
    assert list(rows) == [f.name for f in fields(PlatformConfig)]
    for spec in fields(PlatformConfig):
        assert rows[spec.name][2] == spec.metadata["doc"].replace("|", "\\|"), spec.name


# ---- the add-on and version tables ----


def test_addon_table_has_one_row_per_registry_record_with_each_profiles_pin() -> None:
    body = block((ROOT / "docs" / "addons.md").read_text(), "addons")
    header = [c.strip() for c in body.splitlines()[1].split("|")[1:-1]]
    rows = {row[1].strip("`"): dict(zip(header, row, strict=True)) for row in table_rows(body)}
    assert list(rows) == [a.release for a in ADDONS]
    for record in ADDONS:
        row = rows[record.release]
        assert row["chart (repository)"].startswith(f"`{record.chart}`")
        assert row["namespace (Pod Security)"].startswith(f"`{record.namespace}` ({record.pod_security})")
        for name in PROFILE_NAMES:
            (column,) = [c for c in header if c.startswith(f"`{name}`")]
            assert row[column].split(" ")[0] == record.pin(versions.PROFILES[name]).version, (record.release, name)


def test_addon_table_lists_the_values_files_the_helm_construct_reads() -> None:
    from constructs_lib.helm_addon import values_files

    for record in ADDONS:
        for name in PROFILE_NAMES:
            assert gen_docs.values_paths(record.release, name) == values_files(record.release, name)


@pytest.mark.parametrize("doc", ["README.md", "docs/release-profiles.md"])
def test_versions_table_shows_each_profiles_kubernetes_layer_karpenter_and_ami(doc: str) -> None:
    body = block((ROOT / doc).read_text(), "versions")
    header = [c.strip() for c in body.splitlines()[1].split("|")[1:-1]]
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in table_rows(body)}
    for name, profile in versions.PROFILES.items():
        (column,) = [c for c in header if c.startswith(f"`{name}`")]
        cells = {label: row[column] for label, row in rows.items()}
        assert cells["Kubernetes"] == profile.kubernetes.version
        assert f"`{profile.kubernetes.kubectl_layer_package}`" in cells["kubectl layer (the kubectl and helm it ships)"]
        assert cells["Karpenter (`karpenter-crd` and `karpenter`)"] == profile.karpenter_version
        assert cells["EC2NodeClass AMI alias"] == f"`{profile.ami_alias}`"


# ---- no pin, copied diagram or long page by hand ----


def pins() -> set[str]:
    """Every version string the versions module pins (charts, apps, Karpenter, AMI, layer, kubectl, helm)."""
    from platform_checks.layer_tools import tool_versions

    out: set[str] = set()
    for name, profile in versions.PROFILES.items():
        k = profile.kubernetes
        out |= {k.kubectl_layer_package, k.kubectl_layer_package.split("==")[1], *tool_versions(name).values()}
        out |= {profile.karpenter_version, profile.ami_alias}
        out |= {pin.version for pin in profile.charts.values()}
        out |= {
            app
            for record in ADDONS
            if (app := gen_docs.app_version_of(record, name)) and record.chart in profile.charts
        }
    return out


def generated_whole(path: Path) -> bool:
    """A page another generator writes whole says so at its top (docs/upgrade-playbook.md); its test keeps it."""
    return bool(re.search(r"^Generated by .*do not edit by hand", "\n".join(path.read_text().splitlines()[:5]), re.M))


HAND_WRITTEN = [str(p.relative_to(ROOT)) for p in gen_docs.doc_files(ROOT) if not generated_whole(p)]


def test_a_page_generated_whole_is_recognised_by_its_header() -> None:
    assert generated_whole(ROOT / "docs" / "upgrade-playbook.md")
    assert not generated_whole(ROOT / "README.md")


@pytest.mark.parametrize("doc", HAND_WRITTEN)
def test_docs_state_no_pin_outside_a_generated_block(doc: str) -> None:
    prose = gen_docs.BLOCK_RE.sub("", (ROOT / doc).read_text())
    found = sorted(p for p in pins() if re.search(rf"(?<![\w.]){re.escape(p)}(?![\w.])", prose))
    assert found == [], f"{doc} types pins by hand: {found}; link a generated table instead"


# Every Markdown page of the repository but the changelog (a record of what changed, with the versions of then).
PAGES = sorted(
    str(p.relative_to(ROOT))
    for p in [
        *ROOT.glob("*.md"),
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "infra").rglob("*.md"),
        *(ROOT / "apps").rglob("*.md"),
    ]
    if p.name != "CHANGELOG.md" and not generated_whole(p)
)


@pytest.mark.parametrize("doc", PAGES)
def test_no_table_of_pins_is_typed_by_hand(doc: str) -> None:
    rows = [line for line in gen_docs.BLOCK_RE.sub("", (ROOT / doc).read_text()).splitlines() if line.startswith("|")]
    found = sorted(p for p in pins() for row in rows if re.search(rf"(?<![\w.]){re.escape(p)}(?![\w.])", row))
    assert found == [], f"{doc} has a table with pins typed by hand: {found}; use a generated block (make docs)"


@pytest.mark.parametrize("doc", [str(p.relative_to(ROOT)) for p in gen_docs.doc_files(ROOT)])
def test_docs_hold_no_hand_drawn_copy_of_the_generated_picture(doc: str) -> None:
    assert not re.search("[┌┐└┘├┤─│]", (ROOT / doc).read_text()), f"{doc}: the picture is docs/architecture.png"


def test_readme_is_a_front_door_under_300_lines_with_the_two_commands_and_a_map() -> None:
    assert len(README.splitlines()) < 300
    headings = re.findall(r"^## (.+)$", README, re.M)
    for heading in ("Two commands", "Quick start on a real account", "Folder map", "Where to read more"):
        assert heading in headings, heading
    assert "make synth" in README.split("## Two commands", 1)[1].split("\n## ", 1)[0]


def test_readme_folder_map_names_every_top_level_folder() -> None:
    section = README.split("## Folder map", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([\w.]+)/`", section))
    folders = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".") and not p.is_symlink()}
    folders -= {"node_modules", "cdk.out", "__pycache__"}
    assert folders - named == set(), "README's folder map misses folders"
    assert named - folders == set(), "README's folder map names folders that do not exist"


def test_readme_links_every_docs_page() -> None:
    pages = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    assert {p for p in pages if f"]({p})" not in README} == set()


def test_code_the_runbook_and_contributing_name_exists() -> None:
    """`name(...)` is a function or class of the repository; `name=` a field of a record in platform_config."""
    from platform_config.addons import Addon

    source = "\n".join(p.read_text() for d in ("platform_config", "constructs_lib", "platform_stacks", "tools")
                       for p in (ROOT / d).rglob("*.py"))  # fmt: skip
    record_fields = {f.name for cls in (versions.ReleaseProfile, versions.KubernetesRelease, Addon, PlatformConfig)
                     for f in fields(cls)}  # fmt: skip
    for doc in ("docs/runbook.md", "CONTRIBUTING.md"):
        text = (ROOT / doc).read_text()
        for name in re.findall(r"`([A-Za-z_]\w*)\(\.\.\.\)`", text):
            assert re.search(rf"^\s*(def|class) {name}\b", source, re.M), f"{doc} names {name}(...), which is gone"
        for name in re.findall(r"`([a-z_]\w*)=`", text):
            assert name in record_fields, f"{doc} names {name}=, which no record in platform_config has"


# A test a document names as the proof of a promise: `test_x`, `tests/test_x.py` or `tests/test_x.py::test_y`.
_NAMED_TEST = re.compile(r"`(?:tests/)?(test_[a-z0-9_]+)(?:\.py)?(?:::(test_[a-z0-9_]+))?`")


def _documents() -> list[Path]:
    tops = [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    return [*tops, *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "infra").rglob("*.md"))]


def test_every_test_a_document_names_exists() -> None:
    sources = {p.stem: p.read_text() for p in (ROOT / "tests").rglob("*.py")}
    defined = {name for text in sources.values() for name in re.findall(r"def (test_[a-z0-9_]+)", text)}
    named = {
        (doc.relative_to(ROOT).as_posix(), *match.groups())
        for doc in _documents()
        for match in _NAMED_TEST.finditer(doc.read_text())
    }
    assert named, "no document names a test: the pattern no longer matches the docs"
    missing = [
        f"{doc}: {first}{'::' + second if second else ''}"
        for doc, first, second in sorted(named, key=lambda n: (n[0], n[1], n[2] or ""))
        if (first not in sources and first not in defined)
        or (second and not re.search(rf"^def {re.escape(second)}\(", sources.get(first, ""), re.MULTILINE))
    ]
    assert not missing, f"documents name tests that do not exist (renamed or removed?): {missing}"


def test_the_security_model_names_exactly_the_checkov_checks_the_suite_runs() -> None:
    from platform_checks.checkov_k8s import CHECKS

    page = (ROOT / "docs" / "security-model.md").read_text()
    prose = " ".join(page.split())  # the list wraps across lines
    (listed,) = re.findall(r"checkov's securityContext checks \(CKV_K8S_([\d, ]+)\) and CKV_K8S_(\d+)", prose)
    named = {f"CKV_K8S_{n.strip()}" for n in listed[0].split(",")} | {f"CKV_K8S_{listed[1]}"}
    assert named == set(CHECKS)


def test_the_performance_page_states_the_targets_make_bench_enforces() -> None:
    from tools.report import bench

    prose = " ".join((ROOT / "docs" / "performance.md").read_text().split())
    assert f"within **{bench.SYNTH_RATIO_TARGET:.2f}x** the one-bucket app" in prose
    assert f"the suite within {bench.SUITE_TARGET_S:.0f} s" in prose
    assert f"the cost plan within {bench.COST_PLAN_TARGET_S:.0f} s beyond the render" in prose
    assert f"the upgrade plan and its check within {bench.UPGRADE_PLAN_TARGET_S:.0f} s" in prose

"""The README shows an overview that fits its width, drawn from the same model as the full picture: each
top-level group (stack, capacity pool, GitOps tree) folded into one node, every link between groups kept."""

from __future__ import annotations

import pytest
from PIL import Image

from platform_config.versions import DEFAULT_PROFILE
from tests.conftest import ROOT, Synthesized
from tools.generate import diagram, diagram_model
from tools.generate.diagram_overview import OVERVIEW_ATTRS, OVERVIEW_MAX_WIDTH, OVERVIEW_STEM, overview

DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def model(synthesized: Synthesized) -> diagram_model.Model:
    return diagram_model.extract_model(synthesized.outdir)


def test_the_committed_overview_is_the_one_the_reference_platform_draws(
    model: diagram_model.Model, profile: str
) -> None:
    problems = diagram.stale(diagram.graph_source(overview(model), OVERVIEW_ATTRS), DOCS, OVERVIEW_STEM)
    if profile == DEFAULT_PROFILE:
        assert not problems, "\n".join(problems)
    else:
        assert problems, "each profile draws its own overview"


def test_the_overview_fits_the_readme_and_the_full_picture_does_not() -> None:
    with Image.open(DOCS / f"{OVERVIEW_STEM}.png") as small, Image.open(DOCS / f"{diagram.STEM}.png") as full:
        assert small.size[0] <= OVERVIEW_MAX_WIDTH
        assert full.size[0] > OVERVIEW_MAX_WIDTH, "else the overview would not be needed"
    readme = (ROOT / "README.md").read_text()
    assert f"](docs/{OVERVIEW_STEM}.png)](docs/{diagram.STEM}.svg)" in readme
    assert f"(docs/{diagram.STEM}.png)" not in readme.split("## Architecture", 1)[1].split("\n\n", 2)[1]


def test_each_top_level_group_is_one_node_and_no_link_between_groups_is_lost(model: diagram_model.Model) -> None:
    folded = overview(model)
    top_level = {g.id for g in model.groups if not g.parent}
    assert top_level <= {p.id for p in folded.parts}
    assert folded.groups == ()
    groups = {g.id: g for g in model.groups}

    def top(group: str) -> str:
        while group and groups[group].parent:
            group = groups[group].parent
        return group

    node = {p.id: top(p.group) or p.id for p in model.parts}
    between = {(node[link.src], node[link.dst]) for link in model.links if link.style != "invisible"}
    kept = {(link.src, link.dst) for link in folded.links}
    assert {pair for pair in between if pair[0] != pair[1]} == kept


def test_the_overview_source_is_small(model: diagram_model.Model) -> None:
    assert len(diagram.graph_source(overview(model), OVERVIEW_ATTRS)) < len(diagram.graph_source(model)) // 4

"""The README-width overview: the full architecture model with each top-level group (stack, capacity pool, GitOps
tree) folded into one node that names its parts, and the links between those groups, drawn at most
OVERVIEW_MAX_WIDTH pixels wide (the full picture, thousands of pixels wide, is unreadable at README width)."""

from __future__ import annotations

from tools.generate.diagram_model import Group, Link, Model, Part

OVERVIEW_STEM = "architecture-overview"
# dot scales a larger drawing down to `size` inches at `dpi`: 9.5 in x 96 dpi = 912 px, GitHub's README column.
OVERVIEW_ATTRS = {"size": "9.5,30", "dpi": "96", "nodesep": "1.3", "ranksep": "0.6"}
OVERVIEW_MAX_WIDTH = 912
NAMES_SHOWN = 4  # part names listed under a folded group's title; the rest are counted


def _top(groups: dict[str, Group], group_id: str) -> str:
    while group_id and groups[group_id].parent:
        group_id = groups[group_id].parent
    return group_id


def overview(model: Model) -> Model:
    """The model folded to one node per top-level group, linked where any of their parts were."""
    groups = {g.id: g for g in model.groups}
    members: dict[str, list[Part]] = {}
    for part in model.parts:
        members.setdefault(_top(groups, part.group), []).append(part)
    parts = list(members.pop("", []))  # parts outside any group stay as they are
    for top, inside in sorted(members.items()):
        names = sorted({p.label.split("\n")[0] for p in inside})
        more = f" +{len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
        label = f"{groups[top].label}\n{', '.join(names[:NAMES_SHOWN])}{more}"
        parts.append(Part(id=top, label=label, icon=inside[0].icon, group=""))
    node_of = {p.id: _top(groups, p.group) or p.id for p in model.parts}
    links = sorted(
        {
            Link(src=node_of[link.src], dst=node_of[link.dst], style=link.style)
            for link in model.links
            if node_of[link.src] != node_of[link.dst] and link.style != "invisible"
        }
    )
    # The first clause of the full title (cluster, Kubernetes, profile): the rest would set the picture's width.
    title = f"{model.title.split(' · ')[0]}: overview (full picture: docs/architecture.svg)"
    return Model(title=title, groups=(), parts=tuple(parts), links=tuple(links))

"""The upgrade planner's plans are proven by the independent checker (tools/report/plan_check.py): seed->current, every
pair of adjacent Kubernetes minors on the way, and planted bad plans it must refuse; the planner is as short as a
brute-force enumeration on small generated data; the committed playbook is the planner's output."""

from __future__ import annotations

import copy
import itertools
import json
import re
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platform_checks.upgrade_search import Component, NoPath, Problem, search
from platform_config.eks_rules import minor_number
from platform_config.versions import PROFILES
from tools.report import plan_check, upgrade_plan

ROOT = Path(__file__).resolve().parent.parent
OLDEST = min(PROFILES.values(), key=lambda p: minor_number(p.kubernetes.version)).name
NEWEST = max(PROFILES.values(), key=lambda p: minor_number(p.kubernetes.version)).name


@pytest.fixture(scope="module")
def full_plan() -> dict[str, Any]:
    return upgrade_plan.plan(OLDEST, NEWEST)


def test_the_oldest_to_newest_profile_plan_passes_the_independent_checker(full_plan: dict[str, Any]) -> None:
    assert full_plan["steps"], "a plan between different profiles has steps"
    assert plan_check.check(full_plan) == []


def test_the_plan_moves_the_control_plane_once_per_minor_and_nodes_after_each(full_plan: dict[str, Any]) -> None:
    kinds = [s["kind"] for s in full_plan["steps"]]
    span = minor_number(full_plan["target"]["kubernetes"]) - minor_number(full_plan["start"]["kubernetes"])
    assert kinds.count("control-plane") == span
    assert kinds.count("nodes") == span
    for n, kind in enumerate(kinds):
        if kind == "control-plane" and n + 1 < len(kinds):
            assert "nodes" in kinds[n + 1 :]


def _adjacent_pairs(data: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(first state at minor m with nodes on m, last state at m+1 with nodes on m+1) along a plan."""
    states = [data["start"], *(s["after"] for s in data["steps"])]
    settled = [s for s in states if s["kubernetes"] == s["nodes"]]
    by_minor: dict[str, list[dict[str, Any]]] = {}
    for s in settled:
        by_minor.setdefault(s["kubernetes"], []).append(s)
    minors = sorted(by_minor, key=minor_number)
    return [(by_minor[a][0], by_minor[b][-1]) for a, b in itertools.pairwise(minors)]


def test_every_pair_of_adjacent_minors_gets_a_plan_the_checker_accepts(full_plan: dict[str, Any]) -> None:
    pairs = _adjacent_pairs(full_plan)
    span = minor_number(PROFILES[NEWEST].kubernetes.version) - minor_number(PROFILES[OLDEST].kubernetes.version)
    assert len(pairs) == span
    for start, target in pairs:
        data = upgrade_plan.plan(OLDEST, NEWEST, start=start, target=target)
        assert plan_check.check(data) == [], (start["kubernetes"], target["kubernetes"])
        kinds = [s["kind"] for s in data["steps"]]
        assert kinds.count("control-plane") == 1


def _relink(data: dict[str, Any]) -> dict[str, Any]:
    """Renumber steps and chain each step's `before` to the previous `after` (a planted plan is well formed)."""
    before = data["start"]
    for n, step in enumerate(data["steps"], 1):
        step["step"], step["before"] = n, before
        before = step["after"]
    return data


def test_checker_refuses_a_control_plane_step_of_two_minors(full_plan: dict[str, Any]) -> None:
    bad = copy.deepcopy(full_plan)
    n = next(i for i, s in enumerate(bad["steps"]) if s["kind"] == "control-plane")
    bad["steps"][n]["after"]["kubernetes"] = f"1.{minor_number(bad['steps'][n]['after']['kubernetes']) + 1}"
    errors = plan_check.check(_relink(bad))
    assert any("control plane" in e and "one minor" in e for e in errors), errors


def test_checker_refuses_a_kubelet_newer_than_the_api_server(full_plan: dict[str, Any]) -> None:
    bad = copy.deepcopy(full_plan)
    n = next(i for i, s in enumerate(bad["steps"]) if s["kind"] == "nodes")
    after = bad["steps"][n]["after"]
    after["nodes"] = f"1.{minor_number(after['kubernetes']) + 1}"
    assert any("newer than the API server" in e for e in plan_check.check(_relink(bad)))


def test_checker_refuses_a_kubelet_more_than_the_allowed_skew_behind(full_plan: dict[str, Any]) -> None:
    state = copy.deepcopy(full_plan["target"])
    state["nodes"] = f"1.{minor_number(state['kubernetes']) - plan_check.KUBELET_MAX_SKEW - 1}"
    assert any("older than the API server" in e for e in plan_check.state_errors(state, plan_check.Facts()))


def test_checker_refuses_the_control_plane_past_karpenters_maximum(full_plan: dict[str, Any]) -> None:
    start = full_plan["start"]
    facts = plan_check.Facts()
    cp = minor_number(start["kubernetes"])
    while facts.allows("karpenter", start["charts"]["karpenter"], cp + 1):
        cp += 1
    steps = []
    state = copy.deepcopy(start)
    for m in range(minor_number(start["kubernetes"]) + 1, cp + 2):
        for field in ("kubernetes", "nodes"):
            state = copy.deepcopy(state)
            state[field] = f"1.{m}"
            steps.append({"kind": field, "after": state})
    bad = _relink({"start": start, "target": state, "steps": steps})
    errors = plan_check.check(bad)
    assert any(e.startswith(f"step {len(steps) - 1}: karpenter ") and "does not support" in e for e in errors)


def test_checker_refuses_the_controller_before_its_crds(full_plan: dict[str, Any]) -> None:
    bad = copy.deepcopy(full_plan)
    kinds = [s["kind"] for s in bad["steps"]]
    crd, ctl = kinds.index("karpenter-crd"), kinds.index("karpenter")
    assert crd < ctl
    steps = bad["steps"]
    # Replay the controller's change first, then the CRDs'.
    ctl_version = steps[ctl]["after"]["charts"]["karpenter"]
    crd_version = steps[crd]["after"]["charts"]["karpenter-crd"]
    first = copy.deepcopy(steps[crd]["before"])
    first["charts"]["karpenter"] = ctl_version
    second = copy.deepcopy(first)
    second["charts"]["karpenter-crd"] = crd_version
    steps[crd]["after"], steps[crd]["kind"] = first, "karpenter"
    steps[ctl]["after"], steps[ctl]["kind"] = second, "karpenter-crd"
    for step in steps[crd + 1 : ctl]:
        step["after"]["charts"]["karpenter"] = ctl_version
        step["after"]["charts"]["karpenter-crd"] = steps[crd]["before"]["charts"]["karpenter-crd"]
    errors = plan_check.check(_relink(bad))
    assert any("runs ahead of its CRDs" in e for e in errors), errors


def test_checker_refuses_a_step_that_changes_two_things(full_plan: dict[str, Any]) -> None:
    bad = copy.deepcopy(full_plan)
    merged = bad["steps"][1]
    del bad["steps"][0]
    assert any("changes 2 things" in e for e in plan_check.check(_relink(bad))), merged["kind"]


def test_checker_refuses_a_plan_that_stops_short_of_the_target(full_plan: dict[str, Any]) -> None:
    bad = copy.deepcopy(full_plan)
    bad["steps"].pop()
    assert any("not the target" in e for e in plan_check.check(bad))


def test_no_path_is_one_clear_line_and_exit_1() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.report.upgrade_plan", "--from", NEWEST, "--to", OLDEST],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"error: no upgrade path from {NEWEST} to {OLDEST}: ")


def test_an_unknown_profile_is_one_line_naming_the_accepted_ones() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.report.upgrade_plan", "--from", "nope"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode != 0
    (line,) = result.stderr.splitlines()
    assert "'nope'" in line and all(p in line for p in PROFILES)


def test_the_plan_json_and_markdown_are_deterministic(full_plan: dict[str, Any]) -> None:
    again = upgrade_plan.plan(OLDEST, NEWEST)
    assert json.dumps(again, sort_keys=True) == json.dumps(full_plan, sort_keys=True)
    assert upgrade_plan.markdown(again) == upgrade_plan.markdown(full_plan)


def test_the_committed_playbook_is_the_planners_output(full_plan: dict[str, Any]) -> None:
    committed = (ROOT / "docs" / "upgrade-playbook.md").read_text()
    assert committed == upgrade_plan.markdown(full_plan), (
        "regenerate: python -m tools.report.upgrade_plan > docs/upgrade-playbook.md"
    )


def test_each_step_names_a_profile_with_the_kubectl_layer_of_its_minor(full_plan: dict[str, Any]) -> None:
    for step in full_plan["steps"]:
        profile = step["profile"]
        assert profile["kubernetes"] == step["after"]["kubernetes"]
        assert f"-v{minor_number(profile['kubernetes'])}==" in profile["kubectl_layer_package"]
        pinned = {(c, p.charts[c].version) for p in PROFILES.values() for c in p.charts}
        offline = all((c, v["version"]) in pinned for c, v in profile["charts"].items())
        assert profile["rendered_offline"] is offline


def test_prose_steps_cite_anchors_the_derived_notes_hold() -> None:
    from platform_checks.compatibility import chart_facts
    from platform_config.upgrade_steps import PROSE_STEPS

    for step in PROSE_STEPS:
        notes = chart_facts(step.chart)["notes"]
        assert any(n["source"] == step.source and n["anchor"] == step.anchor for n in notes), step


# ---- the search against brute force on small generated data -----------------------------------------------------


def brute_ok(problem: Problem, cp: int, nodes: int, idx: tuple[int, ...]) -> bool:
    """Every constraint on one state, written apart from the search."""
    if nodes > cp or cp - nodes > problem.max_skew:
        return False
    if any(not c.valid(c.candidates[i], cp) for c, i in zip(problem.components, idx, strict=True)):
        return False
    return all(
        problem.order(problem.components[a].candidates[idx[a]])
        >= problem.order(problem.components[b].candidates[idx[b]])
        for a, b in problem.at_least
    )


def brute_force(problem: Problem) -> int | None:
    """Length of the shortest plan by breadth-first enumeration of every state and every single change (written
    apart from the search: its own validity and moves)."""

    def ok(cp: int, nodes: int, idx: tuple[int, ...]) -> bool:
        return brute_ok(problem, cp, nodes, idx)

    start = (problem.start_cp, problem.start_nodes, problem.index(problem.start))
    goal_idx = problem.index(problem.target)
    goal = (problem.target_cp, problem.target_cp, goal_idx)
    if not ok(*start):
        return None
    seen = {start: 0}
    queue = deque([start])
    while queue:
        cp, nodes, idx = queue.popleft()
        if (cp, nodes, idx) == goal:
            return seen[(cp, nodes, idx)]
        nexts = []
        if nodes == cp < problem.target_cp:
            nexts.append((cp + 1, nodes, idx))
        if nodes < cp:
            nexts.append((cp, nodes + 1, idx))
        for n in range(len(idx)):
            for j in range(idx[n] + 1, goal_idx[n] + 1):
                nexts.append((cp, nodes, tuple(j if k == n else v for k, v in enumerate(idx))))
        for nxt in nexts:
            if nxt not in seen and ok(*nxt):
                seen[nxt] = seen[(cp, nodes, idx)] + 1
                queue.append(nxt)
    return None


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    start_cp = draw(st.integers(0, 2))
    target_cp = start_cp + draw(st.integers(0, 3))
    count = draw(st.integers(1, 3))
    components, start, target = [], [], []
    for n in range(count):
        size = draw(st.integers(1, 4))
        versions = tuple(f"{n}.{k}" for k in range(size))
        table = {(v, cp): draw(st.booleans()) for v in versions for cp in range(start_cp, target_cp + 1)}
        components.append(Component(f"c{n}", versions, lambda v, cp, t=table: t.get((v, cp), False)))
        lo = draw(st.integers(0, size - 1))
        start.append(versions[lo])
        target.append(versions[draw(st.integers(lo, size - 1))])
    at_least: tuple[tuple[int, int], ...] = ()
    if count >= 2 and draw(st.booleans()):
        at_least = ((0, 1),)
    return Problem(
        components=tuple(components),
        start_cp=start_cp,
        start_nodes=start_cp - draw(st.integers(0, min(start_cp, 1))),
        start=tuple(start),
        target_cp=target_cp,
        target=tuple(target),
        max_skew=2,
        at_least=at_least,
        order=lambda v: tuple(int(x) for x in v.split(".")[1:]),
    )


@settings(max_examples=150, deadline=None, derandomize=True)
@given(problems())
def test_search_is_as_short_as_brute_force_and_fails_exactly_when_it_finds_nothing(problem: Problem) -> None:
    expected = brute_force(problem)
    try:
        path = search(problem)
    except NoPath:
        assert expected is None
        return
    assert expected is not None and len(path) == expected
    before = (problem.start_cp, problem.start_nodes, problem.index(problem.start))
    for _, state in path:
        assert brute_ok(problem, *state)
        cp, nodes, idx = state
        changed = (cp != before[0]) + (nodes != before[1]) + sum(a != b for a, b in zip(idx, before[2], strict=True))
        assert changed == 1
        assert cp - before[0] in (0, 1) and nodes - before[1] in (0, 1)
        if cp != before[0]:
            assert before[0] == before[1], "the control plane moved while nodes lagged"
        before = state
    assert before == (problem.target_cp, problem.target_cp, problem.index(problem.target))


def test_a_control_plane_step_names_removed_apis_found_in_our_rendered_manifests(
    monkeypatch: pytest.MonkeyPatch, full_plan: dict[str, Any]
) -> None:
    removals = json.loads((ROOT / "upstream_facts/lifecycle/kubernetes-apis.json").read_text())["removals"]
    minors = {s["after"]["kubernetes"] for s in full_plan["steps"] if s["kind"] == "control-plane"}
    planted = next(r for r in removals if r["removed_in"] in minors)
    api = f"{planted['api_version']} {planted['kind']}"
    monkeypatch.setattr(upgrade_plan, "rendered_inventory", lambda: {OLDEST: [api]})
    data = upgrade_plan.plan(OLDEST, NEWEST)
    (step,) = [
        s for s in data["steps"] if s["kind"] == "control-plane" and s["after"]["kubernetes"] == planted["removed_in"]
    ]
    assert f"in our rendered manifests: {api}" in step["prechecks"][0]
    others = [s for s in data["steps"] if s["kind"] == "control-plane" and s is not step]
    assert others and all(f"in our rendered manifests: {api}" not in s["prechecks"][0] for s in others)


def test_every_step_checks_its_own_state_for_removed_apis_or_says_it_was_not_rendered_offline(
    monkeypatch: pytest.MonkeyPatch, full_plan: dict[str, Any]
) -> None:
    removals = json.loads((ROOT / "upstream_facts/lifecycle/kubernetes-apis.json").read_text())["removals"]
    oldest = min(minor_number(s["after"]["kubernetes"]) for s in full_plan["steps"])
    planted = next(r for r in removals if minor_number(r["removed_in"]) <= oldest)
    api = f"{planted['api_version']} {planted['kind']}"
    monkeypatch.setattr(upgrade_plan, "rendered_inventory", lambda: {name: [api] for name in PROFILES})
    data = upgrade_plan.plan(OLDEST, NEWEST)
    assert [s["profile"]["rendered_offline"] for s in data["steps"]].count(True) > 0
    for step in data["steps"]:
        (line,) = [
            c for c in step["prechecks"] if c.startswith(f"APIs removed by Kubernetes {step['after']['kubernetes']}")
        ]
        if step["profile"]["rendered_offline"]:
            assert line.endswith(f": {api}"), line  # the planted removed API is found in every rendered state
        else:
            assert "not rendered offline" in line and api not in line
            unpinned = [
                f"{c} {v['version']}"
                for c, v in step["profile"]["charts"].items()
                if not any(p.charts[c].version == v["version"] for p in PROFILES.values())
            ]
            assert unpinned and all(u in line for u in unpinned)
    assert "not rendered offline" in upgrade_plan.markdown(full_plan)


def test_every_notes_link_in_the_playbook_is_an_upstream_address_a_fork_can_open() -> None:
    committed = (ROOT / "docs" / "upgrade-playbook.md").read_text()
    links = re.findall(r"(?:Read: |\()((?:https://|\.\./)[^\s)]+)", committed)
    assert links, "the playbook cites the upstream notes"
    assert [link for link in links if not link.startswith("https://github.com/")] == []

"""Shortest upgrade path as a search over platform states: each step changes one thing (control plane one minor,
the node group one minor, one component to one newer version) and every state satisfies every constraint."""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# A state: (control-plane minor, node-group minor, index of each component's version in its candidates).
State = tuple[int, int, tuple[int, ...]]


class NoPath(Exception):
    """No sequence of single-change steps through valid states reaches the target."""


@dataclass(frozen=True)
class Component:
    """A thing with versions: `candidates` ascending (start and target among them); `valid(version, minor)` says
    whether that version may run with the control plane at `minor`."""

    name: str
    candidates: tuple[str, ...]
    valid: Callable[[str, int], bool]


@dataclass(frozen=True)
class Problem:
    """Start and target control-plane and node minors, the components with their start and target versions,
    pairs (a, b) whose versions must keep a >= b by `order` (CRDs before their controller), the kubelet skew."""

    components: tuple[Component, ...]
    start_cp: int
    start_nodes: int
    start: tuple[str, ...]
    target_cp: int
    target: tuple[str, ...]
    max_skew: int = 3
    at_least: tuple[tuple[int, int], ...] = ()
    order: Callable[[str], tuple[int, ...]] = field(default=lambda v: (0,))

    def index(self, versions: Sequence[str]) -> tuple[int, ...]:
        return tuple(c.candidates.index(v) for c, v in zip(self.components, versions, strict=True))

    def violations(self, state: State) -> list[str]:
        """What a state breaks, one phrase each (empty: valid)."""
        cp, nodes, idx = state
        out = []
        if nodes > cp:
            out.append(f"nodes 1.{nodes} newer than the control plane 1.{cp}")
        if cp - nodes > self.max_skew:
            out.append(f"nodes 1.{nodes} more than {self.max_skew} minors behind the control plane 1.{cp}")
        for comp, i in zip(self.components, idx, strict=True):
            if not comp.valid(comp.candidates[i], cp):
                out.append(f"{comp.name} {comp.candidates[i]} outside its range on 1.{cp}")
        for a, b in self.at_least:
            va, vb = self.components[a].candidates[idx[a]], self.components[b].candidates[idx[b]]
            if self.order(va) < self.order(vb):
                out.append(f"{self.components[a].name} {va} behind {self.components[b].name} {vb}")
        return out

    def moves(self, state: State) -> list[tuple[str, State]]:
        """Every single-change successor, in a fixed order: control plane, nodes, components newest first."""
        cp, nodes, idx = state
        out: list[tuple[str, State]] = []
        if cp < self.target_cp and nodes == cp:
            out.append(("control-plane", (cp + 1, nodes, idx)))
        if nodes < cp:
            out.append(("nodes", (cp, nodes + 1, idx)))
        goal = self.index(self.target)
        for n, (comp, i) in enumerate(zip(self.components, idx, strict=True)):
            for j in range(goal[n], i, -1):
                out.append((comp.name, (cp, nodes, (*idx[:n], j, *idx[n + 1 :]))))
        return [(name, s) for name, s in out if not self.violations(s)]

    def relaxed_hops(self, n: int, i: int, cp: int) -> int:
        """Fewest version changes component n needs from candidate i with the control plane at cp while the
        control plane walks to its target alone: a lower bound (other constraints dropped)."""
        return _relaxed(self, n)(i, cp)

    def heuristic(self, state: State) -> int:
        cp, nodes, idx = state
        hops = sum(self.relaxed_hops(n, i, cp) for n, i in enumerate(idx))
        return (self.target_cp - cp) + (self.target_cp - nodes) + hops


INF = 10**6


@functools.cache
def _relaxed(problem: Problem, n: int) -> Callable[[int, int], int]:
    comp = problem.components[n]
    goal = problem.index(problem.target)[n]
    size = len(comp.candidates)
    best: dict[int, list[int]] = {}
    for k in range(problem.target_cp, min(problem.start_cp, problem.target_cp) - 1, -1):
        stay = [
            (0 if i == goal else INF)
            if k == problem.target_cp
            else (best[k + 1][i] if comp.valid(comp.candidates[i], k + 1) else INF)
            for i in range(size)
        ]
        best[k] = [
            min(
                stay[i],
                1 + min((stay[j] for j in range(i + 1, size) if comp.valid(comp.candidates[j], k)), default=INF),
            )
            for i in range(size)
        ]
    return lambda i, cp: best[cp][i] if cp in best else INF


def search(problem: Problem) -> list[tuple[str, State]]:
    """The shortest list of (what changed, state after) from start to target (A* with an admissible bound;
    ties go to the deeper state, then to the order moves() lists them, so the plan is deterministic)."""
    start: State = (problem.start_cp, problem.start_nodes, problem.index(problem.start))
    goal: State = (problem.target_cp, problem.target_cp, problem.index(problem.target))
    broken = problem.violations(start)
    if broken:
        raise NoPath(f"the start state already breaks a constraint: {'; '.join(broken)}")
    if problem.target_cp < problem.start_cp or any(g < s for g, s in zip(goal[2], start[2], strict=True)):
        raise NoPath("the target is older than the start in the control plane or a component (no downgrades)")
    counter = itertools.count()
    frontier = [(problem.heuristic(start), 0, next(counter), start)]
    g_best = {start: 0}
    parent: dict[State, tuple[State, str]] = {}
    while frontier:
        _, neg_g, _, state = heapq.heappop(frontier)
        g = -neg_g
        if g > g_best.get(state, INF):
            continue
        if state == goal:
            path: list[tuple[str, State]] = []
            while state in parent:
                before, what = parent[state]
                path.append((what, state))
                state = before
            return path[::-1]
        for what, nxt in problem.moves(state):
            if g + 1 < g_best.get(nxt, INF):
                g_best[nxt] = g + 1
                parent[nxt] = (state, what)
                h = problem.heuristic(nxt)
                if h < INF:
                    heapq.heappush(frontier, (g + 1 + h, -(g + 1), next(counter), nxt))
    raise NoPath("no order of single-change steps keeps every state inside the data's ranges")

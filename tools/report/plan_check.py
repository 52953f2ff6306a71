"""Independent checker of an upgrade plan (JSON): every step changes one thing and every state satisfies every
constraint. It shares no code with the search (platform_checks/upgrade_search, compatibility): it reads the facts
and the rules itself, so a bug in one is not repeated in the other."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from platform_config.accepted_risks import ACCEPTED_RISKS
from platform_config.eks_rules import CONTROL_PLANE_STEP, KUBELET_MAX_SKEW
from tools._paths import ROOT

FACTS = ROOT / "upstream_facts" / "lifecycle"
CRDS_OF = {"karpenter": "karpenter-crd"}


def _num(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", text.split("-", 1)[0])]


def _mnr(text: str) -> int:
    return _num(text)[1]


class Facts:
    """The lifecycle facts as the checker reads them."""

    def __init__(self, root: Path = FACTS) -> None:
        self.root = root
        self.cache: dict[str, dict[str, Any]] = {}

    def chart(self, chart: str) -> dict[str, Any]:
        if chart not in self.cache:
            data = json.loads((self.root / f"{chart}.json").read_text())
            self.cache[chart] = self.chart(data["same_as"]) if "same_as" in data else data
        return self.cache[chart]

    def allows(self, chart: str, version: str, cp: int) -> bool:
        data = self.chart(chart)
        rows = [r for r in data["versions"] if r["version"] == version]
        if not rows:
            return False
        row = rows[0]
        if row["kube_min"] and cp < _mnr(row["kube_min"]):
            return False
        if not data["ranges"]:
            return True
        app = _num(row["app_version"])
        entries = [r for r in data["ranges"] if _num(r["app"])[:2] == app[:2] and _num(r["since"]) <= app]
        if entries:
            entry = max(entries, key=lambda r: _num(r["since"]))
            if _mnr(entry["min"]) <= cp <= _mnr(entry["max"]):
                return True
        return any(r.chart == chart and _num(r.app) == app[:2] and _mnr(r.kubernetes) == cp for r in ACCEPTED_RISKS)

    def ami_builds(self, alias: str, cp: int) -> bool:
        releases = json.loads((self.root / "amazon-eks-ami.json").read_text())["releases"]
        release = alias.split("@", 1)[1]
        known = [r for r in sorted(releases) if r <= release]
        return bool(known) and f"1.{cp}" in releases[known[-1]]


def state_errors(state: dict[str, Any], facts: Facts) -> list[str]:
    cp, nodes = _mnr(state["kubernetes"]), _mnr(state["nodes"])
    errors = []
    if nodes > cp:
        errors.append(f"kubelet 1.{nodes} is newer than the API server 1.{cp}")
    if cp - nodes > KUBELET_MAX_SKEW:
        errors.append(f"kubelet 1.{nodes} is more than {KUBELET_MAX_SKEW} minors older than the API server 1.{cp}")
    for chart, version in sorted(state["charts"].items()):
        if not facts.allows(chart, version, cp):
            errors.append(f"{chart} {version} does not support Kubernetes 1.{cp}")
    if not facts.ami_builds(state["ami_alias"], cp):
        errors.append(f"AMI {state['ami_alias']} built no Kubernetes 1.{cp} image")
    for controller, crds in CRDS_OF.items():
        charts = state["charts"]
        if controller in charts and crds in charts and _num(charts[crds]) < _num(charts[controller]):
            errors.append(f"{controller} {state['charts'][controller]} runs ahead of its CRDs")
    return errors


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    out = [k for k in ("kubernetes", "nodes", "ami_alias") if before[k] != after[k]]
    out += sorted(
        c for c in set(before["charts"]) | set(after["charts"]) if before["charts"].get(c) != after["charts"].get(c)
    )
    return out


def check(plan: dict[str, Any], facts: Facts | None = None) -> list[str]:
    """Every problem of a plan, one line each (empty: the plan is proven against the data and the rules)."""
    facts = facts or Facts()
    errors = [f"start: {e}" for e in state_errors(plan["start"], facts)]
    before = plan["start"]
    for step in plan["steps"]:
        n, after = step["step"], step["after"]
        if step["before"] != before:
            errors.append(f"step {n}: does not start where step {n - 1} ended")
        changed = changes(before, after)
        if len(changed) != 1:
            errors.append(f"step {n}: changes {len(changed)} things ({', '.join(changed)}); one per step")
        if "kubernetes" in changed:
            if _mnr(after["kubernetes"]) - _mnr(before["kubernetes"]) != CONTROL_PLANE_STEP:
                errors.append(f"step {n}: control plane {before['kubernetes']} -> {after['kubernetes']}: one minor")
            if before["nodes"] != before["kubernetes"]:
                errors.append(f"step {n}: control plane moves while nodes are on {before['nodes']}")
        for field in ("nodes",):
            if field in changed and _mnr(after[field]) != _mnr(before[field]) + 1:
                errors.append(f"step {n}: nodes {before[field]} -> {after[field]}: one minor")
        for chart in changed:
            if chart in before["charts"] and _num(after["charts"][chart]) < _num(before["charts"][chart]):
                errors.append(f"step {n}: {chart} downgrades")
        errors += [f"step {n}: {e}" for e in state_errors(after, facts)]
        before = after
    if before != plan["target"]:
        errors.append(f"the last state is not the target: differs in {', '.join(changes(before, plan['target']))}")
    return errors


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print("usage: python -m tools.report.plan_check <plan.json>", file=sys.stderr)
        return 2
    errors = check(json.loads(Path(args[0]).read_text()))
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    if not errors:
        print(f"plan verified: every state satisfies every constraint ({args[0]})")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

"""`make upgrade-plan FROM=seed TO=current`: the shortest path between two platform states as a Markdown playbook
(for people) and JSON (for CI), both deterministic; one clear line when no path exists in the data."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path
from typing import Any

from platform_checks import compatibility as compat
from platform_checks.upgrade_search import Component, NoPath, Problem, search
from platform_config.addons import addons, version_key
from platform_config.eks_rules import KUBELET_MAX_SKEW, kubectl_layer, minor_number
from platform_config.upgrade_steps import PROSE_STEPS
from platform_config.versions import PROFILES, STEP_PROFILES_FILE
from tools._paths import ROOT
from tools.generate.rendered_apis import committed as rendered_inventory
from tools.report.cluster_state import ClusterError, load_context, read_state

AMI = compat.AMI_COMPONENT
CRD_CHART = {"karpenter": "karpenter-crd"}  # a controller and the chart that carries its CRDs
SHARED_PREFIX = "../shared/upstream/"  # where a notes file is when the derived facts hold no address for it
STEPS_SHOWN = STEP_PROFILES_FILE.relative_to(ROOT).as_posix()


def notes_link(source: str, anchor: str = "") -> str:
    """The notes file at its pinned upstream commit (upstream_facts/lifecycle/urls.json), else its offline copy."""
    urls = json.loads((compat.LIFECYCLE / "urls.json").read_text())
    return (urls.get(source) or f"{SHARED_PREFIX}{source}") + (f"#{anchor}" if anchor else "")


def platform_state(name: str) -> dict[str, Any]:
    """A profile as a plan state: control plane and nodes at its minor, its AMI alias, each chart's version."""
    if name not in PROFILES:
        raise SystemExit(f"error: FROM/TO={name!r} is not a profile; accepted: {', '.join(sorted(PROFILES))}, cluster")
    profile = PROFILES[name]
    charts = {c: profile.charts[c].version for c in dict.fromkeys(a.chart for a in addons(name))}
    version = profile.kubernetes.version
    return {"kubernetes": version, "nodes": version, "ami_alias": profile.ami_alias, "charts": charts}


def _chart_valid(chart: str) -> Any:
    @functools.cache
    def valid(version: str, cp: int) -> bool:
        minor = f"1.{cp}"
        if compat.documented_range(chart, version).admits(minor):
            return True
        return compat.risk_for(chart, compat.chart_row(chart, version)["app_version"], minor) is not None

    return valid


def chart_candidates(chart: str, start: str, target: str) -> tuple[str, ...]:
    """Start, target, and the newest version of each range class between them (same range, same app minor: any
    one of them is as good as another for the search, and the newest carries the most fixes)."""
    newest: dict[tuple[Any, ...], str] = {}
    lo, hi = version_key(start), version_key(target)
    for row in compat.chart_facts(chart)["versions"]:
        key = version_key(row["version"])
        if lo < key < hi:
            found = compat.documented_range(chart, row["version"])
            newest[(found.low, found.high, found.kind, compat.app_minor(row["app_version"]))] = row["version"]
    return tuple(sorted({start, target, *newest.values()}, key=version_key))


def ami_candidates(start: str, target: str) -> tuple[str, ...]:
    family = start.partition("@")[0]
    newest: dict[tuple[str, ...], str] = {}
    for release, built in compat.ami_facts()["releases"].items():
        alias = f"{family}@{release}"
        if start < alias < target:
            newest[tuple(built)] = alias
    return tuple(sorted({start, target, *newest.values()}))


def _ami_valid(alias: str, cp: int) -> bool:
    return f"1.{cp}" in compat.ami_release(alias)[1]


def build_problem(start: dict[str, Any], target: dict[str, Any]) -> Problem:
    charts = list(target["charts"])
    missing = sorted(set(charts) ^ set(start["charts"]))
    if missing:
        raise NoPath(f"start and target install different charts ({', '.join(missing)}); plan installs separately")
    components = [
        Component(c, chart_candidates(c, start["charts"][c], target["charts"][c]), _chart_valid(c)) for c in charts
    ]
    components.append(Component(AMI, ami_candidates(start["ami_alias"], target["ami_alias"]), _ami_valid))
    names = [c.name for c in components]
    at_least = tuple(
        (names.index(crd), names.index(ctl)) for ctl, crd in CRD_CHART.items() if ctl in names and crd in names
    )
    return Problem(
        components=tuple(components),
        start_cp=minor_number(start["kubernetes"]),
        start_nodes=minor_number(start["nodes"]),
        start=(*(start["charts"][c] for c in charts), start["ami_alias"]),
        target_cp=minor_number(target["kubernetes"]),
        target=(*(target["charts"][c] for c in charts), target["ami_alias"]),
        max_skew=KUBELET_MAX_SKEW,
        at_least=at_least,
        order=version_key,
    )


def as_state(problem: Problem, state: tuple[int, int, tuple[int, ...]]) -> dict[str, Any]:
    cp, nodes, idx = state
    versions = {c.name: c.candidates[i] for c, i in zip(problem.components, idx, strict=True)}
    alias = versions.pop(AMI)
    return {"kubernetes": f"1.{cp}", "nodes": f"1.{nodes}", "ami_alias": alias, "charts": versions}


# ---- what each step says ---------------------------------------------------------------------------------------


def _notes(chart: str, old: str, new: str) -> list[str]:
    """Every upstream notes section crossed between two versions (by app version where the notes speak of it)."""
    facts = compat.chart_facts(chart)
    by_app = bool(facts["ranges"]) and chart != "karpenter-crd"
    a, b = (compat.chart_row(chart, v)["app_version"] if by_app else v for v in (old, new))
    out: list[tuple[tuple[int, ...], str]] = []
    for note in facts["notes"]:
        if version_key(a) < version_key(note["to"]) <= version_key(b):
            out.append((version_key(note["to"]), notes_link(note["source"], note["anchor"])))
    return list(dict.fromkeys(text for _, text in sorted(out)))


def _crd_steps(chart: str, old: str, new: str) -> list[str]:
    facts = compat.chart_facts(chart)
    return [
        f"apply the chart's CRDs server-side first (kubectl apply --server-side): "
        f"{notes_link(note['source'], note['anchor'])}"
        for note in facts["notes"]
        if "crds-server-side" in note.get("steps", [])
        and version_key(old) < version_key(note["to"]) <= version_key(new)
    ]


def _prose(chart: str, old: str, new: str) -> list[str]:
    return [
        f"{s.kind}: {s.text} ({notes_link(s.source, s.anchor)})"
        for s in PROSE_STEPS
        if s.chart == chart and version_key(old) < version_key(s.to) <= version_key(new)
    ]


def _removed_apis(minor: str, *, by: bool = False) -> list[str]:
    """`<apiVersion> <kind>` Pluto's data removes in `minor` (or in `minor` or earlier, with by=True)."""
    data = json.loads((compat.LIFECYCLE / "kubernetes-apis.json").read_text())
    key = minor_number(minor)
    return [
        f"{e['api_version']} {e['kind']}"
        for e in data["removals"]
        if (minor_number(e["removed_in"]) <= key if by else e["removed_in"] == minor)
    ]


def state_apis_check(after: dict[str, Any], sources: dict[str, list[str]]) -> str:
    """Every step's removed-API pre-check on its own state: Pluto's removals up to the step's minor against the
    render gate's output of the profiles that pin this state's chart versions; a state with a chart version no
    profile pins was not rendered offline, and the line says which and what to run instead."""
    minor = after["kubernetes"]
    missing = [f"{c} {v}" for c, v in after["charts"].items() if not sources.get(c)]
    if missing:
        return (
            f"APIs removed by Kubernetes {minor}: not rendered offline (no chart archive or derived facts here for "
            f"{', '.join(missing)}); run pluto on `helm template` of those charts before this step"
        )
    profiles = sorted({sources[c][0] for c in after["charts"]})
    hits = sorted(set(_removed_apis(minor, by=True)) & rendered_apis(*profiles))
    return (
        f"APIs removed by Kubernetes {minor} (Pluto data) in the rendered manifests of {', '.join(profiles)} "
        f"(the profiles pinning this state's chart versions): {', '.join(hits) if hits else 'none found'}"
    )


def rendered_apis(*profiles: str) -> set[str]:
    """`<apiVersion> <kind>` the render gate produced for these profiles (platform_config/rendered_apis.json)."""
    inventory = rendered_inventory()
    return {api for name in profiles for api in inventory.get(name, [])}


def describe(kind: str, before: dict[str, Any], after: dict[str, Any], used_apis: set[str]) -> dict[str, Any]:
    """What to change, the pre-checks, the notes to read and what to verify, for one step."""
    if kind == "control-plane":
        minor = after["kubernetes"]
        removed = _removed_apis(minor)
        hits = sorted(a for a in removed if a in used_apis)
        return {
            "change": f"control plane {before['kubernetes']} -> {minor}",
            "prechecks": [
                f"APIs removed in {minor} (Pluto data): {', '.join(removed) if removed else 'none'}; "
                f"in our rendered manifests: {', '.join(hits) if hits else 'none found'}",
                "aws eks list-insights --cluster-name <cluster>: no UPGRADE_READINESS insight in ERROR",
            ],
            "notes": [f"{compat.LIFECYCLE.relative_to(ROOT)}/kubernetes-apis.json"],
            "verify": [f"aws eks describe-cluster --name <cluster> --query cluster.version  # {minor}"],
        }
    if kind == "nodes":
        return {
            "change": f"system node group {before['nodes']} -> {after['nodes']}",
            # The node group's Version follows the profile: the control-plane step's deploy already applies this
            # one; the command is the same change by hand (and what to run for a cluster built before that).
            "command": "part of the control-plane step's make deploy (the system node group's Version and "
            "ReleaseVersion follow the profile); by hand: aws eks update-nodegroup-version --cluster-name <cluster> "
            f"--nodegroup-name <system group> --kubernetes-version {after['nodes']}",
            "prechecks": ["kubectl get pdb -A: every stateful workload on the drained nodes has a PodDisruptionBudget"],
            "notes": [],
            "verify": [f"kubectl get nodes -o wide: every system node on v{after['nodes']}"],
        }
    if kind == AMI:
        return {
            "change": f"AMI alias {before['ami_alias']} -> {after['ami_alias']} (Karpenter EC2NodeClass)",
            "prechecks": [f"{after['ami_alias']} built Kubernetes {after['kubernetes']} (amazon-eks-ami CHANGELOG)"],
            "notes": [f"{compat.LIFECYCLE.relative_to(ROOT)}/amazon-eks-ami.json"],
            "verify": ["kubectl get nodeclaims: drifted nodes replaced, none left on the old AMI"],
        }
    old, new = before["charts"][kind], after["charts"][kind]
    crd_chart = CRD_CHART.get(kind)
    crd_check = [f"{crd_chart} already at {new} (CRDs before the controller)"] if crd_chart else []
    return {
        "change": f"{kind} {old} -> {new}",
        "prechecks": [*crd_check, *_crd_steps(kind, old, new), *_prose(kind, old, new)],
        "notes": _notes(kind, old, new),
        "verify": [f"{kind} {new} healthy: helm status, or its Argo CD Application Synced and Healthy"],
    }


def pinning_profiles(chart: str, version: str) -> list[str]:
    """The release profiles that pin this chart at this version (none for a version only a step uses)."""
    return sorted(n for n, p in PROFILES.items() if chart in p.charts and p.charts[chart].version == version)


def plan(
    from_name: str, to_name: str, start: dict[str, Any] | None = None, target: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The plan as data: start, target and every step (what changed, the state after, its generated profile).
    `start`/`target` replace the named profiles' states (a running cluster, or a state inside another plan)."""
    start = start or platform_state(from_name)
    target = target or platform_state(to_name)
    problem = build_problem(start, target)
    path = search(problem)
    pinned = {(c, p.charts[c].version) for p in PROFILES.values() for c in p.charts}
    pinning = {pin: pinning_profiles(*pin) for pin in pinned}
    repos = {c: pin.repository for p in PROFILES.values() for c, pin in p.charts.items()}
    used_apis = rendered_apis(*(n for n in (from_name, to_name) if n in PROFILES))
    steps, before = [], start
    for n, (what, state) in enumerate(path, 1):
        after = as_state(problem, state)
        offline = all((c, v) in pinned for c, v in after["charts"].items())
        name = f"{from_name}-to-{to_name}-step-{n:02d}"
        profile = {
            "name": name,
            "kubernetes": after["kubernetes"],
            "kubectl_layer_package": kubectl_layer(after["kubernetes"]),
            "ami_alias": after["ami_alias"],
            "charts": {c: {"version": v, "repository": repos[c]} for c, v in after["charts"].items()},
            "rendered_offline": offline,
        }
        step: dict[str, Any] = {"step": n, "kind": what, "before": before, "after": after, "profile": profile}
        step |= describe(what, before, after, used_apis)
        sources = {c: pinning.get((c, v), []) for c, v in after["charts"].items()}
        step["prechecks"] = [*step["prechecks"], state_apis_check(after, sources)]
        steps.append(step)
        before = after
    return {"from": from_name, "to": to_name, "start": start, "target": target, "steps": steps}


# Charts whose configuration lives in the GitOps content Argo CD syncs (their Applications, or Kyverno's guardrail
# policies in infra/overlays/<profile>/policies): an upgrade step deploys one profile's GitOps paths, so these must
# all come from that profile for the step to be built.
GITOPS_BOUND = ("kyverno",)


def step_profiles(data: dict[str, Any]) -> dict[str, Any]:
    """The plan's intermediate states as generated release profiles (platform_config/step_profiles.json): each
    chart's version with the hand-written profile that pins it (whose facts and values serve it), the profile
    whose GitOps paths it deploys, and why it cannot be built offline (empty: it can)."""
    argocd = {a.chart for a in addons(installer="argocd")} | set(GITOPS_BOUND)
    out: dict[str, Any] = {}
    for step in data["steps"][:-1] if data["steps"] else []:  # the last state is the target profile itself
        profile = step["profile"]
        charts, reasons = {}, []
        for chart, pin in profile["charts"].items():
            pinning = pinning_profiles(chart, pin["version"])
            charts[chart] = pin | {"source": pinning[0] if pinning else ""}
            if not pinning:
                reasons.append(f"{chart} {pin['version']}")
        gitops = sorted({charts[c]["source"] for c in charts if c in argocd and charts[c]["source"]})
        if not reasons and len(gitops) != 1:
            reasons.append(f"GitOps content of no single profile ({', '.join(gitops)})")
        out[profile["name"]] = {
            "step": step["step"],
            "change": step["change"],
            "kubernetes": profile["kubernetes"],
            "kubectl_layer_package": profile["kubectl_layer_package"],
            "ami_alias": profile["ami_alias"],
            "charts": charts,
            "gitops": gitops[0] if len(gitops) == 1 else "",
            "not_pinned": reasons,
        }
    return out


def step_profiles_text(data: dict[str, Any]) -> str:
    header = {
        "generated_by": f"python -m tools.report.upgrade_plan --from {data['from']} --to {data['to']} --write-profiles",
        "note": "generated: never edit by hand; make synth RELEASE=<name> builds a step whose not_pinned is empty",
    }
    return json.dumps(header | {"steps": step_profiles(data)}, indent=1, sort_keys=True) + "\n"


def markdown(data: dict[str, Any]) -> str:
    s, t = data["start"], data["target"]
    lines = [
        f"# Upgrade playbook: {data['from']} -> {data['to']}",
        "",
        "Generated by `python -m tools.report.upgrade_plan --from {0} --to {1} > docs/upgrade-playbook.md` (what "
        "`make upgrade-plan FROM={0} TO={1}` prints), kept fresh by a test; do not edit by hand.".format(
            data["from"], data["to"]
        ),
        "",
        f"From Kubernetes {s['kubernetes']} (nodes {s['nodes']}) to {t['kubernetes']} in {len(data['steps'])} steps."
        " Each step changes one thing; every state between steps is inside the upstream data's ranges or an "
        "accepted risk (platform_config/accepted_risks.py), and tools/report/plan_check.py verifies it independently.",
        "",
        "How to apply a step: each step's profile (below) is a generated release profile "
        "(platform_config/step_profiles.json, `python -m tools.report.upgrade_plan --write-profiles`): `make synth "
        "RELEASE=<step profile>` then `make deploy RELEASE=<step profile>`, so every hop goes through a CDK deploy "
        "(each chart reads the upstream facts and values of the profile that pins its version). A step marked *not "
        "rendered offline* uses a chart version no profile pins, whose archive and facts the repository does not "
        "hold: `make synth` refuses it with one line naming those charts; pin them in a profile first (`make "
        "derive`, `make charts`), or apply that step's one change by hand. "
        "Every step's state is checked for APIs Pluto's data removes by its Kubernetes minor in the render gate's "
        "output (platform_config/rendered_apis.json) of the profiles that pin its chart versions; a step not "
        "rendered offline says so in that pre-check and names the charts to check with pluto by hand.",
        "",
    ]
    for step in data["steps"]:
        p = step["profile"]
        lines += [f"## Step {step['step']}: {step['change']}", ""]
        offline = "" if p["rendered_offline"] else " (not rendered offline)"
        charts = ", ".join(f"{c} {v['version']}" for c, v in p["charts"].items())
        lines.append(
            f"- Profile `{p['name']}`{offline}: Kubernetes {p['kubernetes']} ({p['kubectl_layer_package']}), "
            f"AMI {p['ami_alias']}, {charts}"
        )
        if "command" in step:
            lines.append(f"- Command: `{step['command']}`")
        lines += [f"- Pre-check: {c}" for c in step["prechecks"]]
        lines += [f"- Read: {n}" for n in step["notes"]]
        lines += [f"- Verify: {v}" for v in step["verify"]]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from", dest="from_", default="seed", help="a profile name (or cluster)")
    parser.add_argument("--to", default="current", help="a profile name")
    parser.add_argument("--json", type=Path, help="also write the plan as JSON to this file")
    parser.add_argument("--format", choices=("md", "json"), default="md", help="what to print")
    parser.add_argument("--context", type=Path, default=ROOT / "cdk.json", help="FROM=cluster: cdk.json to read")
    parser.add_argument(
        "--write-profiles", action="store_true", help=f"write the steps as release profiles to {STEPS_SHOWN}"
    )
    parser.add_argument("--check-profiles", action="store_true", help=f"fail if {STEPS_SHOWN} is not this plan's")
    args = parser.parse_args(argv)
    start = None
    if args.from_ == "cluster":
        try:
            start, insights = read_state(load_context(args.context))
        except ClusterError as err:
            print(f"error: cluster: {err}", file=sys.stderr)
            return 1
        for name in insights:
            print(f"warning: EKS upgrade insight in ERROR: {name} (aws eks list-insights)", file=sys.stderr)
    try:
        data = plan(args.from_, args.to, start=start)
    except NoPath as err:
        print(f"error: no upgrade path from {args.from_} to {args.to}: {err}", file=sys.stderr)
        return 1
    except (KeyError, ValueError) as err:  # a version or alias the data does not hold (a cluster running it)
        print(f"error: {err.args[0]}", file=sys.stderr)
        return 1
    if args.write_profiles or args.check_profiles:
        profiles = step_profiles_text(data)
        if args.check_profiles:
            if not STEP_PROFILES_FILE.is_file() or STEP_PROFILES_FILE.read_text() != profiles:
                print(f"error: {STEPS_SHOWN} is not this plan's steps; run {json.loads(profiles)['generated_by']}")
                return 1
            print(f"{STEPS_SHOWN} is this plan's steps ({len(step_profiles(data))} step profiles)")
            return 0
        STEP_PROFILES_FILE.write_text(profiles)
        print(f"wrote {len(step_profiles(data))} step profiles to {STEPS_SHOWN}", file=sys.stderr)
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if args.json:
        args.json.write_text(text)
    print(markdown(data) if args.format == "md" else text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

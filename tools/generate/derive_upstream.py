"""Derive upstream_facts/ (schemas, key trees, IAM facts, pins; no upstream prose) from the upstream files locked in
upstream_facts/sources.json (../shared/upstream is an offline cache; else a clone or the raw URL at the commit)."""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from platform_config import yaml_load
from platform_config.addons import Addon, addon, addons
from platform_config.versions import PROFILES, ReleaseProfile
from tools._paths import ROOT
from tools.generate.derive_lifecycle import LIFECYCLE, derive_lifecycle
from tools.generate.derive_pricing import PRICING_DIR, derive_pricing
from tools.generate.upstream_sources import (
    LOCK,
    MIRRORS,
    Entry,
    Fetcher,
    LockedTree,
    Origin,
    Upstream,
    UpstreamError,
    load_lock,
)

DEFAULT_SHARED = ROOT.parent / "shared" / "upstream"
OUT = ROOT / "upstream_facts"

# Where each add-on's files sit in the pinned upstream data is the registry's (platform_config/addons.py): its
# chart folder, the CRDs it provides (by the first chart version that has them) and whether it takes values.
CFN_DIR = "website/content/en/preview/getting-started/getting-started-with-karpenter"
# The load balancer controller's reference policy, at the controller tag of the chart's appVersion.
LBC_RELEASE = "aws-load-balancer-controller"
LBC_POLICY = "aws-load-balancer-controller/docs/install/iam_policy.json"


def value_addons(profile: ReleaseProfile) -> list[Addon]:
    """One add-on per chart the profile installs with values (karpenter-crd takes none), in registry order."""
    seen: dict[str, Addon] = {}
    for record in addons(profile.name):
        if record.takes_values:
            seen.setdefault(record.chart, record)
    return list(seen.values())


def crd_files(src: Upstream, profile: ReleaseProfile) -> list[tuple[str, str]]:
    """(source CRD file `<upstream>-<version>/<path>`, facts name) of one profile: each add-on's CRDs at its pin. A
    file may hold several CRDs (the load balancer controller's crds.yaml): the name picks one."""
    out = []
    for record in addons(profile.name):
        for crd in record.crds_at(profile):
            candidates = [f"{record.upstream_dir(profile)}/{path}" for path in crd.paths]
            found = next((rel for rel in candidates if src.has(rel)), None)
            if found is None:
                raise UpstreamError(
                    f"{record.release}: CRD {crd.name} is in none of {candidates} upstream; "
                    "fix its paths in platform_config/addons.py"
                )
            out.append((found, crd.name))
    return out


def cfn_file(profile: ReleaseProfile) -> str:
    return f"{addon('karpenter').upstream_dir(profile)}/{CFN_DIR}/cloudformation.yaml"


# JSON-schema annotation keywords that carry prose, not structure.
PROSE_KEYS = {"description", "title", "example", "examples", "$comment"}
# Keywords whose value is a map of name -> subschema (so their keys are field names, never keywords).
SCHEMA_MAPS = {"properties", "patternProperties", "definitions", "$defs", "dependentSchemas"}
# Keywords whose value is one subschema (or a list of them).
SCHEMA_ONE = {"items", "additionalProperties", "additionalItems", "not", "if", "then", "else", "contains"}
SCHEMA_LIST = {"allOf", "anyOf", "oneOf", "prefixItems"}
# Keywords whose value is data, kept verbatim even when it is a map.
DATA_KEYS = {"default", "const", "enum"}


def strip_schema(node: Any) -> Any:
    """Return a copy of a JSON schema with prose annotations removed, keeping every structural keyword.

    Walks by keyword so that a *field* called `description` (AppProject has one) survives while the
    `description` annotation of every schema node goes.
    """
    if isinstance(node, bool) or not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in PROSE_KEYS:
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: strip_schema(sub) for name, sub in value.items()}
        elif key in SCHEMA_ONE:
            out[key] = [strip_schema(v) for v in value] if isinstance(value, list) else strip_schema(value)
        elif key in SCHEMA_LIST and isinstance(value, list):
            out[key] = [strip_schema(v) for v in value]
        elif isinstance(value, dict) and key not in DATA_KEYS and not key.startswith("x-kubernetes-"):
            # An unknown keyword holding a subschema (opentelemetry-collector 0.170's schema nests
            # `logs: {enabled: {description, type}}` without `properties`): strip its prose too.
            out[key] = strip_schema(value)
        else:
            # enums, patterns, required, x-kubernetes-* markers and CEL rules are kept verbatim
            out[key] = value
    return out


def _load_yaml(text: str) -> Any:
    return yaml_load.safe_load(text)  # libyaml makes the 1 MB Kyverno CRDs fast


@lru_cache(maxsize=64)
def _crds_by_name(text: str) -> dict[str, Any]:
    """The CRDs of a file's text by `<group>_<plural>`, parsed once per text (a file of many CRDs is read for each;
    callers only read them). Room for every CRD file of both profiles, so a process that derives again (the
    suite's fetch and bump tests) parses none of them twice."""
    # Argo CD ships CRDs as Helm templates; dropping template lines leaves the plain CRD (see MANIFEST.md).
    text = "\n".join(line for line in text.splitlines() if "{{" not in line)
    docs = [d for d in yaml_load.safe_load_all(text) if d and d.get("kind") == "CustomResourceDefinition"]
    return {f"{d['spec']['group']}_{d['spec']['names']['plural']}": d for d in docs}


def derive_crd(text: str, name: str | None = None) -> tuple[str, dict[str, Any]]:
    """The facts of the CRD `name` (`<group>_<plural>`) in a file's text; a one-CRD file needs no name."""
    by_name = _crds_by_name(text)
    if name is None and len(by_name) == 1:
        (crd,) = by_name.values()
    elif name in by_name:
        crd = by_name[name]
    else:
        raise UpstreamError(f"no CRD {name!r} among {sorted(by_name)}; fix its CrdSource in platform_config/addons.py")
    spec = crd["spec"]
    versions: dict[str, Any] = {}
    for version in spec["versions"]:
        if not version.get("served"):
            continue
        versions[version["name"]] = {
            "served": True,
            "storage": bool(version.get("storage")),
            "deprecated": bool(version.get("deprecated", False)),
            "schema": strip_schema(version["schema"]["openAPIV3Schema"]),
        }
    names = spec["names"]
    fact = {
        "group": spec["group"],
        "kind": names["kind"],
        "plural": names["plural"],
        "scope": spec["scope"],
        "versions": versions,
    }
    return f"{spec['group']}_{names['plural']}", fact


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    raise TypeError(f"unexpected YAML value type {type(value).__name__}")


def key_tree(value: Any) -> dict[str, Any]:
    """Nested tree: {"type": ..., "keys": {name: subtree}} for maps, {"type": ...} otherwise.

    Nested (not dotted paths) because chart keys contain dots (argo-cd `configs.params."server.insecure"`).
    A map whose default is `{}` gets "free_form": true: its keys are the user's, not the chart's.
    """
    kind = _type_of(value)
    node: dict[str, Any] = {"type": kind}
    if kind == "map":
        if not value:
            node["free_form"] = True
        else:
            node["keys"] = {str(k): key_tree(v) for k, v in value.items()}
    return node


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags (!Sub, !GetAtt, !Ref, !Join, ...)."""


def _cfn_constructor(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        problem = f"unexpected node for !{tag_suffix}"
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if name == "Fn::GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_constructor)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _cfn_str(value: Any) -> Any:
    """`!Sub "x"` -> "x"; `!GetAtt A.B` -> "${A.B}"; `!Ref A` -> "${A}" (the pattern, as in a Sub string)."""
    if isinstance(value, dict) and len(value) == 1:
        ((name, arg),) = value.items()
        if name == "Fn::Sub" and isinstance(arg, str):
            return arg
        if name == "Fn::GetAtt":
            return "${" + ".".join(arg) + "}"
        if name == "Ref":
            return "${" + arg + "}"
    return value


def _statement_facts(statement: dict[str, Any]) -> dict[str, Any]:
    fact: dict[str, Any] = {
        "effect": statement["Effect"],
        "actions": sorted(_as_list(statement["Action"])),
        "resources": [_cfn_str(r) for r in _as_list(statement.get("Resource", []))],
        "conditions": {
            op: {key: (sorted(v) if isinstance(v, list) else v) for key, v in sorted(cond.items())}
            for op, cond in sorted(statement.get("Condition", {}).items())
        },
    }
    if "Principal" in statement:
        principal = statement["Principal"]
        if isinstance(principal, dict):
            principal = {k: sorted(_as_list(_cfn_str(v))) for k, v in principal.items()}
        fact["principal"] = principal
    return fact


def derive_cfn(text: str, path: str) -> dict[str, Any]:
    template = yaml.load(text, Loader=CfnLoader)  # CfnLoader is a SafeLoader
    resources: dict[str, Any] = template["Resources"]
    out: dict[str, Any] = {
        "parameters": sorted(template.get("Parameters", {})),
        "resources": {name: res["Type"] for name, res in sorted(resources.items())},
        "controller_policies": {},
        "event_rules": {},
    }
    for name, res in sorted(resources.items()):
        props = res.get("Properties", {})
        rtype = res["Type"]
        if rtype == "AWS::IAM::ManagedPolicy":
            doc = props["PolicyDocument"]
            # The reference writes policies as !Sub'd JSON strings; ${...} placeholders stay as patterns.
            doc = json.loads(doc["Fn::Sub"]) if isinstance(doc, dict) and "Fn::Sub" in doc else doc
            statements = {s["Sid"]: _statement_facts(s) for s in doc["Statement"]}
            if len(statements) != len(doc["Statement"]):
                raise SystemExit(f"{path}: {name} Sids are not unique; facts are keyed by Sid")
            # Karpenter 1.0 has one controller policy; 1.14 splits it into six (same Sid namespace).
            out["controller_policies"][name] = {
                "name": _cfn_str(props.get("ManagedPolicyName")),
                # The reference's statement order: constructs_lib/karpenter_iam.py writes the policy in it.
                "sids": [s["Sid"] for s in doc["Statement"]],
                "statements": statements,
                "actions": sorted({a for s in statements.values() for a in s["actions"]}),
            }
        elif rtype == "AWS::IAM::Role":
            arns = [_cfn_str(a) for a in props.get("ManagedPolicyArns", [])]
            trust = props["AssumeRolePolicyDocument"]["Statement"]
            out["node_role"] = {
                "resource": name,
                "managed_policy_arns": arns,
                "managed_policies": sorted(a.rsplit("/", 1)[-1] for a in arns),
                "trust": [_statement_facts(s) for s in trust],
            }
        elif rtype == "AWS::SQS::Queue":
            out["interruption_queue"] = {
                "resource": name,
                "MessageRetentionPeriod": props.get("MessageRetentionPeriod"),
                "SqsManagedSseEnabled": props.get("SqsManagedSseEnabled"),
            }
        elif rtype == "AWS::SQS::QueuePolicy":
            out["interruption_queue_policy"] = {
                "resource": name,
                "statements": [
                    dict(_statement_facts(s), sid=s.get("Sid")) for s in props["PolicyDocument"]["Statement"]
                ],
            }
        elif rtype == "AWS::Events::Rule":
            pattern = props["EventPattern"]
            out["event_rules"][name] = {
                "source": sorted(pattern["source"]),
                "detail-type": sorted(pattern["detail-type"]),
                "targets": sorted(_cfn_str(t["Arn"]) for t in props.get("Targets", [])),
            }
    sids = [sid for policy in out["controller_policies"].values() for sid in policy["statements"]]
    if len(sids) != len(set(sids)):
        raise SystemExit(f"{path}: controller policy Sids repeat across policies; facts are keyed by Sid")
    # The reference's policy order (its resources in template order), so our managed policies follow it.
    out["controller_policy_order"] = [n for n, r in resources.items() if r["Type"] == "AWS::IAM::ManagedPolicy"]
    out["controller_actions"] = sorted({a for p in out["controller_policies"].values() for a in p["actions"]})
    return out


def lbc_policy_facts(controller_version: str) -> str:
    """Where, under upstream_facts/<profile>/, the controller's reference policy of that version lives."""
    return f"{LBC_RELEASE}/iam_policy-{controller_version}.json"


def derive_iam_policy(text: str, controller_version: str) -> dict[str, Any]:
    """The reference IAM policy's statements in upstream order (effect, actions, resources, conditions)."""
    doc = json.loads(text)
    statements = [_statement_facts(s) for s in doc["Statement"]]
    return {"controller_version": controller_version, "version": doc.get("Version"), "statements": statements}


def derive_pins(src: Upstream, profile: ReleaseProfile) -> dict[str, Any]:
    pins: dict[str, Any] = {}
    for record in sorted(value_addons(profile), key=lambda a: a.chart):
        chart, rel = record.chart, record.chart_dir(profile)
        meta = _load_yaml(src.text(f"{rel}/Chart.yaml"))
        pins[chart] = {
            "name": meta["name"],
            "version": str(meta["version"]),
            "appVersion": str(meta.get("appVersion", "")),
            "dependencies": [
                {k: str(d[k]) for k in ("name", "version", "repository", "condition") if k in d}
                for d in meta.get("dependencies") or []
            ],
        }
    return pins


def nearest_notice(src: Upstream, rel: str) -> str | None:
    """The folder of the NOTICE nearest to a source file: its top folder's, or (a folder holding two repositories,
    the load balancer controller's) the NOTICE of the repository folder beneath it."""
    parts = rel.split("/")
    for folder in ("/".join(parts[:1]), "/".join(parts[:2]))[: 2 if len(parts) > 2 else 1]:
        if src.has(f"{folder}/NOTICE"):
            return folder
    return None


def notice_text(src: Upstream, used: dict[str, list[str]]) -> str:
    lines = [
        "upstream_facts/ - derived facts from pinned upstream files",
        "",
        "Generated by tools/generate/derive_upstream.py from the upstream files locked in upstream_facts/sources.json",
        "(each pinned by commit and git blob id). Do not edit by hand: run `make derive` to regenerate,",
        "`python -m tools.generate.derive_upstream --check` to verify.",
        "",
        "These files are derived facts only: CRD schema structure (types, required fields, enums,",
        "patterns, x-kubernetes-* markers, CEL validation rules and their short messages), Helm values",
        "key lists with the type of each default, the default values of the two charts that ship a",
        "values.schema.json (needed to validate merged values the way Helm does), values schemas, IAM",
        "action/condition/resource lists, event patterns and chart version pins. Upstream prose",
        "(descriptions, titles, examples, comments) is removed.",
        "",
        "One folder per release profile (upstream_facts/<profile>/, see platform_config/versions.py).",
        "Each source is licensed under the Apache License 2.0 by its authors.",
    ]
    notices: dict[str, list[str]] = {}
    for profile in sorted(used):
        lines += ["", f"Sources of the {profile} profile:", ""]
        for rel in sorted(used[profile]):
            row = src.entry(rel)
            lines.append(f"- {row.repo} @ {row.ref} ({row.commit}): {row.path} [{row.license}]")
            notice_dir = nearest_notice(src, rel)
            if notice_dir is not None:
                text = src.text(f"{notice_dir}/NOTICE").strip()
                notices.setdefault(text, []).append(notice_dir)
    # Apache-2.0 section 4(d): a source's NOTICE file travels with derivative works.
    for text, dirs in notices.items():
        projects = sorted({re.sub(r"-[0-9.]+(?=/|$)", "", d) for d in dirs})
        versions = ", ".join(sorted(set(dirs)))
        lines += ["", f"The NOTICE file of {' and '.join(projects)} ({versions}) reads:", ""]
        lines += ["    " + line if line else "" for line in text.splitlines()]
    return "\n".join(lines).rstrip() + "\n"


def dump(obj: Any, compact: bool = False) -> str:
    """Sorted keys and fixed separators make output byte-stable; small files are indented for review."""
    if compact:
        # CRD schemas nest deeply: indentation would triple Kyverno's size for no reviewable gain.
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    return json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def derive_profile(src: Upstream, profile: ReleaseProfile) -> tuple[dict[str, str], list[str]]:
    """({path under upstream_facts/<profile>/: content}, source files used) for one release profile."""
    files: dict[str, str] = {}
    used: list[str] = []
    for rel, crd_name in crd_files(src, profile):
        name, fact = derive_crd(src.text(rel), crd_name)
        files[f"crds/{name}.json"] = dump(fact, compact=True)
        used.append(rel)
    for record in value_addons(profile):
        chart, rel = record.chart, record.chart_dir(profile)
        values = _load_yaml(src.text(f"{rel}/values.yaml")) or {}
        files[f"values/{chart}.keys.json"] = dump({"chart": chart, "tree": key_tree(values)})
        used += [f"{rel}/values.yaml", f"{rel}/Chart.yaml"]
        if src.has(f"{rel}/values.schema.json"):
            files[f"values/{chart}.schema.json"] = dump(strip_schema(json.loads(src.text(f"{rel}/values.schema.json"))))
            # Helm validates the schema against defaults merged with user values: the defaults are needed.
            files[f"values/{chart}.defaults.json"] = dump(values)
            used.append(f"{rel}/values.schema.json")
    files["karpenter/reference-cfn.json"] = dump(derive_cfn(src.text(cfn_file(profile)), cfn_file(profile)))
    used.append(cfn_file(profile))
    pins = derive_pins(src, profile)
    for record in addons(profile.name):
        if record.release == LBC_RELEASE:
            version = pins[record.chart]["appVersion"]
            rel = f"{record.upstream_dir(profile)}/{LBC_POLICY}"
            files[lbc_policy_facts(version)] = dump(derive_iam_policy(src.text(rel), version))
            used.append(rel)
    files["chart_pins.json"] = dump(pins)
    return files, sorted(set(used))


def derive(src: Upstream, committed: Path = OUT) -> dict[str, str]:
    """Return {relative output path: file content} for everything in upstream_facts/ (every profile, lifecycle/ and
    pricing/); `committed` (upstream_facts/) gives the two values that are no upstream file when ../shared is absent:
    the chart version table made from tags and the Spot Advisor feed's date."""
    files: dict[str, str] = {}
    used: dict[str, list[str]] = {}
    for name, profile in sorted(PROFILES.items()):
        profile_files, used[name] = derive_profile(src, profile)
        files.update({f"{name}/{rel}": content for rel, content in profile_files.items()})
    files["NOTICE"] = notice_text(src, used)
    # The upgrade planner's compatibility data and the cost plan's price tables read their upstream files through
    # the same lock (fetched at their commit when ../shared is absent), listed by name rather than by folder.
    tree = LockedTree(src)
    files.update(derive_lifecycle(tree, committed))
    files.update(derive_pricing(tree, dump, committed))
    return files


def mirror_origin(name: str, locked: dict[str, Entry]) -> Origin:
    """Where a lifecycle/ or pricing/ name (`<folder>/<repo short name>/<ref>/<path>`, MANIFEST.md's layout) lives:
    the repository a locked file of the same short name comes from, at the ref its folder names (a new tag's files,
    say after a Karpenter bump, are then locked without ../shared; a folder named by a short commit resolves only
    where ../shared holds it)."""
    parts = name.split("/", 3)
    if len(parts) < 4:
        raise UpstreamError(f"{name}: not <folder>/<repository>/<ref>/<path>")
    same = [
        e
        for e in locked.values()
        if len(e.file.split("/")) > 3 and e.file.split("/")[0] in MIRRORS and e.file.split("/")[1] == parts[1]
    ]
    if not same:
        raise UpstreamError(f"{name}: no locked file of {parts[1]!r} names its repository; add it with ../shared")
    return Origin(repo=same[0].repo, ref=parts[2], path=parts[3], license=same[0].license)


def origin(name: str, locked: dict[str, Entry] | None = None) -> Origin:
    """Where a local upstream name (`<upstream>-<version>/<path>`) lives upstream: the registry's source of the
    add-on whose pinned folder it is in, at the ref of that pin (the chart ref for files of a chart folder); for
    lifecycle/ and pricing/, see mirror_origin (`locked`: the lock's files, by default upstream_facts/'s)."""
    if name.split("/", 1)[0] in (LIFECYCLE, PRICING_DIR):
        return mirror_origin(name, load_lock()[0] if locked is None else locked)
    for profile in PROFILES.values():
        records = [a for a in addons(profile.name) if name.startswith(a.upstream_dir(profile) + "/")]
        sources = [a for a in records if a.source is not None]
        if not sources:
            continue
        source = sources[0].source
        assert source is not None
        path = name.split("/", 1)[1]
        # A folder of several repositories: the one whose subfolder holds the file (paths are relative to it).
        for candidate in (source, *sources[0].more_sources):
            if candidate.folder and path.startswith(candidate.folder + "/"):
                source, path = candidate, path.removeprefix(candidate.folder + "/")
                break
        version = sources[0].pin(profile).version
        in_chart = any(name.startswith(a.chart_dir(profile) + "/") for a in records)
        ref = (source.chart_ref if in_chart and source.chart_ref else source.tag).format(version=version)
        return Origin(repo=source.repo, ref=ref, path=path, license=source.license)
    raise UpstreamError(f"{name}: no add-on in platform_config/addons.py has this pinned upstream folder")


def _derived(path: Path, out: Path) -> bool:
    """Every file under upstream_facts/ is derived but the lock of its sources (an input, reviewed by hand)."""
    return path.is_file() and path.relative_to(out).as_posix() != LOCK.name


def write(files: dict[str, str], out: Path) -> None:
    for old in sorted(out.rglob("*")) if out.exists() else []:
        if _derived(old, out) and old.relative_to(out).as_posix() not in files:
            old.unlink()  # a fact no longer derived must not linger
    for rel, content in sorted(files.items()):
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)


def check(files: dict[str, str], out: Path) -> list[str]:
    """Differences between a fresh derivation and the committed upstream_facts/."""
    problems = []
    existing = {p.relative_to(out).as_posix() for p in out.rglob("*") if _derived(p, out)}
    for rel in sorted(existing - set(files)):
        problems.append(f"{rel}: committed but no longer derived")
    for rel, content in sorted(files.items()):
        path = out / rel
        if not path.exists():
            problems.append(f"{rel}: missing (derivation produces it)")
        elif path.read_text() != content:
            diff = difflib.unified_diff(
                path.read_text().splitlines(), content.splitlines(), "committed", "derived", n=1, lineterm=""
            )
            problems.append(f"{rel}: differs\n" + "\n".join(list(diff)[:20]))
    return problems


def _clone_arg(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or name.count("/") != 1 or not Path(path).is_dir():
        raise argparse.ArgumentTypeError(f"--git {text!r}: accepted is OWNER/NAME=DIR of an existing clone")
    return name, Path(path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="offline cache: path to shared/upstream")
    parser.add_argument("--out", type=Path, default=OUT, help=argparse.SUPPRESS)
    parser.add_argument("--lock-file", type=Path, default=LOCK, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, default=None, help="download cache (default .upstream-cache/)")
    parser.add_argument("--check", action="store_true", help="fail if upstream_facts/ or its lock is not up to date")
    parser.add_argument(
        "--update-lock",
        action="store_true",
        help="lock the upstream files of new pins (from ../shared, a clone or the raw URL) and drop unused ones",
    )
    parser.add_argument(
        "--git", type=_clone_arg, action="append", default=[], metavar="OWNER/NAME=DIR", help="a local clone"
    )
    parser.add_argument("--raw-base", default=None, help="raw file base URL: <base>/<owner>/<name>/<commit>/<path>")
    parser.add_argument("--git-base", default=None, help="git remote base for resolving tags: <base>/<owner>/<name>")
    parser.add_argument("--offline", action="store_true", help="never use the network (../shared, cache, clones)")
    return parser.parse_args(argv)


def fetcher_of(args: argparse.Namespace) -> Fetcher:
    fetcher = Fetcher(
        shared=args.shared if (args.shared / "MANIFEST.md").is_file() else None,
        clones=dict(args.git),
        offline=args.offline,
    )
    if args.cache is not None:
        fetcher.cache = args.cache
    if args.raw_base:
        fetcher.raw_base = args.raw_base
    if args.git_base:
        fetcher.git_base = args.git_base
    return fetcher


def run(args: argparse.Namespace, src: Upstream) -> int:
    files = derive(src, args.out)
    where = "the locked upstream files"
    if args.check:
        problems = check(files, args.out)
        problems += [f"{LOCK.name}: {name} is locked but no longer read" for name in src.stale()]
        if problems:
            print(f"upstream_facts/ is stale vs {where}; run `make derive`", file=sys.stderr)
            print("\n".join(problems), file=sys.stderr)
            return 1
        print(f"upstream_facts/ matches a fresh derivation from {where} ({len(files)} files)")
        return 0
    if args.update_lock:
        src.write_lock()
        for name in src.added:
            if name in src.made:
                print(f"locked {name}: made by ../shared from upstream tags, blob {src.made[name]['blob']} (review it)")
                continue
            entry = src.files[name]
            print(f"locked {name}: {entry.repo} {entry.commit[:12]} blob {entry.blob} (review it)")
    write(files, args.out)
    if src.fetcher.shared is None:
        print("kept as committed (no ../shared/upstream): the chart version rows and the Spot Advisor data date")
    total = sum(len(c.encode()) for c in files.values())
    print(f"wrote {len(files)} files, {total} bytes, to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.check and args.update_lock:
        print("error: --check and --update-lock exclude each other", file=sys.stderr)
        return 2
    src = Upstream(fetcher_of(args), origin, update=args.update_lock, lock_path=args.lock_file)
    src.origin = lambda name: origin(name, src.files)  # a new lifecycle/pricing tag: its repo from the lock
    try:
        return run(args, src)
    except UpstreamError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

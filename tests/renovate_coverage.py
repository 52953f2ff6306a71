"""Renovate's custom managers and package rules applied offline, and the pins they must find, found independently.

Renovate writes regexes in JavaScript syntax (`(?<name>...)`); they are translated to Python's `(?P<name>...)`
and applied to the files each manager's managerFilePatterns select, as Renovate's regex manager does (no flags;
every match of every matchString, strategy "any"). The expected pins come from parsing the files themselves (the
versions module's AST, the GitOps YAML), never from the patterns, so a pin that no pattern sees is reported.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_config import yaml_load

# Named groups Renovate's regex manager reads (docs: "Regex Manager Configuration").
FIELDS = ("depName", "packageName", "currentValue", "currentDigest", "datasource", "versioning", "depType")
FIELDS_ALL = (*FIELDS, "registryUrl", "extractVersion", "indentation")
# A pinned version literal in the versions module: "1.29", "1.2.3", "v2.10.20", "pkg==2.0.0", "al2023@v20240101".
VERSION = r"v?\d+(?:\.\d+)+(?:[-+][\w.-]+)?|v\d{8}"
# The profile that keeps the design's versions: its pins are annotated depType=seed and never upgraded.
FROZEN_PROFILE = "seed"
PIN_LITERAL = re.compile(rf"^(?:[\w.-]+(?:==|@))?(?P<version>{VERSION})$")


def js_to_python(pattern: str) -> str:
    """A Renovate (JavaScript) regex in Python syntax: named groups only; lookbehinds are left alone."""
    return re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern)


def file_pattern(pattern: str) -> re.Pattern[str]:
    """A managerFilePatterns entry; only the /regex/ form is used here (globs would need minimatch)."""
    assert pattern.startswith("/") and pattern.endswith("/"), f"use the /regex/ form: {pattern}"
    return re.compile(js_to_python(pattern[1:-1]))


@dataclass(frozen=True)
class Dep:
    """One dependency a custom manager extracts: where its version sits and what Renovate will look up."""

    manager: int
    file: str
    line: int
    depName: str
    currentValue: str
    datasource: str
    packageName: str = ""
    registryUrl: str = ""
    depType: str = ""
    versioning: str = ""

    @property
    def package(self) -> str:
        """What matchPackageNames compares: packageName, else depName."""
        return self.packageName or self.depName


def manager_files(manager: dict[str, Any], files: dict[str, str]) -> list[str]:
    patterns = [file_pattern(p) for p in manager["managerFilePatterns"]]
    return sorted(name for name in files if any(p.search(name) for p in patterns))


def extract(config: dict[str, Any], files: dict[str, str]) -> list[Dep]:
    """Every dependency the config's custom regex managers extract from files (path -> text)."""
    deps = []
    for index, manager in enumerate(config.get("customManagers", [])):
        assert manager["customType"] == "regex", manager
        assert manager.get("matchStringsStrategy", "any") == "any", "only the default strategy is modelled"
        for name in manager_files(manager, files):
            text = files[name]
            for pattern in manager["matchStrings"]:
                for match in re.finditer(js_to_python(pattern), text):
                    groups = {k: v for k, v in match.groupdict().items() if v is not None}
                    unknown = set(groups) - set(FIELDS_ALL)
                    assert not unknown, f"matchStrings capture groups Renovate does not read: {unknown}"
                    value: dict[str, str] = {}
                    for field in (*FIELDS, "registryUrl"):
                        template = manager.get(f"{field}Template", "")
                        assert "{{" not in template, "templates are not modelled: write literal values"
                        value[field] = groups.get(field, template)
                    deps.append(
                        Dep(
                            manager=index,
                            file=name,
                            line=text.count("\n", 0, match.start("currentValue")) + 1,
                            depName=value["depName"],
                            currentValue=value["currentValue"],
                            datasource=value["datasource"],
                            packageName=value["packageName"],
                            registryUrl=value["registryUrl"],
                            depType=value["depType"],
                            versioning=value["versioning"],
                        )
                    )
    return deps


# ---- the pins, found without the patterns ---------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    """A pinned version at one place: file and line, what it pins, the version and its release profile."""

    file: str
    line: int
    name: str
    version: str
    registry: str = ""
    profile: str = ""


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _call_name(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")


def _chart_pin_args(call: ast.Call) -> dict[str, ast.expr]:
    """ChartPin(chart, repository, version) by name, positional or keyword."""
    named = dict(zip(("chart", "repository", "version"), call.args, strict=False))
    named.update({k.arg: k.value for k in call.keywords if k.arg})
    return named


class _Module:
    """The versions module's constants and the chart context of each version literal."""

    def __init__(self, tree: ast.Module) -> None:
        self.constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        self.skipped = _docstring_nodes(tree)
        self.charts: dict[int, tuple[str, str]] = {}  # version literal -> (chart, repository)
        self.profile: dict[int, str] = {}  # literal -> name of the ReleaseProfile it sits in
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                self._dict(node)
            elif isinstance(node, ast.Call):
                self._call(node)

    def value(self, node: ast.expr | None) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return str(self.constants.get(node.id, "")) if isinstance(node, ast.Name) else ""

    def _dict(self, node: ast.Dict) -> None:
        self.skipped.update(id(k) for k in node.keys if k is not None)
        # name: (repository, version), the shape the profiles' chart tables use.
        for key, entry in zip(node.keys, node.values, strict=True):
            if isinstance(entry, ast.Tuple) and len(entry.elts) == 2 and "://" in self.value(entry.elts[0]):
                self.charts[id(entry.elts[1])] = (self.value(key), self.value(entry.elts[0]))

    def _call(self, node: ast.Call) -> None:
        if _call_name(node) == "ChartPin":
            args = _chart_pin_args(node)
            self.charts[id(args.get("version"))] = (self.value(args.get("chart")), self.value(args.get("repository")))
        if _call_name(node) == "ReleaseProfile":
            name = self.value(next((k.value for k in node.keywords if k.arg == "name"), None))
            for inner in ast.walk(node):
                self.profile[id(inner)] = name


def versions_module_pins(name: str, source: str) -> list[Pin]:
    """Every pinned version literal in the versions module.

    A pin is a string literal that is a version, `package==version` or `alias@version`. Not pins: docstrings,
    dict keys (they name a pin). A fact of another pin's release (a chart's appVersion, the kubectl in a layer) is
    derived, never typed here: typed, it would be a version literal without an annotation and fail coverage.
    """
    tree = ast.parse(source)
    module = _Module(tree)
    pins = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in module.skipped:
            match = PIN_LITERAL.match(node.value)
            if match:
                package = node.value.partition("==")[0] if "==" in node.value else ""  # a pinned requirement
                pin_name, registry = module.charts.get(id(node), (package, ""))
                profile = module.profile.get(id(node), "")
                pins.append(Pin(name, node.lineno, pin_name, match["version"], registry, profile))
    return sorted(pins, key=lambda p: p.line)


def _walk(node: Any) -> Any:
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        yield from _walk(child)


def _applications(files: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, doc)
        for name, text in files.items()
        for doc in yaml_load.safe_load_all(text)
        if isinstance(doc, dict) and doc.get("kind") == "Application"
    ]


def gitops_pins(files: dict[str, str]) -> dict[str, list[Pin]]:
    """Per file: Helm charts of Argo CD Applications, `image: name:tag` strings and image maps (repository, tag).

    An Application that pins its chart inline holds repoURL, chart and targetRevision; a profile overlay
    (`<tree>/overlays/<profile>/`) patches only targetRevision into the base Application of the same name.
    """
    charts = {
        doc["metadata"]["name"]: (doc["spec"]["source"]["chart"], doc["spec"]["source"]["repoURL"])
        for _, doc in _applications(files)
        if "chart" in doc.get("spec", {}).get("source", {})
    }
    pins: dict[str, list[Pin]] = {name: [] for name in files}
    for name, doc in _applications(files):
        source = doc.get("spec", {}).get("source", {})
        if "targetRevision" in source and "path" not in source:  # a git source's revision is no chart pin
            chart, repository = charts.get(doc["metadata"]["name"], ("?", "?"))
            pins[name].append(Pin(name, 0, source.get("chart", chart), str(source["targetRevision"]), repository))
    for name, text in files.items():
        for doc in yaml_load.safe_load_all(text):
            for node in _walk(doc):
                image = node.get("image") if isinstance(node, dict) else None
                if isinstance(image, str) and ":" in image.split("@")[0].rsplit("/", 1)[-1]:
                    repository, tag = image.split("@")[0].rsplit(":", 1)
                    pins[name].append(Pin(name, 0, repository, tag))
                pins[name] += _image_map_pins(name, node)
    return pins


def _image_map_pins(name: str, node: Any) -> list[Pin]:
    """A chart's image as a map with `repository` and `tag` (and an optional `registry` before the repository)."""
    if not isinstance(node, dict) or not isinstance(node.get("repository"), str) or not node.get("tag"):
        return []
    registry = node.get("registry")
    repository = f"{registry}/{node['repository']}" if isinstance(registry, str) and registry else node["repository"]
    return [Pin(name, 0, repository, str(node["tag"]).split("@")[0])]


def coverage_problems(config: dict[str, Any], versions: dict[str, str], gitops: dict[str, str]) -> list[str]:
    """Each pin not matched by exactly one custom manager with the right name and version, and each stray match."""
    problems = []
    deps = extract(config, versions | gitops)
    for file, source in versions.items():
        found = [d for d in deps if d.file == file]
        pins = versions_module_pins(file, source)
        for pin in pins:
            hits = [d for d in found if d.line == pin.line and d.currentValue == pin.version]
            if len(hits) != 1:
                problems.append(f"{file}:{pin.line}: pin {pin.version} matched by {len(hits)} rules, expected 1")
            for dep in hits:
                if pin.name and pin.name != dep.depName:
                    problems.append(f"{file}:{pin.line}: annotation names {dep.depName}, the pin is {pin.name}")
                if pin.registry and pin.registry != _registry_of(dep):
                    problems.append(f"{file}:{pin.line}: annotation registry {_registry_of(dep)} != {pin.registry}")
                if (pin.profile == FROZEN_PROFILE) != (dep.depType == FROZEN_PROFILE):
                    problems.append(
                        f"{file}:{pin.line}: depType={FROZEN_PROFILE} is for the {FROZEN_PROFILE} profile's pins only"
                    )
        lines = {(p.line, p.version) for p in pins}
        problems += [
            f"{file}:{d.line}: {d.depName} {d.currentValue} is no pin"
            for d in found
            if (d.line, d.currentValue) not in lines
        ]
    for file, found_pins in gitops_pins(gitops).items():
        expected = Counter((p.name, p.version, p.registry) for p in found_pins)
        got = Counter((d.depName, d.currentValue, d.registryUrl) for d in deps if d.file == file)
        for key in expected | got:
            if expected[key] != got[key]:
                problems.append(f"{file}: {key[0]} {key[1]} pinned {expected[key]} time(s), matched {got[key]}")
    return problems


def _registry_of(dep: Dep) -> str:
    """The repository a ChartPin names, as the annotation gives it (OCI charts: the docker package's parent)."""
    if dep.datasource == "docker":
        return "oci://" + dep.package.rsplit("/", 1)[0]
    return dep.registryUrl


# ---- package rules --------------------------------------------------------------------------------------------


def _name_matches(patterns: list[str], name: str) -> bool:
    for pattern in patterns:
        if pattern.startswith("/") and pattern.endswith("/"):
            if re.search(js_to_python(pattern[1:-1]), name):
                return True
        elif pattern == "*" or pattern == name:
            return True
        else:
            assert not any(c in pattern for c in "*?{"), f"globs are not modelled: {pattern}"
    return False


def _glob(pattern: str) -> re.Pattern[str]:
    """A minimatch-style glob as a regex: `**` crosses directories, `*` does not."""
    parts = re.split(r"(\*\*/?|\*)", pattern)
    table = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*"}
    return re.compile("".join(table.get(part, re.escape(part)) for part in parts) + "$")


MATCHERS = {
    "matchFileNames": lambda rule, dep, manager: any(_glob(p).match(dep.file) for p in rule),
    "matchPackageNames": lambda rule, dep, manager: _name_matches(rule, dep.package),
    "matchDepNames": lambda rule, dep, manager: _name_matches(rule, dep.depName),
    "matchDatasources": lambda rule, dep, manager: dep.datasource in rule,
    "matchDepTypes": lambda rule, dep, manager: dep.depType in rule,
    "matchManagers": lambda rule, dep, manager: manager in rule,
}


def settings_for(
    config: dict[str, Any], dep: Dep, manager: str = "custom.regex", update_type: str | None = None
) -> dict[str, Any]:
    """The config's top-level settings with every matching packageRule applied in order (later rules win). A rule
    with matchUpdateTypes applies only to an update of one of those types (none without `update_type`: the
    dependency's own settings, before Renovate knows its updates)."""
    merged = {k: v for k, v in config.items() if k not in ("packageRules", "customManagers", "extends")}
    for rule in config.get("packageRules", []):
        conditions = {k: v for k, v in rule.items() if k.startswith("match") and k != "matchUpdateTypes"}
        assert set(conditions) <= set(MATCHERS), f"matchers not modelled: {set(conditions) - set(MATCHERS)}"
        if "matchUpdateTypes" in rule and update_type not in rule["matchUpdateTypes"]:
            continue
        if all(MATCHERS[k](v, dep, manager) for k, v in conditions.items()):
            for key, value in rule.items():
                if key.startswith("match") or key == "description":
                    continue
                merged[key] = merged.get(key, []) + value if key == "prBodyNotes" else value
    return merged


def read_files(root: Path, names: list[str]) -> dict[str, str]:
    return {name: (root / name).read_text() for name in names}

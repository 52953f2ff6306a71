"""renovate.json tracks every pin exactly once, groups what moves together, never automerges, and is valid config."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import re2

from platform_config import eks_rules, versions
from platform_config.addons import addons
from tests import renovate_coverage as rc
from tests.conftest import PROFILE_NAMES, ROOT

CONFIG = json.loads((ROOT / "renovate.json").read_text())
VERSIONS_MODULE = "platform_config/versions.py"
# The kubectl layers of the minors between the profiles are pinned beside EKS's rules, annotated the same way.
EKS_RULES_MODULE = "platform_config/eks_rules.py"
GITOPS = sorted(str(p.relative_to(ROOT)) for top in ("infra", "apps") for p in (ROOT / top).rglob("*.y*ml"))
# Helm values files: images set there explicitly (chart defaults are invisible to Renovate) are pins too.
HELM_VALUES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "helm_values").rglob("*.y*ml"))
MAKEFILE = (ROOT / "Makefile").read_text()
RENOVATE_VERSION = re.search(r"^RENOVATE_VERSION := (\S+)$", MAKEFILE, re.M)[1]  # type: ignore[index]
SCHEMA_PATH = ROOT / ".tools" / f"renovate-schema-{RENOVATE_VERSION}.json"


def renovate_schema() -> dict[str, Any]:
    assert SCHEMA_PATH.exists(), f"{SCHEMA_PATH.relative_to(ROOT)} missing: `make unit` fetches it (npm pack renovate)"
    return json.loads(SCHEMA_PATH.read_text())


def schema_problems(config: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """JSON-schema errors, plus options the schema does not declare (it allows extra keys; Renovate does not)."""
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(config)
    ]
    declared = set(schema["properties"]) | {"$schema"}
    problems += [f"unknown option {key}" for key in config if key not in declared]
    for section in ("packageRules", "customManagers"):
        item_options = set(schema["definitions"][section]["items"]["allOf"][0]["properties"])
        # A package rule also takes every general option (groupName, prBodyNotes, ...); the schema lists only
        # the options that exist solely inside rules.
        item_options |= declared if section == "packageRules" else set()
        for index, item in enumerate(config.get(section, [])):
            problems += [f"{section}[{index}]: unknown option {key}" for key in item if key not in item_options]
    return problems + validator_rules(config)


def validator_rules(config: dict[str, Any]) -> list[str]:
    """Rules renovate-config-validator applies that the JSON schema cannot express."""
    problems = []
    for index, rule in enumerate(config.get("packageRules", [])):
        if not any(key.startswith("match") for key in rule):
            problems.append(f"packageRules[{index}]: a package rule needs at least one match* selector")
    for index, manager in enumerate(config.get("customManagers", [])):
        groups = set(re.findall(r"\(\?<([A-Za-z]+)>", " ".join(manager.get("matchStrings", []))))
        if not manager.get("managerFilePatterns") or not manager.get("matchStrings"):
            problems.append(f"customManagers[{index}]: needs managerFilePatterns and matchStrings")
        for field in ("currentValue", "datasource"):
            if field not in groups and f"{field}Template" not in manager:
                problems.append(f"customManagers[{index}]: needs a {field} group or {field}Template")
        if not {"depName", "packageName"} & groups and not {"depNameTemplate", "packageNameTemplate"} & set(manager):
            problems.append(f"customManagers[{index}]: needs a depName or packageName group or template")
    return problems


def project_files() -> tuple[dict[str, str], dict[str, str]]:
    return rc.read_files(ROOT, [VERSIONS_MODULE, EKS_RULES_MODULE]), rc.read_files(ROOT, [*GITOPS, *HELM_VALUES])


# ---- schema ---------------------------------------------------------------------------------------------------


def test_schema_is_the_pinned_renovate_release() -> None:
    assert renovate_schema()["x-renovate-version"] == RENOVATE_VERSION


def test_renovate_json_validates_against_renovates_schema() -> None:
    assert schema_problems(CONFIG, renovate_schema()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.update(automerge="yes"), "automerge: 'yes' is not of type 'boolean'"),
        (lambda c: c.update(automerg=True), "unknown option automerg"),
        (lambda c: c["customManagers"][0].update(fileMatch=["x"]), "customManagers[0]: unknown option fileMatch"),
        (lambda c: c["packageRules"][0].update(matchPackagePatterns=["x"]), "unknown option matchPackagePatterns"),
        (lambda c: c["packageRules"].append({"enabled": False}), "needs at least one match* selector"),
        (lambda c: c["customManagers"][1].pop("datasourceTemplate"), "needs a datasource group or datasourceTemplate"),
    ],
    ids=[
        "wrong-type",
        "typo",
        "removed-fileMatch",
        "removed-matchPackagePatterns",
        "rule-without-selector",
        "manager-without-datasource",
    ],
)
def test_schema_check_rejects_bad_config(change: Any, expected: str) -> None:
    broken = copy.deepcopy(CONFIG)
    change(broken)
    assert any(expected in problem for problem in schema_problems(broken, renovate_schema())), expected


def test_match_strings_compile_in_re2_like_renovate() -> None:
    # Renovate compiles matchStrings with RE2: no lookarounds or backreferences.
    patterns = [p for m in CONFIG["customManagers"] for p in m["matchStrings"]]
    assert patterns
    for pattern in patterns:
        re2.compile(rc.js_to_python(pattern))


# ---- coverage -------------------------------------------------------------------------------------------------


def test_every_pin_in_the_versions_module_and_gitops_content_is_matched_by_exactly_one_rule() -> None:
    versions_files, gitops_files = project_files()
    assert rc.coverage_problems(CONFIG, versions_files, gitops_files) == []


def test_the_pins_found_include_every_pin_of_every_profile_and_every_argocd_add_ons_overlay_pin() -> None:
    versions_files, gitops_files = project_files()
    pins = rc.versions_module_pins(VERSIONS_MODULE, versions_files[VERSIONS_MODULE])
    for name, profile in versions.PROFILES.items():
        found = {p.version for p in pins if p.profile == name}
        assert {pin.version for pin in profile.charts.values()} <= found, name
        layer = profile.kubernetes.kubectl_layer_package.split("==")[1]
        assert {profile.kubernetes.version, layer, profile.karpenter_version} <= found, name
        assert profile.ami_alias.split("@")[1] in found, name
    gitops = [pin for pins in rc.gitops_pins(gitops_files).values() for pin in pins]
    for name in versions.PROFILES:
        in_overlay = {(p.name, p.version) for p in gitops if f"/overlays/{name}/" in p.file}
        # Every chart an Argo CD add-on installs is pinned again in that profile's overlay, where Renovate sees it.
        argocd = {(a.chart, a.pin(versions.PROFILES[name]).version) for a in addons(name, installer="argocd")}
        assert argocd <= in_overlay, name


def test_every_intermediate_kubectl_layer_pin_is_found_and_tracked_by_renovate() -> None:
    versions_files, _ = project_files()
    pins = rc.versions_module_pins(EKS_RULES_MODULE, versions_files[EKS_RULES_MODULE])
    found = {(p.name, p.version) for p in pins}
    assert {tuple(package.split("==")) for package in eks_rules.INTERMEDIATE_KUBECTL_LAYERS} == found
    tracked = [d for d in all_deps() if d.file == EKS_RULES_MODULE]
    assert {(d.depName, d.currentValue) for d in tracked} == found
    for dep in tracked:  # grouped with the Kubernetes release, and never frozen like the seed profile
        assert rc.settings_for(CONFIG, dep).get("enabled", True) is True, dep
        assert rc.settings_for(CONFIG, dep)["groupName"] == "kubernetes release and kubectl layer", dep


# The fixtures below are texts in Renovate's patterns with versions no profile pins (the project's own pins are
# checked against versions.py by the coverage tests above).
MODULE = '''"""Pins."""
KARPENTER_VERSION = "9.0.1"
CHARTS = {
    # renovate: datasource=helm depName=argo-cd registryUrl=https://argoproj.github.io/argo-helm
    "argo-cd": ChartPin("argo-cd", "https://argoproj.github.io/argo-helm", "9.0.2"),
    # renovate: datasource=helm depName=kyverno registryUrl=https://argoproj.github.io/argo-helm
    "jaeger": ChartPin("jaeger", "https://jaegertracing.github.io/helm-charts", "9.0.3"),
}
'''
APPLICATION = """kind: Application
metadata:
  name: jaeger
spec:
  source:
    chart: jaeger
    repoURL: https://jaegertracing.github.io/helm-charts
    targetRevision: 9.0.3
"""
OVERLAY = """kind: Application
metadata:
  name: jaeger
spec:
  source:
    targetRevision: 9.0.4
"""


def test_coverage_check_reports_unannotated_misnamed_and_unmatched_pins() -> None:
    gitops = {"infra/x/jaeger.yaml": APPLICATION, "infra/overlays/current/jaeger.yaml": OVERLAY}
    problems = rc.coverage_problems(CONFIG, {VERSIONS_MODULE: MODULE}, gitops)
    assert problems == [
        f"{VERSIONS_MODULE}:2: pin 9.0.1 matched by 0 rules, expected 1",
        f"{VERSIONS_MODULE}:7: annotation names kyverno, the pin is jaeger",
        f"{VERSIONS_MODULE}:7: annotation registry https://argoproj.github.io/argo-helm != "
        "https://jaegertracing.github.io/helm-charts",
        "infra/x/jaeger.yaml: jaeger 9.0.3 pinned 1 time(s), matched 0",
        "infra/overlays/current/jaeger.yaml: jaeger 9.0.4 pinned 1 time(s), matched 0",
    ]


TYPED_FACT = """CHARTS = {
    # renovate: datasource=helm depName=argo-cd registryUrl=https://argoproj.github.io/argo-helm
    "argo-cd": ("https://argoproj.github.io/argo-helm", "9.0.2", "v9.0.5"),
}
"""


def test_an_app_version_typed_beside_its_chart_pin_fails_coverage() -> None:
    # A chart's appVersion is derived from its Chart.yaml (upstream_facts/): typed here, a Renovate bump of the
    # pin would leave it behind, so the coverage check refuses it as a pin no rule updates.
    problems = rc.coverage_problems(CONFIG, {VERSIONS_MODULE: TYPED_FACT}, {})
    assert problems == [f"{VERSIONS_MODULE}:3: pin v9.0.5 matched by 0 rules, expected 1"]


SEED = """PROFILES = {
    "seed": ReleaseProfile(
        name="seed",
        # renovate: datasource=docker depName=karpenter packageName=public.ecr.aws/karpenter/karpenter
        karpenter_version="9.0.1",
    ),
    "current": ReleaseProfile(
        name="current",
        # renovate: datasource=docker depName=karpenter packageName=public.ecr.aws/karpenter/karpenter depType=seed
        karpenter_version="9.0.6",
    ),
}
"""


def test_coverage_check_reports_seed_markers_on_the_wrong_profile() -> None:
    assert rc.coverage_problems(CONFIG, {VERSIONS_MODULE: SEED}, {}) == [
        f"{VERSIONS_MODULE}:5: depType=seed is for the seed profile's pins only",
        f"{VERSIONS_MODULE}:10: depType=seed is for the seed profile's pins only",
    ]


def test_coverage_check_reports_a_pin_two_rules_match() -> None:
    doubled = copy.deepcopy(CONFIG)
    doubled["customManagers"].append(copy.deepcopy(CONFIG["customManagers"][0]))
    versions_files, _ = project_files()
    problems = rc.coverage_problems(doubled, versions_files, {})
    assert problems and all("matched by 2 rules" in p for p in problems)


def test_the_renovate_schema_pin_in_the_makefile_is_tracked() -> None:
    deps = rc.extract(CONFIG, {"Makefile": MAKEFILE})
    assert [(d.depName, d.datasource, d.currentValue) for d in deps] == [("renovate", "npm", RENOVATE_VERSION)]


# ---- built-in managers ----------------------------------------------------------------------------------------


def test_requirements_package_json_and_actions_are_exact_pins_for_the_built_in_managers() -> None:
    # pip_requirements reads requirements*.txt, npm reads package.json, github-actions the workflows: each
    # proposes an upgrade only for an exact pin. No custom manager reads these files (one rule per pin).
    all_files = {str(p.relative_to(ROOT)): "" for p in ROOT.glob("requirements*.txt")}
    all_files |= {"package.json": "", **{str(p.relative_to(ROOT)): "" for p in (ROOT / ".github/workflows").glob("*")}}
    assert all(not rc.manager_files(m, all_files) for m in CONFIG["customManagers"])
    for name in all_files:
        if name.startswith("requirements"):
            for line in (ROOT / name).read_text().splitlines():
                if line.strip() and not line.startswith(("#", "-r ")):
                    assert re.fullmatch(r"[A-Za-z0-9_.\[\],-]+==[^\s=<>~,;]+", line), (
                        f"{name}: not an exact pin: {line}"
                    )
    for dep, pin in json.loads((ROOT / "package.json").read_text())["devDependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", pin), f"package.json {dep}: not an exact pin: {pin}"
    for workflow in (ROOT / ".github/workflows").glob("*.y*ml"):
        for uses in re.findall(r"uses: (\S+.*)$", workflow.read_text(), re.M):
            # A tag (actions/checkout@v4) or a digest with its version as a comment (@<sha> # v4.2.2).
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v[\d.]+|[0-9a-f]{40} # v\d+\.\d+\.\d+)", uses), uses


# ---- rules ----------------------------------------------------------------------------------------------------


def all_deps() -> list[rc.Dep]:
    versions_files, gitops_files = project_files()
    return rc.extract(CONFIG, versions_files | gitops_files)


def test_nothing_is_ever_automerged() -> None:
    def automerge_values(node: Any) -> list[Any]:
        if isinstance(node, dict):
            own = [v for k, v in node.items() if "automerge" in k.lower() and k != "platformAutomerge"]
            return own + [x for v in node.values() for x in automerge_values(v)]
        return [x for v in node for x in automerge_values(v)] if isinstance(node, list) else []

    assert CONFIG["automerge"] is False
    assert automerge_values(CONFIG) == [False]
    assert all(rc.settings_for(CONFIG, dep)["automerge"] is False for dep in all_deps())


def test_a_kubernetes_release_moves_with_its_kubectl_layer() -> None:
    deps = {d.depName: d for d in all_deps()}
    layer_name = next(name for name in deps if name.startswith("aws-cdk.lambda-layer-kubectl-"))
    eks = rc.settings_for(CONFIG, deps["amazon-eks"])
    assert eks["groupName"] == rc.settings_for(CONFIG, deps[layer_name])["groupName"]
    # The same layer package in requirements.txt (pip_requirements) lands in the same group and branch.
    pip_layer = rc.Dep(-1, "requirements.txt", 0, layer_name, "0", "pypi")
    assert rc.settings_for(CONFIG, pip_layer, "pip_requirements")["groupName"] == eks["groupName"]
    assert any("lambda-layer-kubectl-vNN" in note for note in eks["prBodyNotes"])


def test_karpenter_and_karpenter_crd_are_one_group() -> None:
    karpenter = next(d for d in all_deps() if d.depName == "karpenter")
    crd = rc.Dep(-1, VERSIONS_MODULE, 0, "karpenter-crd", "0", "docker", "public.ecr.aws/karpenter/karpenter-crd")
    assert rc.settings_for(CONFIG, karpenter)["groupName"] == "karpenter"
    assert rc.settings_for(CONFIG, crd)["groupName"] == "karpenter"


def test_every_chart_pull_request_says_to_derive_facts_and_update_snapshots() -> None:
    charts = [d for d in all_deps() if d.datasource == "helm" or d.depName == "karpenter"]
    assert len(charts) >= 7
    for dep in charts:
        notes = " ".join(rc.settings_for(CONFIG, dep).get("prBodyNotes", []))
        assert "make derive" in notes and "make snapshot-update" in notes, dep.depName


def test_the_cdk_library_and_cli_move_together() -> None:
    lib = rc.Dep(-1, "requirements.txt", 0, "aws-cdk-lib", "0", "pypi")
    cli = rc.Dep(-1, "package.json", 0, "aws-cdk", "0", "npm")
    assert rc.settings_for(CONFIG, lib, "pip_requirements")["groupName"] == "aws-cdk"
    assert rc.settings_for(CONFIG, cli, "npm")["groupName"] == "aws-cdk"


def update_types() -> list[str]:
    """Every update type Renovate knows (the schema's enum for matchUpdateTypes)."""
    (array,) = [o for o in renovate_schema()["definitions"]["matchUpdateTypes"]["oneOf"] if o["type"] == "array"]
    return [t for alternative in array["items"]["anyOf"] for t in alternative.get("enum", [])]


def test_seed_profile_takes_no_update_but_its_images_first_digest_pin_and_every_other_pin_is_tracked() -> None:
    seed = rc.Dep(-1, VERSIONS_MODULE, 0, "argo-cd", "9.0.2", "helm", depType="seed")  # a version no profile pins
    assert rc.settings_for(CONFIG, seed)["enabled"] is False
    assert "pinDigest" in update_types() and "digest" in update_types()
    for dep in all_deps():
        frozen_pin = dep.depType == "seed"
        frozen_file = "/overlays/seed/" in dep.file or dep.file.startswith("helm_values/seed/")
        for update in update_types():
            # The seed profile keeps its versions (and a pinned digest: no 'digest' updates); its files' images
            # only gain the digest of the tag they have, so Renovate covers them like the current profile's.
            allowed = not (frozen_pin or frozen_file) or (frozen_file and not frozen_pin and update == "pinDigest")
            settings = rc.settings_for(CONFIG, dep, update_type=update)
            assert settings.get("enabled", True) is allowed, (dep, update)
        if frozen_file and dep.datasource == "docker":
            assert rc.settings_for(CONFIG, dep, update_type="pinDigest").get("pinDigests") is True, dep


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_a_profiles_kubectl_layer_in_requirements_follows_the_profiles_freeze(profile: str) -> None:
    package, version = versions.PROFILES[profile].kubernetes.kubectl_layer_package.split("==")
    assert f"{package}=={version}" in (ROOT / "requirements.txt").read_text().splitlines()
    pip_layer = rc.Dep(-1, "requirements.txt", 0, package, version, "pypi")
    enabled = rc.settings_for(CONFIG, pip_layer, "pip_requirements").get("enabled", True)
    assert enabled is (profile != rc.FROZEN_PROFILE)


def test_github_actions_are_pinned_by_digest() -> None:
    action = rc.Dep(-1, ".github/workflows/ci.yml", 0, "actions/checkout", "v4", "github-tags", depType="action")
    assert rc.settings_for(CONFIG, action, "github-actions")["pinDigests"] is True
    assert "helpers:pinGitHubActionDigestsToSemver" in CONFIG["extends"]


def test_gitops_files_are_read_by_the_gitops_managers() -> None:
    # Sanity of the file patterns themselves: the Application files are selected, nothing outside infra/apps is.
    managers = CONFIG["customManagers"]
    names = {*GITOPS, *HELM_VALUES, "tests/fixtures/policies/x.yaml", VERSIONS_MODULE, "Makefile"}
    names.add(EKS_RULES_MODULE)
    files = dict.fromkeys(names, "")
    image_maps = [m for m in managers if "# renovate: image" in m["matchStrings"][0]]
    image_strings = [m for m in managers if m["matchStrings"][0].startswith("image: ")]
    assert len(image_maps) == len(image_strings) == 1
    charts = [m for m in managers[1:] if m not in image_maps + image_strings]
    assert {name for m in charts for name in rc.manager_files(m, files)} == set(GITOPS)
    assert set(rc.manager_files(image_strings[0], files)) == {*GITOPS, *HELM_VALUES}
    # Images set in the values and overlays: every Helm values file and the profile overlays, nothing else.
    overlays = {g for g in GITOPS if "/overlays/" in g}
    assert set(rc.manager_files(image_maps[0], files)) == {*HELM_VALUES, *overlays}
    annotated = set(rc.manager_files(managers[0], dict.fromkeys(names, "")))
    assert annotated == {VERSIONS_MODULE, EKS_RULES_MODULE, "Makefile", *(g for g in GITOPS if "/overlays/" in g)}
    assert Path(ROOT / "infra").is_dir() and GITOPS

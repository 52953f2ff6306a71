"""upstream_facts/ holds the derived upstream facts later tests rely on, prose-free and fresh vs ../shared."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from platform_checks.upstream_facts import app_version, stale_pin
from platform_checks.values import check_values
from platform_config.addons import addons
from platform_config.versions import PROFILES
from tests.conftest import PROFILE_NAMES
from tools.generate import derive_pricing, derive_upstream
from tools.generate.upstream_sources import load_lock

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "upstream_facts"
SHARED = ROOT.parent / "shared" / "upstream"


def _json(rel: str, profile: str) -> Any:
    return json.loads((FACTS / profile / rel).read_text())


def _string_keys(node: Any, names: set[str], path: str = "") -> list[str]:
    """Paths where a key in `names` holds a string: a prose annotation, as opposed to a field schema."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in names and isinstance(value, str):
                found.append(f"{path}/{key}")
            found += _string_keys(value, names, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _string_keys(value, names, f"{path}[{i}]")
    return found


COMMON_CRDS = {
    # The load balancer controller's two kinds the platform uses, from its multi-document crds.yaml.
    "elbv2.k8s.aws_ingressclassparams": ("IngressClassParams", "Cluster", {"v1beta1"}),
    "elbv2.k8s.aws_targetgroupbindings": ("TargetGroupBinding", "Namespaced", {"v1alpha1", "v1beta1"}),
    "argoproj.io_applications": ("Application", "Namespaced", {"v1alpha1"}),
    "argoproj.io_appprojects": ("AppProject", "Namespaced", {"v1alpha1"}),
    "kyverno.io_clusterpolicies": ("ClusterPolicy", "Cluster", {"v1", "v2beta1"}),
    "kyverno.io_policies": ("Policy", "Namespaced", {"v1", "v2beta1"}),
    "monitoring.coreos.com_servicemonitors": ("ServiceMonitor", "Namespaced", {"v1"}),
    "monitoring.coreos.com_podmonitors": ("PodMonitor", "Namespaced", {"v1"}),
    "monitoring.coreos.com_prometheusrules": ("PrometheusRule", "Namespaced", {"v1"}),
}
EXPECTED_CRDS = {
    # Karpenter 1.0 still serves v1beta1 beside v1.
    "seed": COMMON_CRDS
    | {
        "karpenter.sh_nodepools": ("NodePool", "Cluster", {"v1", "v1beta1"}),
        "karpenter.sh_nodeclaims": ("NodeClaim", "Cluster", {"v1", "v1beta1"}),
        "karpenter.k8s.aws_ec2nodeclasses": ("EC2NodeClass", "Cluster", {"v1", "v1beta1"}),
    },
    # Karpenter 1.14 serves v1 only and ships two more CRDs; Kyverno 1.19 adds the policies.kyverno.io types.
    "current": COMMON_CRDS
    | {
        "karpenter.sh_nodepools": ("NodePool", "Cluster", {"v1"}),
        "karpenter.sh_nodeclaims": ("NodeClaim", "Cluster", {"v1"}),
        "karpenter.k8s.aws_ec2nodeclasses": ("EC2NodeClass", "Cluster", {"v1"}),
        "karpenter.sh_nodeoverlays": ("NodeOverlay", "Cluster", {"v1alpha1"}),
        "autoscaling.x-k8s.io_capacitybuffers": ("CapacityBuffer", "Namespaced", {"v1beta1"}),
        "policies.kyverno.io_validatingpolicies": ("ValidatingPolicy", "Cluster", {"v1", "v1alpha1", "v1beta1"}),
        "policies.kyverno.io_namespacedvalidatingpolicies": (
            "NamespacedValidatingPolicy",
            "Namespaced",
            {"v1", "v1beta1"},
        ),
        "policies.kyverno.io_policyexceptions": ("PolicyException", "Namespaced", {"v1", "v1alpha1", "v1beta1"}),
        # The image verification policies (constructs_lib/image_admission.py).
        "policies.kyverno.io_imagevalidatingpolicies": (
            "ImageValidatingPolicy",
            "Cluster",
            {"v1", "v1alpha1", "v1beta1"},
        ),
    },
}


def test_facts_hold_one_folder_per_release_profile_the_lifecycle_and_pricing_folders_one_notice_and_the_lock() -> None:
    assert sorted(p.name for p in FACTS.iterdir()) == sorted(
        ["NOTICE", "lifecycle", derive_pricing.PRICING_DIR, "sources.json", *PROFILE_NAMES]
    )


@pytest.mark.parametrize("profile", sorted(EXPECTED_CRDS))
def test_every_used_crd_is_derived_with_its_served_versions(profile: str) -> None:
    expected = EXPECTED_CRDS[profile]
    derived = {p.stem for p in (FACTS / profile / "crds").glob("*.json")}
    assert derived == set(expected), "ApplicationSet must stay out; every used CRD must be in"
    for stem, (kind, scope, versions) in expected.items():
        fact = _json(f"crds/{stem}.json", profile)
        assert (fact["kind"], fact["scope"], set(fact["versions"])) == (kind, scope, versions), stem


def test_crd_facts_keep_structure_enums_and_cel_rules(profile: str) -> None:
    spec = _json("crds/karpenter.sh_nodepools.json", profile)["versions"]["v1"]["schema"]["properties"]["spec"]
    policy = spec["properties"]["disruption"]["properties"]["consolidationPolicy"]
    assert policy["enum"][:2] == ["WhenEmpty", "WhenEmptyOrUnderutilized"]  # 1.14 adds Balanced
    assert "template" in spec["required"]
    budgets = spec["properties"]["disruption"]["properties"]["budgets"]
    assert budgets["x-kubernetes-validations"][0]["rule"].startswith("self.all(")


def test_no_prose_annotation_anywhere_in_upstream_facts() -> None:
    offenders = []
    for path in sorted(FACTS.rglob("*.json")):
        found = _string_keys(json.loads(path.read_text()), {"description", "title", "example", "examples"})
        offenders += [f"{path.relative_to(FACTS)}{p}" for p in found[:3]]
    assert offenders == []
    # the strip is schema-aware: AppProject's *field* named description survives as a field schema
    project = _json("crds/argoproj.io_appprojects.json", "seed")["versions"]["v1alpha1"]["schema"]
    assert project["properties"]["spec"]["properties"]["description"] == {"type": "string"}


def test_strip_schema_drops_annotations_and_keeps_fields_named_like_them() -> None:
    schema = {
        "description": "prose",
        "type": "object",
        "properties": {"description": {"description": "more prose", "type": "string", "enum": ["a"]}},
        "items": {"title": "t", "pattern": "^x$"},
        # a subschema under a keyword the schema misspells (opentelemetry-collector 0.170) loses its prose too,
        # while data keywords keep theirs
        "logs": {"enabled": {"description": "prose", "type": "boolean"}},
        "default": {"description": "data"},
    }
    assert derive_upstream.strip_schema(schema) == {
        "type": "object",
        "properties": {"description": {"type": "string", "enum": ["a"]}},
        "items": {"pattern": "^x$"},
        "logs": {"enabled": {"type": "boolean"}},
        "default": {"description": "data"},
    }


def test_reference_has_the_interruption_rules_from_aws_health_and_aws_ec2(profile: str) -> None:
    rules = _json("karpenter/reference-cfn.json", profile)["event_rules"]
    # The v1.0.14 reference defines 4 rules: scheduled change, spot, rebalance, state change; v1.14.1 adds
    # capacity-reservation interruptions (our queue has all five in both profiles).
    expected = {
        "ScheduledChangeRule": (["aws.health"], ["AWS Health Event"]),
        "SpotInterruptionRule": (["aws.ec2"], ["EC2 Spot Instance Interruption Warning"]),
        "RebalanceRule": (["aws.ec2"], ["EC2 Instance Rebalance Recommendation"]),
        "InstanceStateChangeRule": (["aws.ec2"], ["EC2 Instance State-change Notification"]),
    }
    if profile == "current":
        expected["CapacityReservationInterruptionRule"] = (
            ["aws.ec2"],
            ["EC2 Capacity Reservation Instance Interruption Warning"],
        )
    assert {name: (r["source"], r["detail-type"]) for name, r in rules.items()} == expected
    assert all(r["targets"] == ["${KarpenterInterruptionQueue.Arn}"] for r in rules.values())


def test_seed_reference_has_one_controller_policy_of_16_statements() -> None:
    policies = _json("karpenter/reference-cfn.json", "seed")["controller_policies"]
    assert {name: len(p["statements"]) for name, p in policies.items()} == {"KarpenterControllerPolicy": 16}
    pass_role = policies["KarpenterControllerPolicy"]["statements"]["AllowPassingInstanceRole"]
    assert pass_role["conditions"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    assert pass_role["resources"] == ["${KarpenterNodeRole.Arn}"]


def test_current_reference_splits_the_controller_policy_in_six_with_new_actions() -> None:
    ref = _json("karpenter/reference-cfn.json", "current")
    assert {name: len(p["statements"]) for name, p in ref["controller_policies"].items()} == {
        "NodeLifecyclePolicy": 6,
        "IAMIntegrationPolicy": 4,
        "EKSIntegrationPolicy": 1,
        "InterruptionPolicy": 1,
        "ZonalShiftPolicy": 1,
        "ResourceDiscoveryPolicy": 5,
    }
    seed = set(_json("karpenter/reference-cfn.json", "seed")["controller_actions"])
    current = set(ref["controller_actions"])
    assert current - seed == {
        "arc-zonal-shift:GetManagedResource",
        "ec2:DescribeCapacityReservations",
        "ec2:DescribeInstanceStatus",
        "ec2:DescribePlacementGroups",
        "iam:ListInstanceProfiles",
    }
    assert seed - current == {"ec2:DescribeAvailabilityZones"}


def test_reference_controller_policies_list_actions_with_their_conditions(profile: str) -> None:
    ref = _json("karpenter/reference-cfn.json", profile)
    statements = {sid: s for p in ref["controller_policies"].values() for sid, s in p["statements"].items()}
    assert {"ec2:CreateFleet", "iam:PassRole", "sqs:ReceiveMessage"} <= set(ref["controller_actions"])
    tagging = statements["AllowScopedResourceCreationTagging"]["conditions"]["StringEquals"]
    assert tagging["ec2:CreateAction"] == ["CreateFleet", "CreateLaunchTemplate", "RunInstances"]
    assert tagging["aws:RequestTag/kubernetes.io/cluster/${ClusterName}"] == "owned"


def test_reference_queue_and_node_role_facts(profile: str) -> None:
    ref = _json("karpenter/reference-cfn.json", profile)
    queue = ref["interruption_queue"]
    assert (queue["MessageRetentionPeriod"], queue["SqsManagedSseEnabled"]) == (300, True)
    deny = [s for s in ref["interruption_queue_policy"]["statements"] if s["effect"] == "Deny"]
    assert deny[0]["conditions"] == {"Bool": {"aws:SecureTransport": False}}
    ecr = {"seed": "AmazonEC2ContainerRegistryReadOnly", "current": "AmazonEC2ContainerRegistryPullOnly"}[profile]
    assert ref["node_role"]["managed_policies"] == [
        ecr,
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonSSMManagedInstanceCore",
    ]


def test_chart_pins_in_upstream_chart_yaml_are_the_profiles_pins(profile: str) -> None:
    pins = _json("chart_pins.json", profile)
    charts = PROFILES[profile].charts
    assert {c: p["version"] for c, p in pins.items()} == {c: charts[c].version for c in pins}
    assert [stale_pin(c, profile) for c in charts] == [None] * len(charts)
    # Every chart an add-on installs with values; a chart with no values (karpenter-crd) has no key tree either.
    assert set(pins) == {a.chart for a in addons(profile) if a.takes_values}


def test_a_pin_bump_with_stale_facts_fails_naming_the_chart_the_pin_and_make_derive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    current = PROFILES["current"]
    repo, _version = current.other_charts["kyverno"]
    other_charts = {**current.other_charts, "kyverno": (repo, "99.0.0")}
    bumped = dataclasses.replace(current, other_charts=other_charts, karpenter_version="99.1.0")
    monkeypatch.setitem(PROFILES, "current", bumped)
    errors = check_values("kyverno", {}, profile="current")  # what every values file of the release goes through
    assert len(errors) == 1 and "\n" not in errors[0]
    assert errors[0].startswith("upstream_facts/current/chart_pins.json: kyverno is pinned to 99.0.0 ")
    assert errors[0].endswith("run `make derive`")
    with pytest.raises(ValueError, match=r"karpenter is pinned to 99\.1\.0 .*run `make derive`$"):
        app_version("karpenter", "current")


def test_seed_demo_pins_the_collector_and_jaeger_versions_of_the_seed_profile() -> None:
    pins = _json("chart_pins.json", "seed")
    demo_deps = {d["name"]: d["version"] for d in pins["opentelemetry-demo"]["dependencies"]}
    seed = PROFILES["seed"].charts
    assert demo_deps["opentelemetry-collector"] == seed["opentelemetry-collector"].version
    assert demo_deps["jaeger"] == seed["jaeger"].version


def test_key_trees_mark_empty_default_maps_as_free_form(profile: str) -> None:
    tree = _json("values/karpenter.keys.json", profile)["tree"]["keys"]
    assert tree["podAnnotations"] == {"type": "map", "free_form": True}
    assert tree["replicas"] == {"type": "int"}
    assert "clusterName" in tree["settings"]["keys"]
    schemas = {p.name for p in (FACTS / profile / "values").glob("*.schema.json")}
    assert schemas == {"opentelemetry-collector.schema.json", "opentelemetry-demo.schema.json"}


def test_notice_names_every_locked_source_its_commit_and_licence() -> None:
    """The top NOTICE names the profiles' sources; lifecycle/ and pricing/ (their own folders) name theirs."""
    notice = (FACTS / "NOTICE").read_text()
    files, _absent = load_lock()
    mirrors = ("lifecycle/", "pricing/")
    line = "- {0.repo} @ {0.ref} ({0.commit}): {0.path} [{0.license}]".format
    sources = [e for name, e in files.items() if not name.endswith("/NOTICE") and not name.startswith(mirrors)]
    assert sorted(x for x in notice.splitlines() if x.startswith("- ")) == sorted(map(line, sources))
    for name, entry in files.items():
        folder = name.split("/", 1)[0]
        if name.startswith(mirrors):
            own = (FACTS / folder / "NOTICE").read_text()
            if name.endswith("/NOTICE"):  # Apache-2.0 section 4(d): each locked NOTICE file is quoted
                assert f"The NOTICE file of {'/'.join(name.split('/')[1:3])} reads:" in own, name
            else:
                assert line(entry) in own.splitlines(), name
        elif name.endswith("/NOTICE"):
            assert f"({folder}" in notice or f", {folder}" in notice, name
    for needle in ("Sources of the seed profile:", "Sources of the current profile:", "derived facts"):
        assert needle in notice, needle


def test_check_reports_stale_missing_and_leftover_facts(tmp_path: Path) -> None:
    files = {"a.json": "{}\n", "sub/b.json": "[]\n"}
    derive_upstream.write(files, tmp_path)
    assert derive_upstream.check(files, tmp_path) == []
    (tmp_path / "a.json").write_text('{"x": 1}\n')
    (tmp_path / "left.json").write_text("{}\n")
    (tmp_path / "sub" / "b.json").unlink()
    problems = derive_upstream.check(files, tmp_path)
    assert [p.splitlines()[0] for p in problems] == [
        "left.json: committed but no longer derived",
        "a.json: differs",
        "sub/b.json: missing (derivation produces it)",
    ]


def test_committed_facts_match_a_fresh_derivation_from_shared() -> None:
    if not (SHARED / "MANIFEST.md").exists():
        # .ci/run requires the data (the maintainers' CI has ../shared); a fork's CI and developers do not have
        # it, and GitHub sets CI=true for every workflow, so CI alone cannot decide.
        if os.environ.get("REQUIRE_UPSTREAM_DATA"):
            pytest.fail(f"REQUIRE_UPSTREAM_DATA is set but {SHARED} is missing: cannot prove upstream_facts/ is fresh")
        pytest.skip(f"{SHARED} is absent (a fork or a developer without the pinned upstream data)")
    result = subprocess.run(
        [sys.executable, "-m", "tools.generate.derive_upstream", "--check", "--shared", str(SHARED)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "matches a fresh derivation" in result.stdout

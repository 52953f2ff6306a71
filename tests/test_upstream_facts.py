"""upstream_facts/ holds the derived upstream facts later tests rely on, prose-free and fresh vs ../shared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools import derive_upstream

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "upstream_facts"
SHARED = ROOT.parent / "shared" / "upstream"


def _json(rel: str) -> Any:
    return json.loads((FACTS / rel).read_text())


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


def test_every_used_crd_is_derived_with_its_served_versions() -> None:
    expected = {
        "karpenter.sh_nodepools": ("NodePool", "Cluster", {"v1", "v1beta1"}),
        "karpenter.sh_nodeclaims": ("NodeClaim", "Cluster", {"v1", "v1beta1"}),
        "karpenter.k8s.aws_ec2nodeclasses": ("EC2NodeClass", "Cluster", {"v1", "v1beta1"}),
        "argoproj.io_applications": ("Application", "Namespaced", {"v1alpha1"}),
        "argoproj.io_appprojects": ("AppProject", "Namespaced", {"v1alpha1"}),
        "kyverno.io_clusterpolicies": ("ClusterPolicy", "Cluster", {"v1", "v2beta1"}),
        "kyverno.io_policies": ("Policy", "Namespaced", {"v1", "v2beta1"}),
        "monitoring.coreos.com_servicemonitors": ("ServiceMonitor", "Namespaced", {"v1"}),
        "monitoring.coreos.com_podmonitors": ("PodMonitor", "Namespaced", {"v1"}),
        "monitoring.coreos.com_prometheusrules": ("PrometheusRule", "Namespaced", {"v1"}),
    }
    derived = {p.stem for p in (FACTS / "crds").glob("*.json")}
    assert derived == set(expected), "ApplicationSet must stay out; every used CRD must be in"
    for stem, (kind, scope, versions) in expected.items():
        fact = _json(f"crds/{stem}.json")
        assert (fact["kind"], fact["scope"], set(fact["versions"])) == (kind, scope, versions), stem


def test_crd_facts_keep_structure_enums_and_cel_rules() -> None:
    spec = _json("crds/karpenter.sh_nodepools.json")["versions"]["v1"]["schema"]["properties"]["spec"]
    policy = spec["properties"]["disruption"]["properties"]["consolidationPolicy"]
    assert policy["enum"] == ["WhenEmpty", "WhenEmptyOrUnderutilized"]
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
    project = _json("crds/argoproj.io_appprojects.json")["versions"]["v1alpha1"]["schema"]
    assert project["properties"]["spec"]["properties"]["description"] == {"type": "string"}


def test_strip_schema_drops_annotations_and_keeps_fields_named_like_them() -> None:
    schema = {
        "description": "prose",
        "type": "object",
        "properties": {"description": {"description": "more prose", "type": "string", "enum": ["a"]}},
        "items": {"title": "t", "pattern": "^x$"},
    }
    assert derive_upstream.strip_schema(schema) == {
        "type": "object",
        "properties": {"description": {"type": "string", "enum": ["a"]}},
        "items": {"pattern": "^x$"},
    }


def test_reference_has_the_four_interruption_rules_from_aws_health_and_aws_ec2() -> None:
    rules = _json("karpenter/reference-cfn.json")["event_rules"]
    # The v1.0.14 reference defines 4 rules (not 5): scheduled change, spot, rebalance, state change.
    assert {name: (r["source"], r["detail-type"]) for name, r in rules.items()} == {
        "ScheduledChangeRule": (["aws.health"], ["AWS Health Event"]),
        "SpotInterruptionRule": (["aws.ec2"], ["EC2 Spot Instance Interruption Warning"]),
        "RebalanceRule": (["aws.ec2"], ["EC2 Instance Rebalance Recommendation"]),
        "InstanceStateChangeRule": (["aws.ec2"], ["EC2 Instance State-change Notification"]),
    }
    assert all(r["targets"] == ["${KarpenterInterruptionQueue.Arn}"] for r in rules.values())


def test_reference_controller_policy_lists_actions_with_their_conditions() -> None:
    policy = _json("karpenter/reference-cfn.json")["controller_policy"]
    assert {"ec2:CreateFleet", "iam:PassRole", "sqs:ReceiveMessage"} <= set(policy["actions"])
    assert len(policy["statements"]) == 16
    pass_role = policy["statements"]["AllowPassingInstanceRole"]
    assert pass_role["conditions"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    assert pass_role["resources"] == ["${KarpenterNodeRole.Arn}"]
    tagging = policy["statements"]["AllowScopedResourceCreationTagging"]["conditions"]["StringEquals"]
    assert tagging["ec2:CreateAction"] == ["CreateFleet", "CreateLaunchTemplate", "RunInstances"]
    assert tagging["aws:RequestTag/kubernetes.io/cluster/${ClusterName}"] == "owned"


def test_reference_queue_and_node_role_facts() -> None:
    ref = _json("karpenter/reference-cfn.json")
    queue = ref["interruption_queue"]
    assert (queue["MessageRetentionPeriod"], queue["SqsManagedSseEnabled"]) == (300, True)
    deny = [s for s in ref["interruption_queue_policy"]["statements"] if s["effect"] == "Deny"]
    assert deny[0]["conditions"] == {"Bool": {"aws:SecureTransport": False}}
    assert ref["node_role"]["managed_policies"] == [
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonSSMManagedInstanceCore",
    ]


def test_chart_pins_are_the_platform_versions() -> None:
    pins = _json("chart_pins.json")
    assert {c: (p["version"], p["appVersion"]) for c, p in pins.items()} == {
        "karpenter": ("1.0.14", "1.0.14"),
        "argo-cd": ("6.7.18", "v2.10.9"),
        "kyverno": ("3.2.9", "v1.12.7"),
        "kube-prometheus-stack": ("65.8.1", "v0.77.2"),
        "opentelemetry-demo": ("0.33.8", "1.12.0"),
        "opentelemetry-collector": ("0.110.3", "0.114.0"),
        "jaeger": ("3.3.3", "1.53.0"),
    }
    demo_deps = {d["name"]: d["version"] for d in pins["opentelemetry-demo"]["dependencies"]}
    assert demo_deps["opentelemetry-collector"] == "0.110.3" and demo_deps["jaeger"] == "3.3.3"


def test_key_trees_mark_empty_default_maps_as_free_form() -> None:
    tree = _json("values/karpenter.keys.json")["tree"]["keys"]
    assert tree["podAnnotations"] == {"type": "map", "free_form": True}
    assert tree["replicas"] == {"type": "int"}
    assert "clusterName" in tree["settings"]["keys"]
    schemas = {p.name for p in (FACTS / "values").glob("*.schema.json")}
    assert schemas == {"opentelemetry-collector.schema.json", "opentelemetry-demo.schema.json"}


def test_notice_names_every_source_its_commit_and_licence() -> None:
    notice = (FACTS / "NOTICE").read_text()
    for needle in (
        "github.com/aws/karpenter-provider-aws @ tag v1.0.14 (093ba9dfbcaf7c09d6a2fac7a060fae465a90206)",
        "github.com/argoproj/argo-helm",
        "github.com/kyverno/kyverno",
        "github.com/prometheus-community/helm-charts",
        "github.com/open-telemetry/opentelemetry-helm-charts",
        "github.com/jaegertracing/helm-charts",
        "Apache License 2.0",
        "derived facts",
    ):
        assert needle in notice, needle
    assert notice.count("[Apache-2.0]") == 27


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
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {SHARED} is missing: cannot prove upstream_facts/ is fresh")
        pytest.skip(f"{SHARED} is absent outside CI (developers without ../shared)")
    result = subprocess.run(
        [sys.executable, "tools/derive_upstream.py", "--check", "--shared", str(SHARED)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "matches a fresh derivation" in result.stdout

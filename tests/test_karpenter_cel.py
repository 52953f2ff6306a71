"""Our EC2NodeClass and NodePools pass every CEL rule of the profile's Karpenter CRDs, and the check can fail."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from constructs_lib.karpenter_manifests import ec2_node_class, on_demand_node_pool, spot_node_pool
from platform_checks.crd_rules import cel_report
from platform_checks.upstream_facts import load_fact
from tests.stack_fixtures import config

CRD_FACTS = {
    ("karpenter.sh", "NodePool"): "crds/karpenter.sh_nodepools.json",
    ("karpenter.k8s.aws", "EC2NodeClass"): "crds/karpenter.k8s.aws_ec2nodeclasses.json",
}


def cel_violations(obj: dict[str, Any], *, profile: str) -> tuple[list[str], int]:
    """The render gate's evaluator (platform_checks.crd_rules) against the profile's derived Karpenter CRD facts."""
    group, _, version = obj["apiVersion"].rpartition("/")
    schema = load_fact(CRD_FACTS[(group, obj["kind"])], profile)["versions"][version]["schema"]
    return cel_report(schema, obj)


@pytest.fixture(scope="module")
def manifests(profile: str) -> dict[str, dict[str, Any]]:
    cfg = config(release=profile)
    node_class = ec2_node_class(
        cfg, node_role_name="KarpenterNodeRole", cluster_security_group_id="sg-0123456789abcdef0"
    )
    return {"default": node_class, "spot": spot_node_pool(cfg), "on-demand": on_demand_node_pool(cfg)}


@pytest.mark.parametrize("name", ["default", "spot", "on-demand"])
def test_manifest_passes_every_cel_rule_of_its_crd(
    profile: str, manifests: dict[str, dict[str, Any]], name: str
) -> None:
    violations, evaluated = cel_violations(manifests[name], profile=profile)
    assert violations == []
    assert evaluated >= 30, "the CRD's rules were not reached"


def test_an_alias_beside_another_ami_term_breaks_a_cel_rule(profile: str, manifests: dict[str, dict[str, Any]]) -> None:
    bad = copy.deepcopy(manifests["default"])
    bad["spec"]["amiSelectorTerms"].append({"id": "ami-0123456789abcdef0"})
    violations, _ = cel_violations(bad, profile=profile)
    assert violations == [
        "EC2NodeClass/default: spec.amiSelectorTerms: "
        "'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms"
    ]


def test_a_budget_schedule_without_duration_breaks_a_cel_rule(
    profile: str, manifests: dict[str, dict[str, Any]]
) -> None:
    bad = copy.deepcopy(manifests["spot"])
    bad["spec"]["disruption"]["budgets"].append({"nodes": "0", "schedule": "@daily"})
    violations, _ = cel_violations(bad, profile=profile)
    name = bad["metadata"]["name"]
    assert violations == [f"NodePool/{name}: spec.disruption.budgets: 'schedule' must be set with 'duration'"]


def test_an_empty_in_requirement_breaks_a_cel_rule(profile: str, manifests: dict[str, dict[str, Any]]) -> None:
    bad = copy.deepcopy(manifests["on-demand"])
    bad["spec"]["template"]["spec"]["requirements"][1]["values"] = []
    violations, _ = cel_violations(bad, profile=profile)
    name = bad["metadata"]["name"]
    expected = (
        f"NodePool/{name}: spec.template.spec.requirements: requirements with operator 'In' must have a value defined"
    )
    assert expected in violations, violations

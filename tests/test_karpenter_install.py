"""Karpenter in the cluster: pinned charts in kube-system, queue name wiring, NodeClass and the split NodePools."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from constructs_lib.helm_addon import HelmValuesError, resolved_values
from constructs_lib.karpenter_iam import SERVICE_ACCOUNT
from constructs_lib.karpenter_manifests import ec2_node_class, on_demand_node_pool, spot_node_pool
from platform_checks import check_values, validate_manifest
from platform_checks.cfn_json import json_property, token_placeholder
from platform_config import placement
from platform_config.addons import addons
from platform_config.versions import PROFILES
from tests.conftest import ROOT, Synthesized
from tests.stack_fixtures import config


def charts(s: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["Release"]: {**r["Properties"], "_id": k, "_deps": r.get("DependsOn", [])}
        for k, r in s.resources("karpenter", "Custom::AWSCDK-EKS-HelmChart").items()
    }


def test_crd_chart_then_controller_chart_pinned_in_kube_system(synthesized: Synthesized) -> None:
    found = charts(synthesized)
    profile = synthesized.config.profile
    assert {r: (c["Chart"], c["Version"], c["Repository"], c["Namespace"]) for r, c in found.items()} == {
        a.release: (a.chart, profile.karpenter_version, a.pin(profile).repository, a.namespace)
        for a in addons(profile.name, installer="karpenter-stack")
    }
    assert {a.namespace for a in addons(installer="karpenter-stack")} == {"kube-system"}, "Karpenter's documented one"
    assert found["karpenter-crd"]["_id"] in found["karpenter"]["_deps"]
    assert found["karpenter"]["SkipCrds"] is True


def test_interruption_queue_setting_is_the_queue_name_not_arn_or_url(synthesized: Synthesized) -> None:
    values = json_property(charts(synthesized)["karpenter"]["Values"])
    (queue_id,) = synthesized.resources("karpenter", "AWS::SQS::Queue")
    assert values["settings"]["interruptionQueue"] == token_placeholder({"Fn::GetAtt": [queue_id, "QueueName"]})
    assert "interruptionQueueName" not in values["settings"]  # the wrong key of copied snippets


def test_controller_values_name_the_pod_identity_service_account_and_cluster(synthesized: Synthesized) -> None:
    values = json_property(charts(synthesized)["karpenter"]["Values"])
    assert values["settings"]["clusterName"] == "eks-platform"
    assert values["serviceAccount"] == {"create": True, "name": SERVICE_ACCOUNT[1]}
    association = synthesized.only("karpenter", "AWS::EKS::PodIdentityAssociation")["Properties"]
    assert (association["Namespace"], association["ServiceAccount"]) == SERVICE_ACCOUNT
    assert charts(synthesized)["karpenter"]["Namespace"] == SERVICE_ACCOUNT[0]


def test_helm_waits_stay_under_the_kubectl_handler_limit(synthesized: Synthesized) -> None:
    for release, chart in charts(synthesized).items():
        seconds = int(re.fullmatch(r"(\d+)s", chart["Timeout"]).group(1))  # type: ignore[union-attr]
        assert seconds < 15 * 60, release


def test_node_class_and_pools_depend_on_crds_and_controller(synthesized: Synthesized) -> None:
    (manifest,) = synthesized.resources("karpenter", "Custom::AWSCDK-EKS-KubernetesResource").values()
    found = charts(synthesized)
    assert found["karpenter-crd"]["_id"] in manifest["DependsOn"]
    assert found["karpenter"]["_id"] in manifest["DependsOn"]


@pytest.fixture(scope="module")
def manifests(profile: str) -> list[dict[str, Any]]:
    cfg = config(release=profile)
    return [
        ec2_node_class(cfg, node_role_name="KarpenterNodeRole", cluster_security_group_id="sg-0123456789abcdef0"),
        spot_node_pool(cfg),
        on_demand_node_pool(cfg),
    ]


def test_manifests_validate_against_the_profiles_karpenter_crds(profile: str, manifests: list[dict[str, Any]]) -> None:
    for manifest in manifests:
        assert validate_manifest(manifest, profile=profile) == [], manifest["metadata"]["name"]


def test_schema_check_catches_a_consolidation_policy_typo(profile: str, manifests: list[dict[str, Any]]) -> None:
    broken = json.loads(json.dumps(manifests[1]))
    broken["spec"]["disruption"]["consolidationPolicy"] = "WhenUnderutilized"  # the v1beta1 spelling
    assert any("consolidationPolicy" in e for e in validate_manifest(broken, profile=profile))


def test_node_class_pins_ami_imdsv2_hop_one_and_encrypted_gp3(profile: str, manifests: list[dict[str, Any]]) -> None:
    spec = manifests[0]["spec"]
    alias = PROFILES[profile].ami_alias
    assert spec["amiSelectorTerms"] == [{"alias": alias}]
    assert spec["metadataOptions"]["httpTokens"] == "required"
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    ebs = spec["blockDeviceMappings"][0]["ebs"]
    assert (ebs["volumeType"], ebs["encrypted"]) == ("gp3", True)
    assert spec["subnetSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": "eks-platform"}}]


def test_synthesized_node_class_uses_node_role_and_cluster_security_group(synthesized: Synthesized) -> None:
    (manifest,) = synthesized.resources("karpenter", "Custom::AWSCDK-EKS-KubernetesResource").values()
    (node_class,) = [d for d in json_property(manifest["Properties"]["Manifest"]) if d["kind"] == "EC2NodeClass"]
    (node_role,) = [
        k
        for k, r in synthesized.resources("karpenter", "AWS::IAM::Role").items()
        if "ec2.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    ]
    assert node_class["spec"]["role"] == token_placeholder({"Ref": node_role})
    (term,) = node_class["spec"]["securityGroupSelectorTerms"]
    assert "ClusterSecurityGroupId" in term["id"]


def test_spot_pool_is_preferred_spot_and_consolidates_underutilized(manifests: list[dict[str, Any]]) -> None:
    spot, on_demand = manifests[1]["spec"], manifests[2]["spec"]
    assert spot["weight"] > on_demand["weight"]
    reqs = {r["key"]: r for r in spot["template"]["spec"]["requirements"]}
    assert reqs["karpenter.sh/capacity-type"]["values"] == ["spot"]
    assert reqs["karpenter.k8s.aws/instance-category"]["values"] == ["c", "m", "r"]
    assert reqs["karpenter.k8s.aws/instance-generation"] == {
        "key": "karpenter.k8s.aws/instance-generation",
        "operator": "Gt",
        "values": ["5"],
    }
    assert spot["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
    assert "taints" not in spot["template"]["spec"]


def test_on_demand_pool_carries_the_placement_taint_and_label_and_never_drains_for_utilization(
    manifests: list[dict[str, Any]],
) -> None:
    spec = manifests[2]["spec"]
    assert spec["template"]["metadata"]["labels"][placement.WORKLOAD_CLASS_KEY] == "stateful"
    assert spec["template"]["spec"]["taints"] == [
        {"key": "eks-platform.io/workload-class", "value": "stateful", "effect": "NoSchedule"}
    ]
    assert spec["disruption"]["consolidationPolicy"] == "WhenEmpty"
    assert {"nodes": "0", "reasons": ["Underutilized"]} in spec["disruption"]["budgets"]


def test_architecture_page_states_the_same_placement_contract() -> None:
    readme = (ROOT / "docs" / "architecture.md").read_text()
    assert "eks-platform.io/workload-class=stateful:NoSchedule" in readme
    assert "eks-platform.io/workload-class: stateful" in readme
    assert "karpenter.sh/do-not-disrupt" in readme


def test_limits_and_architectures_come_from_config() -> None:
    cfg = config(karpenter_spot_cpu_limit=64, karpenter_architectures=["amd64", "arm64"])
    spec = spot_node_pool(cfg)["spec"]
    assert spec["limits"]["cpu"] == "64"
    reqs = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
    assert reqs["kubernetes.io/arch"] == ["amd64", "arm64"]


# --- Spot diversification as a figure, from botocore's EC2 model (no network) ---

FAMILY = re.compile(r"^(?P<cat>[a-z]+?)(?P<gen>\d)(?P<attrs>[a-z-]*)\.(?P<size>[a-z0-9-]+)$")


def ec2_instance_types() -> list[str]:
    model = botocore.session.get_session().get_service_model("ec2")
    return list(model.shape_for("InstanceType").enum)


def admitted(requirements: list[dict[str, Any]], instance_type: str) -> bool:
    match = FAMILY.match(instance_type)
    if not match:
        return False
    reqs = {r["key"]: r for r in requirements}
    arch = "arm64" if "g" in match["attrs"].replace("-flex", "") else "amd64"
    checks = {
        "karpenter.k8s.aws/instance-category": match["cat"],
        "karpenter.k8s.aws/instance-generation": match["gen"],
        "kubernetes.io/arch": arch,
        "karpenter.k8s.aws/instance-hypervisor": "" if match["size"].startswith("metal") else "nitro",
    }
    for key, value in checks.items():
        req = reqs[key]
        if req["operator"] == "In" and value not in req["values"]:
            return False
        if req["operator"] == "NotIn" and value in req["values"]:
            return False
        if req["operator"] == "Gt" and not int(value) > int(req["values"][0]):
            return False
    return True


def test_spot_pool_admits_at_least_15_instance_types(manifests: list[dict[str, Any]]) -> None:
    requirements = manifests[1]["spec"]["template"]["spec"]["requirements"]
    names = ec2_instance_types()
    count = sum(admitted(requirements, name) for name in names)
    families = sorted({n.split(".")[0] for n in names if admitted(requirements, n)})
    print(f"spot NodePool admits {count} EC2 instance types in {len(families)} families")
    assert count >= 15


def test_diversification_counter_rejects_what_requirements_exclude(manifests: list[dict[str, Any]]) -> None:
    requirements = manifests[1]["spec"]["template"]["spec"]["requirements"]
    assert admitted(requirements, "m6i.large")
    assert not admitted(requirements, "m5.large")  # generation 5 is not > 5
    assert not admitted(requirements, "c7g.large")  # Graviton is arm64
    assert not admitted(requirements, "p4d.24xlarge")  # GPU category
    assert not admitted(requirements, "m7i.metal-24xl")  # bare metal has no nitro hypervisor


def test_values_file_typo_stops_synth_with_the_key(profile: str, tmp_path: Path) -> None:
    (tmp_path / "karpenter.yaml").write_text("settings:\n  interruptionQueueName: x\n")
    with pytest.raises(HelmValuesError, match=r"karpenter.yaml: .*interruptionQueueName"):
        resolved_values(chart="karpenter", release="karpenter", computed={}, values_dir=tmp_path, profile=profile)


def test_values_for_a_chart_without_a_key_tree_are_refused(profile: str, tmp_path: Path) -> None:
    (tmp_path / "karpenter-crd.yaml").write_text("webhook:\n  enabled: true\n")
    with pytest.raises(HelmValuesError, match="chart karpenter-crd has no key tree"):
        resolved_values(
            chart="karpenter-crd", release="karpenter-crd", computed={}, values_dir=tmp_path, profile=profile
        )
    assert (
        resolved_values(
            chart="karpenter-crd", release="karpenter-crd", computed={}, values_dir=tmp_path / "none", profile=profile
        )
        == {}
    )


def test_values_file_that_is_not_a_mapping_is_rejected(profile: str, tmp_path: Path) -> None:
    (tmp_path / "karpenter.yaml").write_text("- a\n- b\n")
    with pytest.raises(HelmValuesError, match="top level is list; accepted is a mapping"):
        resolved_values(chart="karpenter", release="karpenter", computed={}, values_dir=tmp_path, profile=profile)


def test_values_file_merges_over_computed_values(profile: str, tmp_path: Path) -> None:
    (tmp_path / "karpenter.yaml").write_text("settings:\n  clusterName: from-file\nreplicas: 3\n")
    values = resolved_values(
        chart="karpenter",
        release="karpenter",
        computed={"settings": {"clusterName": "computed", "interruptionQueue": "q"}},
        values_dir=tmp_path,
        profile=profile,
    )
    assert values["settings"] == {"clusterName": "from-file", "interruptionQueue": "q"}
    assert values["replicas"] == 3


def test_karpenter_1_14_has_no_webhook_values_so_setting_one_is_refused() -> None:
    # Karpenter 1.0's chart still configures the conversion webhook; 1.14 removed it with v1beta1.
    assert check_values("karpenter", {"webhook": {"enabled": False}}, profile="seed") == []
    (error,) = check_values("karpenter", {"webhook": {"enabled": False}}, profile="current")
    assert error.startswith("karpenter: webhook: unknown key (Helm would silently ignore it)")


def test_computed_and_file_values_carry_no_webhook_key(synthesized: Synthesized) -> None:
    assert "webhook" not in json_property(charts(synthesized)["karpenter"]["Values"])

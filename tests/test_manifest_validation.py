"""validate_manifest passes valid CRs/built-ins, fails unknown fields, bad enums, missing fields and kinds."""

from __future__ import annotations

import copy
import importlib.resources
from pathlib import Path
from typing import Any

import pytest

from platform_checks import load_yaml_documents, validate_documents, validate_manifest
from platform_checks.manifests import k8s_schema_dir

NODEPOOL: dict[str, Any] = {
    "apiVersion": "karpenter.sh/v1",
    "kind": "NodePool",
    "metadata": {"name": "spot"},
    "spec": {
        "template": {
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}],
                "expireAfter": "720h",
            }
        },
        "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"},
        "limits": {"cpu": 1000, "memory": "1000Gi"},
    },
}
EC2NODECLASS: dict[str, Any] = {
    "apiVersion": "karpenter.k8s.aws/v1",
    "kind": "EC2NodeClass",
    "metadata": {"name": "default"},
    "spec": {
        "amiSelectorTerms": [{"alias": "al2023@latest"}],
        "role": "KarpenterNodeRole-platform",
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "platform"}}],
        "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "platform"}}],
    },
}
DEPLOYMENT_YAML = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: astronomy-shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "nginx:1.27", imagePullPolicy: IfNotPresent}
---
# an empty document, as kustomize output sometimes has, is skipped
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: astronomy-shop}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
"""


def _edited(obj: dict[str, Any], path: list[str], value: Any = None, delete: bool = False) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    node = out
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("name", "schema_dir"), [("seed", "v1.29.0-local-strict"), ("current", "v1.36.0-local-strict")]
)
def test_kubernetes_validate_ships_each_profiles_strict_schemas(name: str, schema_dir: str) -> None:
    assert k8s_schema_dir(name) == schema_dir
    root = importlib.resources.files("kubernetes_validate").joinpath("kubernetes-json-schema", schema_dir)
    assert root.joinpath("deployment-apps-v1.json").is_file()


def test_an_unknown_profile_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="release profile 'latest': accepted is one of current, seed"):
        validate_manifest(NODEPOOL, profile="latest")


def test_valid_karpenter_v1_nodepool_and_ec2nodeclass_pass(profile: str) -> None:
    assert validate_manifest(NODEPOOL, profile=profile) == []
    assert validate_manifest(EC2NODECLASS, profile=profile) == []


def test_nodepool_unknown_field_is_an_error(profile: str) -> None:
    bad = _edited(NODEPOOL, ["spec", "template", "spec", "expireAfterr"], "720h")
    unexpected = "Additional properties are not allowed ('expireAfterr' was unexpected)"
    assert validate_manifest(bad, profile=profile) == [f"NodePool/spot: spec.template.spec: {unexpected}"]


def test_nodepool_consolidation_policy_typo_is_an_enum_error(profile: str) -> None:
    bad = _edited(NODEPOOL, ["spec", "disruption", "consolidationPolicy"], "WhenUnderutilized")
    # Karpenter 1.14 adds the Balanced policy.
    accepted = {"seed": "['WhenEmpty', 'WhenEmptyOrUnderutilized']"}.get(
        profile, "['WhenEmpty', 'WhenEmptyOrUnderutilized', 'Balanced']"
    )
    assert validate_manifest(bad, profile=profile) == [
        f"NodePool/spot: spec.disruption.consolidationPolicy: 'WhenUnderutilized' is not one of {accepted}"
    ]


def test_nodepool_missing_required_node_class_ref_is_an_error(profile: str) -> None:
    bad = _edited(NODEPOOL, ["spec", "template", "spec", "nodeClassRef"], delete=True)
    required = "'nodeClassRef' is a required property"
    assert validate_manifest(bad, profile=profile) == [f"NodePool/spot: spec.template.spec: {required}"]


def test_ec2nodeclass_missing_ami_selector_and_bad_int_or_string_fail(profile: str) -> None:
    bad = _edited(EC2NODECLASS, ["spec", "amiSelectorTerms"], delete=True)
    assert "EC2NodeClass/default: spec: 'amiSelectorTerms' is a required property" in validate_manifest(
        bad, profile=profile
    )
    bad_limit = _edited(NODEPOOL, ["spec", "limits", "cpu"], ["1000"])
    errors = validate_manifest(bad_limit, profile=profile)
    assert len(errors) == 1 and errors[0].startswith("NodePool/spot: spec.limits.cpu: ['1000'] is not valid")


def test_custom_resource_labels_must_be_strings(profile: str) -> None:
    bad = _edited(EC2NODECLASS, ["metadata", "labels"], {"tier": 1})
    assert validate_manifest(bad, profile=profile) == [
        "EC2NodeClass/default: metadata.labels.tier: 1 is not of type 'string'"
    ]


def test_preserve_unknown_fields_accepts_free_helm_values_in_an_application(profile: str) -> None:
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "kyverno", "namespace": "argocd"},
        "spec": {
            "project": "platform",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "kyverno"},
            "source": {
                "repoURL": "https://kyverno.github.io/kyverno/",
                "chart": "kyverno",
                "targetRevision": "1.2.3",
                "helm": {"valuesObject": {"anything": {"goes": [1, 2]}}},
            },
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }
    assert validate_manifest(app, profile=profile) == []
    typo = _edited(app, ["spec", "syncPolicy", "automated", "selfHeall"], True)
    assert validate_manifest(typo, profile=profile) == [
        "Application/kyverno: spec.syncPolicy.automated: Additional properties are not allowed "
        "('selfHeall' was unexpected)"
    ]


def test_builtin_deployment_passes_and_a_typoed_field_fails(profile: str, tmp_path: Path) -> None:
    file = tmp_path / "app.yaml"
    file.write_text(DEPLOYMENT_YAML)
    docs = load_yaml_documents(file)
    assert [d["kind"] for d in docs] == ["Deployment", "Service"]
    assert load_yaml_documents(str(file)) == docs == load_yaml_documents(DEPLOYMENT_YAML)
    with pytest.raises(FileNotFoundError):
        load_yaml_documents(str(tmp_path / "missing.yaml"))
    assert validate_documents(docs, profile=profile) == []
    docs[0]["spec"]["template"]["spec"]["containers"][0]["imagePulPolicy"] = "Always"
    assert validate_documents(docs, profile=profile) == [
        "Deployment/web: spec.template.spec.containers[0]: Additional properties are not allowed "
        "('imagePulPolicy' was unexpected)"
    ]


def test_unknown_kind_or_version_is_an_error_never_a_pass(profile: str) -> None:
    meta = {"metadata": {"name": "w"}}
    version = {"seed": "1.29", "current": "1.36"}[profile]
    neither = f"(neither a Kubernetes {version} built-in nor a CRD derived for the {profile} profile)"
    assert validate_manifest({"apiVersion": "example.com/v1", "kind": "Widget", **meta}, profile=profile) == [
        f"Widget/w: unknown apiVersion/kind example.com/v1 Widget {neither}"
    ]
    assert validate_manifest({"apiVersion": "apps/v1", "kind": "Widget", **meta}, profile=profile)[0].startswith(
        "Widget/w: unknown apiVersion/kind apps/v1 Widget"
    )
    # a CRD group whose first label matches a built-in group is not the built-in group
    lookalike = validate_manifest({"apiVersion": "apps.example.com/v1", "kind": "Deployment", **meta}, profile=profile)
    assert lookalike[0].startswith("Deployment/w: unknown apiVersion/kind apps.example.com/v1 Deployment")
    old = validate_manifest({"apiVersion": "karpenter.sh/v1alpha5", "kind": "NodePool", **meta}, profile=profile)
    assert "known for this group/kind: karpenter.sh/v1 NodeClaim, karpenter.sh/v1 NodePool" in old[0]


def test_missing_name_and_non_mapping_documents_are_errors(profile: str) -> None:
    assert validate_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {}}, profile=profile) == [
        "Namespace/<no name>: metadata.name must be set"
    ]
    assert validate_documents(["just a string"], profile=profile) == [
        "<not an object>: a manifest must be a mapping, got str"
    ]

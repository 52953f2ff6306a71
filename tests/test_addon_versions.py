"""The EKS managed add-ons take the version EKS marks default for the profile's Kubernetes version, looked up at
deploy time by one narrow handler: the template wiring per profile, and the handler against a stubbed EKS API."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from aws_cdk import aws_kms as kms
from botocore.stub import Stubber

from constructs_lib import addon_versions
from constructs_lib.addon_versions import AddonVersionLookup
from constructs_lib.handlers import addon_versions as handler
from platform_config import versions
from platform_config.versions import PROFILES
from tests.conftest import Synthesized
from tests.stack_fixtures import stack, template

UNPINNED = [name for name, version in versions.EKS_ADDONS.items() if version is None]


def lookup_of(s: Synthesized) -> tuple[str, dict[str, Any]]:
    (found,) = s.resources("cluster", addon_versions.RESOURCE_TYPE).items()
    return found


# ---- the template -----------------------------------------------------------------------------------------------


def test_the_lookups_input_is_the_profiles_kubernetes_version_and_every_unpinned_add_on(
    synthesized: Synthesized,
) -> None:
    _, lookup = lookup_of(synthesized)
    assert lookup["Properties"]["KubernetesVersion"] == synthesized.config.kubernetes.version
    assert lookup["Properties"]["Addons"] == UNPINNED


def test_the_lookups_input_changes_with_the_kubernetes_version_under_the_same_logical_id() -> None:
    """Same logical id, new KubernetesVersion: CloudFormation sends an Update, so the lookup runs again."""
    found = {}
    for version in sorted({p.kubernetes.version for p in PROFILES.values()}):
        s = stack()
        AddonVersionLookup(
            s,
            "Lookup",
            kubernetes_version=version,
            addons=UNPINNED,
            logs_key=kms.Key(s, "Key"),
            retention_days=30,
        )
        ((logical_id, lookup),) = template(s).find_resources(addon_versions.RESOURCE_TYPE).items()
        found[version] = (logical_id, lookup["Properties"]["KubernetesVersion"])
    assert len(found) > 1 and len({logical_id for logical_id, _ in found.values()}) == 1
    assert [v for _, v in found.values()] == list(found)


def test_each_unpinned_add_on_takes_its_version_from_the_lookup(synthesized: Synthesized) -> None:
    logical_id, _ = lookup_of(synthesized)
    addons = synthesized.resources("cluster", "AWS::EKS::Addon").values()
    found = {a["Properties"]["AddonName"]: a["Properties"] for a in addons}
    assert set(found) == set(versions.EKS_ADDONS)
    for name, pin in versions.EKS_ADDONS.items():
        expected = pin or {"Fn::GetAtt": [logical_id, addon_versions.attribute(name)]}
        assert found[name]["AddonVersion"] == expected, name


def test_the_lookup_runs_after_the_control_plane(synthesized: Synthesized) -> None:
    _, lookup = lookup_of(synthesized)
    (cluster_id,) = synthesized.resources("cluster", "AWS::EKS::Cluster")
    assert cluster_id in lookup["DependsOn"]


def test_the_lookups_role_may_only_describe_add_on_versions_and_write_its_own_logs(synthesized: Synthesized) -> None:
    functions = synthesized.resources("cluster", "AWS::Lambda::Function").values()
    (function,) = [f for f in functions if "ZipFile" in f["Properties"]["Code"]]
    assert function["Properties"]["Code"]["ZipFile"] == addon_versions.HANDLER_SOURCE
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = [
        p["Properties"]
        for p in synthesized.resources("cluster", "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
    ]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    assert {s["Sid"]: s["Action"] for s in statements} == {
        "DescribeAddonVersions": "eks:DescribeAddonVersions",
        "OwnLogGroup": ["logs:CreateLogStream", "logs:PutLogEvents"],
    }
    (star,) = [s for s in statements if s["Resource"] == "*"]
    assert star["Sid"] == "DescribeAddonVersions"
    role = synthesized.resources("cluster", "AWS::IAM::Role")[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role and "Policies" not in role


def test_the_handler_ships_inline_within_cloudformations_zipfile_limit() -> None:
    assert len(addon_versions.HANDLER_SOURCE.encode()) <= 4096


# ---- the handler, EKS stubbed -------------------------------------------------------------------------------------


def versions_page(addon: str, rows: list[tuple[str, str, bool]]) -> dict[str, Any]:
    """A DescribeAddonVersions page: (addonVersion, clusterVersion, defaultVersion) rows."""
    return {
        "addons": [
            {
                "addonName": addon,
                "addonVersions": [
                    {"addonVersion": v, "compatibilities": [{"clusterVersion": k, "defaultVersion": d}]}
                    for v, k, d in rows
                ],
            }
        ]
    }


def stubbed(*pages: tuple[str, str, dict[str, Any]]) -> tuple[Any, Stubber]:
    client = boto3.client("eks", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    for addon, kubernetes, page in pages:
        stub.add_response("describe_addon_versions", page, {"addonName": addon, "kubernetesVersion": kubernetes})
    stub.activate()
    return client, stub


def test_the_default_version_for_that_kubernetes_version_is_picked_not_the_newest_or_another_minors_default() -> None:
    rows = [("v1.20.0-eksbuild.1", "1.36", False), ("v1.19.6-eksbuild.2", "1.36", True), ("v1.18.0", "1.35", True)]
    client, stub = stubbed(("vpc-cni", "1.36", versions_page("vpc-cni", rows)))
    assert handler.default_version(client, "vpc-cni", "1.36") == "v1.19.6-eksbuild.2"
    stub.assert_no_pending_responses()


def test_no_default_version_is_a_clear_failure_naming_the_add_on_and_kubernetes_version() -> None:
    client, _ = stubbed(("coredns", "1.37", versions_page("coredns", [("v1.13.0", "1.37", False)])))
    with pytest.raises(LookupError, match=r"no default version of add-on coredns for Kubernetes 1\.37"):
        handler.default_version(client, "coredns", "1.37")


def event(kind: str, kubernetes: str = "1.36", addons: list[str] | None = None) -> dict[str, Any]:
    return {
        "RequestType": kind,
        "ResponseURL": "https://cloudformation-response.example/pre-signed",
        "StackId": "arn:aws:cloudformation:us-east-1:111111111111:stack/eks-platform-Cluster/x",
        "RequestId": "r",
        "LogicalResourceId": "AddonsVersionLookup",
        "PhysicalResourceId": "addon-versions",
        "ResourceProperties": {"KubernetesVersion": kubernetes, "Addons": addons or ["vpc-cni", "kube-proxy"]},
    }


@pytest.fixture
def responses(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the handler PUTs to CloudFormation's response URL (no network)."""
    sent: list[dict[str, Any]] = []

    class Done:
        def __enter__(self) -> Done:
            return self

        def __exit__(self, *_: object) -> None:
            return None

    def urlopen(request: Any, timeout: int) -> Done:
        assert request.get_method() == "PUT" and request.full_url.startswith("https://")
        sent.append(json.loads(request.data))
        return Done()

    monkeypatch.setattr(handler.urllib.request, "urlopen", urlopen)
    return sent


@pytest.mark.parametrize("kind", ["Create", "Update"])
def test_create_and_update_answer_each_add_ons_default_version_as_an_attribute(
    kind: str, responses: list[dict[str, Any]]
) -> None:
    client, stub = stubbed(
        ("vpc-cni", "1.31", versions_page("vpc-cni", [("v1.18.3", "1.31", True)])),
        ("kube-proxy", "1.31", versions_page("kube-proxy", [("v1.31.2", "1.31", True)])),
    )
    handler.handler(event(kind, "1.31"), None, eks=client)
    (sent,) = responses
    assert sent["Status"] == "SUCCESS"
    assert sent["Data"] == {
        addon_versions.attribute("vpc-cni"): "v1.18.3",
        addon_versions.attribute("kube-proxy"): "v1.31.2",
    }
    stub.assert_no_pending_responses()


def test_a_lookup_without_a_default_fails_the_deploy_with_the_reason(responses: list[dict[str, Any]]) -> None:
    client, _ = stubbed(("vpc-cni", "1.36", versions_page("vpc-cni", [("v1.20.0", "1.36", False)])))
    handler.handler(event("Create", addons=["vpc-cni"]), None, eks=client)
    (sent,) = responses
    assert sent["Status"] == "FAILED" and sent["Data"] == {}
    assert "no default version of add-on vpc-cni for Kubernetes 1.36" in sent["Reason"]


def test_delete_calls_nothing_and_succeeds(responses: list[dict[str, Any]]) -> None:
    client, stub = stubbed()
    handler.handler(event("Delete"), None, eks=client)
    assert [r["Status"] for r in responses] == ["SUCCESS"]
    stub.assert_no_pending_responses()

"""The shop's entry point: the settings decide the ALB through the Ingress annotations and the platform's
IngressClassParams, bad settings are refused in one line, and only the ALB gains a way in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.access import uis
from constructs_lib.gitops import app_project, default_project, root_project
from constructs_lib.namespace_guards import SHOP_PROXY_PODS
from constructs_lib.shop_ingress import (
    ALB,
    DEREGISTRATION_DELAY_SECONDS,
    INGRESS_CLASS,
    READINESS_GATE_LABEL,
    SHOP_NAMESPACE_FILE,
    TLS_POLICY,
    class_params,
    ingress_annotations,
    shop_ingress,
)
from platform_checks.cfn_json import json_property
from platform_checks.gitops import project_admits
from platform_checks.helm_template import MANIFEST_TYPE, placeholder
from platform_config import yaml_load
from platform_config.config import ConfigError, PlatformConfig
from platform_stacks.platform_app import build_app
from tests.conftest import PROFILE_NAMES, TODAY, Synthesized
from tests.fixed_context import fixed_context
from tests.stack_fixtures import config
from tools.report.synth_summary import summarize

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab"
WAF = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/shop/0123abcd-0123-4567-89ab-0123456789ab"
PUBLIC = {"shop_ingress": "internet-facing", "ingress_allowed_cidrs": ["203.0.113.0/24"]}


def manifests(s: Synthesized) -> list[dict[str, Any]]:
    return [
        doc
        for res in s.resources("addons", MANIFEST_TYPE).values()
        for doc in json_property(res["Properties"]["Manifest"], placeholder)
    ]


# --- annotations: what decides the ALB ---


def test_default_is_an_internal_http_alb_open_to_the_vpc_only() -> None:
    cfg = config()
    assert cfg.shop_ingress == "internal"
    annotations = ingress_annotations(cfg)
    assert annotations[f"{ALB}scheme"] == "internal"
    assert json.loads(annotations[f"{ALB}listen-ports"]) == [{"HTTP": 80}]
    assert annotations[f"{ALB}inbound-cidrs"] == cfg.vpc_cidr
    assert annotations[f"{ALB}target-type"] == "ip"
    for absent in ("certificate-arn", "ssl-policy", "ssl-redirect", "wafv2-acl-arn"):
        assert f"{ALB}{absent}" not in annotations


def test_certificate_adds_https_with_tls_policy_and_redirects_http() -> None:
    annotations = ingress_annotations(config(**PUBLIC, ingress_certificate_arn=CERT))
    assert annotations[f"{ALB}scheme"] == "internet-facing"
    assert json.loads(annotations[f"{ALB}listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations[f"{ALB}certificate-arn"] == CERT
    assert annotations[f"{ALB}ssl-policy"] == TLS_POLICY
    assert annotations[f"{ALB}ssl-redirect"] == "443"
    assert annotations[f"{ALB}inbound-cidrs"] == "203.0.113.0/24"


def test_waf_acl_is_attached_when_set() -> None:
    annotations = ingress_annotations(config(**PUBLIC, ingress_certificate_arn=CERT, ingress_waf_acl_arn=WAF))
    assert annotations[f"{ALB}wafv2-acl-arn"] == WAF


def test_internet_facing_plain_http_only_with_the_opt_in() -> None:
    annotations = ingress_annotations(config(**PUBLIC, allow_ingress_plain_http=True))
    assert json.loads(annotations[f"{ALB}listen-ports"]) == [{"HTTP": 80}]


def test_internal_alb_takes_configured_cidrs_over_the_vpc_range() -> None:
    cfg = config(ingress_allowed_cidrs=["10.0.0.0/24", "192.168.10.0/24"])
    assert ingress_annotations(cfg)[f"{ALB}inbound-cidrs"] == "10.0.0.0/24,192.168.10.0/24"


def test_class_params_hold_the_scheme_and_cidrs_and_admit_only_the_shop_namespace() -> None:
    cfg = config(**PUBLIC, ingress_certificate_arn=CERT)
    params = class_params(cfg)["ingressClassParams"]
    namespace = yaml_load.safe_load(SHOP_NAMESPACE_FILE.read_text())["metadata"]["name"]
    assert params["name"] == INGRESS_CLASS
    assert params["spec"]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
    assert params["spec"]["scheme"] == "internet-facing"
    assert params["spec"]["inboundCIDRs"] == ["203.0.113.0/24"]
    assert params["spec"]["sslPolicy"] == TLS_POLICY


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_ingress_sends_every_path_to_the_profiles_frontend_proxy_service(profile: str) -> None:
    ingress = shop_ingress(config(release=profile))
    ui = uis(profile)["ShopFrontend"]
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    assert path["backend"]["service"] == {"name": ui.service, "port": {"number": ui.service_port}}
    assert ingress["metadata"]["namespace"] == ui.namespace
    assert ingress["spec"]["ingressClassName"] == INGRESS_CLASS


def test_deregistration_delay_is_set_on_the_target_group() -> None:
    attributes = ingress_annotations(config())[f"{ALB}target-group-attributes"]
    assert attributes == f"deregistration_delay.timeout_seconds={DEREGISTRATION_DELAY_SECONDS}"


# --- what the synthesized app applies ---


def test_app_applies_the_ingress_its_network_policy_and_the_gits_namespace(synthesized: Synthesized) -> None:
    cfg = synthesized.config
    docs = manifests(synthesized)
    ingresses = [d for d in docs if d["kind"] == "Ingress"]
    assert ingresses == [shop_ingress(cfg)]
    namespace = yaml_load.safe_load(SHOP_NAMESPACE_FILE.read_text())
    assert namespace in docs
    assert namespace["metadata"]["labels"][READINESS_GATE_LABEL] == "enabled"
    outputs = synthesized.templates["addons"]["Outputs"]
    assert "get ingress" in outputs["ShopUrl"]["Value"]


def test_only_the_alb_gains_a_way_in_to_frontend_proxy(synthesized: Synthesized) -> None:
    cfg = synthesized.config
    policies = [
        d
        for d in manifests(synthesized)
        if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == ("allow-alb-to-frontend-proxy")
    ]
    (policy,) = policies
    assert policy["spec"]["podSelector"] == SHOP_PROXY_PODS
    assert policy["spec"]["ingress"] == [
        {
            "from": [{"ipBlock": {"cidr": cfg.vpc_cidr}}],
            "ports": [{"protocol": "TCP", "port": uis(cfg.release)["ShopFrontend"].service_port}],
        }
    ]


def test_controller_release_carries_the_class_params(synthesized: Synthesized) -> None:
    (chart,) = [
        r
        for r in synthesized.resources("addons", "Custom::AWSCDK-EKS-HelmChart").values()
        if r["Properties"]["Release"] == "aws-load-balancer-controller"
    ]
    values = json_property(chart["Properties"]["Values"], placeholder)
    assert values["ingressClassParams"] == class_params(synthesized.config)["ingressClassParams"]


def test_no_argocd_project_admits_the_platforms_ingress_objects() -> None:
    cfg = config(git_repo_url="https://github.com/acme/platform.git")
    objects = [
        shop_ingress(cfg),
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": INGRESS_CLASS}},
        {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "IngressClassParams", "metadata": {"name": INGRESS_CLASS}},
    ]
    for project in (root_project(cfg), app_project(cfg), default_project()):
        admitted = [o["kind"] for o in objects if project_admits(project, o)]
        assert admitted == [], project["metadata"]["name"]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize(
    "mode",
    [
        {"shop_ingress": "off"},
        {**PUBLIC, "ingress_certificate_arn": CERT, "ingress_waf_acl_arn": WAF},
    ],
    ids=["off", "internet-facing"],
)
def test_each_mode_synthesizes_with_no_unacknowledged_nag_finding(
    profile: str, mode: dict[str, Any], tmp_path: Path
) -> None:
    # The default (internal) is the session app's, which tests/test_nag.py gates.
    platform = build_app(fixed_context(release=profile, **mode), env={}, today=TODAY, outdir=str(tmp_path))
    assembly = platform.app.synth()
    plugins = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    for plugin in plugins:
        assert (plugin["conclusion"], plugin.get("violations", [])) == ("success", []), plugin["pluginName"]
    addons = next(s for s in assembly.stacks if s.stack_name == platform.addons.stack_name)
    template = json.loads(Path(addons.template_full_path).read_text())
    kinds = [
        d["kind"]
        for r in template["Resources"].values()
        if r["Type"] == MANIFEST_TYPE
        for d in json_property(r["Properties"]["Manifest"], placeholder)
    ]
    assert ("Ingress" in kinds) == (mode["shop_ingress"] != "off")
    assert ("ShopUrl" in template.get("Outputs", {})) == (mode["shop_ingress"] != "off")
    entry = next(line for line in summarize(tmp_path)[0].splitlines() if line.startswith("Shop entry: "))
    assert entry == (
        "Shop entry: none (shop_ingress=off: kubectl port-forward, docs/runbook.md)"
        if mode["shop_ingress"] == "off"
        else "Shop entry: internet-facing ALB (HTTPS, HTTP redirected, WAF) from 203.0.113.0/24"
    )


# --- bad settings: one line each ---

BAD = [
    ("unknown mode", {"shop_ingress": "public"}, "shop_ingress", "'internet-facing'"),
    ("internet without cidrs", {"shop_ingress": "internet-facing"}, "ingress_allowed_cidrs", "non-empty"),
    (
        "internet from a private range",
        {**PUBLIC, "ingress_allowed_cidrs": ["10.0.0.0/8"], "allow_ingress_plain_http": True},
        "ingress_allowed_cidrs",
        "internet-routable",
    ),
    (
        "internet everywhere without opt-in",
        {**PUBLIC, "ingress_allowed_cidrs": ["0.0.0.0/0"], "ingress_certificate_arn": CERT},
        "ingress_allowed_cidrs",
        "allow_ingress_anywhere=true",
    ),
    ("internet without a certificate", PUBLIC, "ingress_certificate_arn", "allow_ingress_plain_http=true"),
    ("certificate of another region", {"ingress_certificate_arn": CERT.replace("us-east-1", "eu-west-1")},
     "ingress_certificate_arn", "cluster's region"),
    ("not a certificate arn", {"ingress_certificate_arn": "arn:aws:iam::123456789012:role/x"},
     "ingress_certificate_arn", "ACM certificate ARN"),
    ("waf classic arn", {"ingress_waf_acl_arn": "arn:aws:waf-regional:us-east-1:123456789012:webacl/x"},
     "ingress_waf_acl_arn", "WAFv2"),
    ("cidr with host bits", {"ingress_allowed_cidrs": ["10.0.0.1/16"]}, "ingress_allowed_cidrs", "no host bits"),
    ("cidrs while off", {"shop_ingress": "off", "ingress_allowed_cidrs": ["10.0.0.0/16"]},
     "ingress_allowed_cidrs", "'off'"),
    ("certificate while off", {"shop_ingress": "off", "ingress_certificate_arn": CERT},
     "ingress_certificate_arn", "'off'"),
    ("mode not a string", {"shop_ingress": True}, "shop_ingress", "a string"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "overrides", "key", "part"), BAD, ids=[c[0] for c in BAD])
def test_bad_ingress_setting_is_refused_in_one_line_naming_the_key(
    case: str, overrides: dict[str, Any], key: str, part: str
) -> None:
    with pytest.raises(ConfigError) as err:
        PlatformConfig.from_context(fixed_context(**overrides), {})
    message = str(err.value)
    assert err.value.key == key, message
    assert message.startswith(f"config key '{key}' = "), message
    assert part in message, message
    assert "\n" not in message


def test_internet_anywhere_with_opt_in_and_certificate_is_accepted() -> None:
    cfg = config(
        shop_ingress="internet-facing",
        ingress_allowed_cidrs=["0.0.0.0/0"],
        allow_ingress_anywhere=True,
        ingress_certificate_arn=CERT,
    )
    assert ingress_annotations(cfg)[f"{ALB}inbound-cidrs"] == "0.0.0.0/0"

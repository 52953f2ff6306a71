"""PlatformConfig: every setting read from CDK context, typed and validated before anything is built."""

from __future__ import annotations

import contextlib
import difflib
import importlib.metadata
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from platform_checks.upstream_facts import load_fact
from platform_config import versions
from platform_config.aws_facts import (
    EKS_REGIONS,
    INSTANCE_TYPES,
    LOG_RETENTION_DAYS,
    SYSTEM_NODE_AMI_TYPE,
    SYSTEM_NODE_INSTANCE_TYPES,
)
from platform_config.errors import ConfigError
from platform_config.git_settings import redacted, ref_name_problem, repo_url_problem
from platform_config.raw_context import check_raw

__all__ = ["LOG_RETENTION_DAYS", "ConfigError", "PlatformConfig", "known_keys"]

# Cluster names: what every consumer accepts. EKS allows 1-100 of [0-9A-Za-z_-] starting alphanumeric;
# CloudFormation stack names (`<cluster_name>-Karpenter` is the longest) allow [A-Za-z0-9-] starting with a
# letter, 128 at most; the interruption queue is named after the cluster and SQS allows 80.
# Stack ids in deploy order: <cluster_name>-<suffix> (platform_config.target.stack_names).
STACK_SUFFIXES = {"network": "Network", "cluster": "Cluster", "karpenter": "Karpenter", "addons": "Addons"}
LONGEST_STACK_SUFFIX = "-" + max(STACK_SUFFIXES.values(), key=len)
CLUSTER_NAME_MAX = min(100, 128 - len(LONGEST_STACK_SUFFIX), 80)
CLUSTER_NAME_RE = re.compile(rf"[A-Za-z][A-Za-z0-9-]{{0,{CLUSTER_NAME_MAX - 1}}}")
ACCOUNT_RE = re.compile(r"[0-9]{12}")
# IAM role ARN: optional path of printable ASCII, a name of at most 64 of IAM's name characters. Access
# entries go to roles only: a role is assumed with short-lived credentials, an IAM user holds long-lived keys.
IAM_PRINCIPAL_ARN_RE = re.compile(
    r"arn:(?P<partition>[a-z-]+):iam::[0-9]{12}:role/(?:[!-~]{0,510}/)?[A-Za-z0-9+=,.@_-]{1,64}"
)
# A standard SNS topic for Alertmanager (FIFO topics need a message group id Alertmanager does not send).
SNS_TOPIC_ARN_RE = re.compile(r"arn:(?P<partition>[a-z-]+):sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}")
CIDR_RE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}/[0-9]{1,2}")
# The three RFC 1918 ranges: what EKS allows for the service CIDR, and what we allow for the VPC.
PRIVATE_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
# Ranges no internet client can come from (RFC 1918, shared, loopback, link-local, this-network, multicast,
# reserved): a public endpoint CIDR inside one of them matches nothing.
NON_INTERNET_RANGES = (
    *PRIVATE_RANGES,
    *(ipaddress.IPv4Network(n) for n in ("100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8")),
    *(ipaddress.IPv4Network(n) for n in ("224.0.0.0/4", "240.0.0.0/4")),
)
# Internet guard: public endpoint CIDRs covering more addresses than one /8 need the explicit opt-in.
PUBLIC_ADDRESSES_MAX = 2**24
PUBLIC_CIDRS_MAX = 40  # EKS quota: public endpoint access CIDR ranges per cluster
SYSTEM_NODES_MAX = 450  # EKS quota: nodes per managed node group
KARPENTER_LIMIT_MAX = 1_000_000
KARPENTER_CATEGORIES = ("c", "m", "r", "t", "i", "d", "x", "z", "g", "p", "inf", "trn", "hpc")
ARCHITECTURES = ("amd64", "arm64")
# AWS FIS target selection modes: COUNT(n) nodes or PERCENT(n) of the matching ones (ALL is refused: a drill
# interrupts a few nodes at a time, never the whole Spot pool).
DRILL_SELECTION_RE = re.compile(r"COUNT\((?:[1-9][0-9]?)\)|PERCENT\((?:[1-9]|[1-4][0-9]|50)\)")
AMI_ALIAS_RE = re.compile(r"al2023@v[0-9]{8}")
INT_RE = re.compile(r"-?[0-9]{1,18}")
# The shop's entry point (constructs_lib/shop_ingress.py): no load balancer, one inside the VPC, or one on the internet.
SHOP_INGRESS_MODES = ("off", "internal", "internet-facing")
ACM_CERTIFICATE_ARN_RE = re.compile(
    r"arn:(?P<partition>[a-z-]+):acm:(?P<region>[a-z0-9-]+):[0-9]{12}:certificate/[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}"
)
WAF_ACL_ARN_RE = re.compile(
    r"arn:(?P<partition>[a-z-]+):wafv2:(?P<region>[a-z0-9-]+):[0-9]{12}:regional/webacl/[A-Za-z0-9_-]{1,128}/[0-9a-f-]{36}"
)
PLACEHOLDER_ACCOUNT = "111111111111"
PLACEHOLDER_REPO = "https://github.com/example-org/eks-platform.git"
# GPG key ids as Argo CD's signatureKeys take them (`gpg --list-keys --keyid-format long`): 16 hex digits.
GPG_KEY_ID_RE = re.compile(r"[0-9A-F]{16}")
# cdk-nag's rule packs, named by the rule-id prefix each pack uses (NIST.800.53.R5-..., PCI.DSS.321-...).
COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
# The image-digest policy's failure action: Kyverno's names (Audit reports, Enforce refuses).
IMAGE_DIGEST_ACTIONS = ("Audit", "Enforce")


def key(default: Any, doc: str, *, shown_default: str | None = None) -> Any:
    """A config key's default and its one line of documentation: tools/generate/gen_docs.py writes the configuration
    reference (docs/configuration.md) from these, so each key is documented once, here."""
    metadata = {"doc": doc} if shown_default is None else {"doc": doc, "shown_default": shown_default}
    return field(default=default, metadata=metadata)


# The example each key's error message shows: a value that key accepts (tests/test_messages.py proves it).
EXAMPLES: dict[str, str] = {
    "vpc_cidr": "10.0.0.0/16",
    "service_ipv4_cidr": "172.20.0.0/16",
    "public_access_cidrs": "203.0.113.0/24",
    "ingress_allowed_cidrs": "203.0.113.0/24",
    "admin_principal_arns": "arn:aws:iam::123456789012:role/platform-admins",
    "viewer_principal_arns": "arn:aws:iam::123456789012:role/platform-viewers",
    "system_node_instance_types": "m6i.large",
    "karpenter_expire_after": "720h",
    "karpenter_consolidate_after": "30s",
    "ami_alias": "al2023@v20240807",
    "spot_drill_selection": "COUNT(1)",
}
# An STS session ARN (what `aws sts get-caller-identity` prints under an assumed role) names its role.
ASSUMED_ROLE_RE = re.compile(r"arn:(?P<partition>[a-z-]+):sts::(?P<account>[0-9]{12}):assumed-role/(?P<role>[^/]+)/.+")


def _suggest(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class PlatformConfig:
    """The platform's settings: each key's default is the secure, cheap one, documented beside it (key)."""

    cluster_name: str = key(
        "eks-platform",
        f"1-{CLUSTER_NAME_MAX} ASCII letters, digits and `-`, starting with a letter: what EKS, the CloudFormation "
        "stack names (`<cluster_name>-Network`, `-Cluster`, `-Karpenter`, `-Addons`) and the SQS interruption queue "
        "(named after the cluster) all accept",
    )
    account: str = key(
        PLACEHOLDER_ACCOUNT,
        "12 ASCII digits; the placeholder lets synth run without credentials and is replaced by "
        "`CDK_DEFAULT_ACCOUNT` when set; any other account must match the credentials' account when they are present",
    )
    region: str = key(
        "us-east-1",
        "a region where EKS is offered, per botocore's endpoint data (all partitions, "
        "`platform_config/aws_facts.json`); wins over `CDK_DEFAULT_REGION`",
    )
    availability_zones: tuple[str, ...] = key(
        ("us-east-1a", "us-east-1b", "us-east-1c"),
        "exactly 3 distinct zones of `region` (`<region>` plus one letter); explicit so synth makes no lookup",
    )
    vpc_cidr: str = key(
        "10.0.0.0/16",
        "IPv4 CIDR in prefix notation (no netmask, no host bits), /16 to /20, inside "
        + ", ".join(f"`{r}`" for r in PRIVATE_RANGES),
    )
    service_ipv4_cidr: str = key(
        "172.20.0.0/16",
        "prefix notation, /12 to /24, inside "
        + ", ".join(f"`{r}`" for r in PRIVATE_RANGES)
        + " (EKS's rule), not overlapping `vpc_cidr`",
    )
    nat_gateways: int = key(1, "1 (cheap: one AZ's NAT gateway) to one per availability zone (zonal HA)")
    interface_endpoints: bool = key(
        False,
        "`true` adds ECR api/dkr, STS, EC2, SQS and SSM interface endpoints in every AZ (an hourly cost per "
        "endpoint and zone: docs/runbook.md, What it costs)",
    )
    flow_log_retention_days: int = key(
        30,
        "VPC flow log retention in days, one of CloudWatch Logs' (`aws_logs.RetentionDays`): "
        + ", ".join(map(str, LOG_RETENTION_DAYS)),
    )
    log_retention_days: int = key(
        90,
        "the same retention values, for the EKS control-plane log group and the CDK handler Lambdas' groups "
        "(all KMS-encrypted)",
    )
    endpoint_access: str = key("private", "`private` or `public_and_private` (the API server's endpoint)")
    public_access_cidrs: tuple[str, ...] = key(
        (),
        f"required and only allowed with a public endpoint; at most {PUBLIC_CIDRS_MAX} (EKS quota), prefix notation, "
        "no repeats, none inside a range no internet client comes from (RFC 1918, 100.64/10, loopback, "
        f"link-local, 0/8, multicast, reserved). Internet guard: together covering more than {PUBLIC_ADDRESSES_MAX:,} "
        "addresses (one /8), e.g. `0.0.0.0/0`, needs `allow_public_endpoint_anywhere=true`",
    )
    allow_public_endpoint_anywhere: bool = key(
        False, "explicit opt-in to a public endpoint wider than the internet guard of `public_access_cidrs`"
    )
    admin_principal_arns: tuple[str, ...] = key(
        (),
        "IAM role ARNs of the region's partition (`arn:aws:iam::<12 digits>:role/[path/]name`), no repeats; they "
        "get cluster-admin access entries (IAM users are refused: they hold long-lived keys)",
    )
    viewer_principal_arns: tuple[str, ...] = key(
        (),
        "IAM role ARNs like `admin_principal_arns`; they get read-only access entries (AmazonEKSViewPolicy, "
        "cluster-wide, no Secrets)",
    )
    system_node_instance_types: tuple[str, ...] = key(
        ("m6i.large", "m6a.large", "m5.large"),
        "EC2 instance types from botocore's EC2 model that CDK's managed node group accepts with the system "
        f'nodes\' AMI type `{SYSTEM_NODE_AMI_TYPE}` (x86_64, no GPU); a typo gets a "did you mean"',
    )
    system_node_min: int = key(2, f"2 (nodes in 2+ AZs) to {SYSTEM_NODES_MAX}; at most `system_node_desired`")
    system_node_desired: int = key(2, "from `system_node_min` to `system_node_max`")
    system_node_max: int = key(
        4, f"from `system_node_desired` to {SYSTEM_NODES_MAX} (EKS's nodes per managed node group)"
    )
    system_node_disk_gib: int = key(50, "20 to 1000 GiB, encrypted gp3 root volume of each system node")
    git_repo_url: str = key(
        PLACEHOLDER_REPO,
        "the repository Argo CD syncs (the placeholder: set yours): `https://host/path`, "
        "`ssh://[user@]host[:port]/path` or `user@host:path`; no credentials, query, whitespace or leading `-` "
        "(see Private repositories)",
    )
    git_revision: str = key(
        "main",
        "a branch or tag name git accepts (`git check-ref-format` rules, printable ASCII, not starting with `-`) "
        "or a full commit id",
    )
    gitops_signature_keys: tuple[str, ...] = key(
        (),
        "GPG key ids (16 hex digits, `gpg --list-keys --keyid-format long`) whose signed commits Argo CD syncs; "
        "empty syncs unsigned commits (docs/runbook.md)",
    )
    karpenter_categories: tuple[str, ...] = key(
        ("c", "m", "r"), "instance categories both Karpenter NodePools may launch: " + ", ".join(KARPENTER_CATEGORIES)
    )
    karpenter_architectures: tuple[str, ...] = key(
        ("amd64",), "CPU architectures of Karpenter's nodes: " + " or ".join(ARCHITECTURES) + " or both"
    )
    karpenter_min_generation: int = key(5, "1 to 8; a Karpenter node's instance generation is greater than this")
    karpenter_spot_cpu_limit: int = key(200, f"Spot NodePool vCPU limit, 1 to {KARPENTER_LIMIT_MAX}")
    karpenter_spot_memory_limit_gib: int = key(800, f"Spot NodePool memory limit in GiB, 1 to {KARPENTER_LIMIT_MAX}")
    karpenter_on_demand_cpu_limit: int = key(64, f"On-Demand NodePool vCPU limit, 1 to {KARPENTER_LIMIT_MAX}")
    karpenter_on_demand_memory_limit_gib: int = key(
        256, f"On-Demand NodePool memory limit in GiB, 1 to {KARPENTER_LIMIT_MAX}"
    )
    karpenter_spot_weight: int = key(100, "1 to 100, greater than `karpenter_on_demand_weight` (Spot is preferred)")
    karpenter_on_demand_weight: int = key(10, "1 to 100, less than `karpenter_spot_weight`")
    karpenter_expire_after: str = key(
        "720h",
        "a Go duration of h/m/s (`720h`, `1h30m`; Karpenter's pattern) or `Never`: how long a Karpenter node lives",
    )
    karpenter_consolidate_after: str = key(
        "1m", "a Go duration of h/m/s: how long the Spot pool waits before it consolidates a node"
    )
    # "" = the release profile's pinned alias (filled in __post_init__, so ami_alias is always the one used).
    ami_alias: str = key(
        "",
        "a pinned AL2023 alias `al2023@v<8 digits>`, never `@latest`; set it to override the profile's pin",
        shown_default="the release profile's pin ("
        + ", ".join(f"`{p.ami_alias}` in {name}" for name, p in versions.PROFILES.items())
        + ")",
    )
    release: str = key(
        versions.DEFAULT_PROFILE,
        "the release profile, one of "
        + ", ".join(f"`{name}`" for name in versions.PROFILES)
        + " (docs/release-profiles.md), or a step of the seed-to-current upgrade plan built offline "
        "(`seed-to-current-step-NN`, platform_config/step_profiles.json, docs/upgrade-playbook.md): it decides the "
        "Kubernetes version, the kubectl layer and every pin; the former `kubernetes_version` key is refused with a "
        "message naming `release`",
    )
    alert_sns_topic_arn: str = key(
        "",
        "a standard SNS topic ARN Alertmanager publishes every alert to (a Pod Identity role with `sns:Publish` "
        "on that topic only); empty keeps alerts in the Alertmanager UI. An ARN, not a secret: docs/runbook.md, "
        "Alert routing",
        shown_default="empty (none)",
    )
    compliance_packs: tuple[str, ...] = key(
        (),
        "cdk-nag packs added beside AwsSolutions, any of "
        + ", ".join(f"`{p}`" for p in COMPLIANCE_PACKS)
        + "; each finding is fixed or acknowledged once with its reason (docs/security-model.md)",
    )
    shop_ingress: str = key(
        "internal",
        "`off`, `internal` or `internet-facing`: the shop's ALB (docs/shop-ingress.md)",
    )
    ingress_allowed_cidrs: tuple[str, ...] = key(
        (),
        "CIDRs that may reach the shop's ALB: required for `internet-facing` (same internet guard as the API "
        "endpoint); `internal` defaults to the VPC's range",
    )
    allow_ingress_anywhere: bool = key(
        False, "opt-in: admit internet-facing CIDR sets larger than the guard allows (e.g. 0.0.0.0/0)"
    )
    ingress_certificate_arn: str = key(
        "", "an ACM certificate ARN: HTTPS on 443 with HTTP redirected; required for `internet-facing` by default"
    )
    allow_ingress_plain_http: bool = key(
        False, "opt-in: an internet-facing shop without a certificate serves plain HTTP"
    )
    ingress_waf_acl_arn: str = key("", "an AWS WAFv2 web ACL ARN attached to the shop's ALB (optional)")
    # Opt-in AWS FIS Spot interruption drill (constructs_lib/spot_drill.py, make drill) and how many nodes it hits.
    spot_drill: bool = key(
        False,
        "`true` adds an AWS FIS experiment template (Karpenter stack, Output `SpotDrillTemplateId`) that sends a Spot "
        "interruption warning to this cluster's Karpenter Spot nodes only (by tag), stopped by an alarm on the "
        "interruption queue's backlog; `make drill` runs it (docs/runbook.md, Spot interruptions)",
    )
    spot_drill_selection: str = key(
        "COUNT(1)",
        "how many Spot nodes one drill interrupts: `COUNT(1)` to `COUNT(99)` or `PERCENT(1)` to `PERCENT(50)`",
    )

    # The image-digest policy (constructs_lib/image_admission.py): report tag-only images, or refuse them.
    image_digest_action: str = key(
        "Audit",
        "`Audit` or `Enforce`: the Kyverno policy requiring every container image by `@sha256:` digest reports "
        "tag-only images (PolicyReports), or refuses them (signature-verified images get their digest at admission; "
        "Enforce once Renovate has pinned the rest, docs/security-model.md)",
    )

    def __post_init__(self) -> None:
        if not self.ami_alias and self.release in versions.release_names():
            # An unbuildable step is refused with its reason in _validate_nodes.
            with contextlib.suppress(versions.UnbuildableStep):
                object.__setattr__(self, "ami_alias", versions.release_profile(self.release).ami_alias)

    @property
    def profile(self) -> versions.ReleaseProfile:
        """The selected release profile (name validated in from_context)."""
        return versions.release_profile(self.release)

    @property
    def kubernetes(self) -> versions.KubernetesRelease:
        """The profile's Kubernetes release: version, kubectl layer and EKS support calendar."""
        return self.profile.kubernetes

    @property
    def public_endpoint(self) -> bool:
        """Whether the API server has a public endpoint (limited to public_access_cidrs)."""
        return self.endpoint_access == "public_and_private"

    @classmethod
    def from_context(cls, context: Mapping[str, Any], env: Mapping[str, str] | None = None) -> PlatformConfig:
        """Build from the raw context (CDK_CONTEXT_JSON or cdk.json's `context`, as app_context reads it).

        Explicit beats implicit: CDK_DEFAULT_REGION fills only an unset region, CDK_DEFAULT_ACCOUNT only
        the placeholder account; credentials of another account than a configured one are an error.
        """
        env = env or {}
        check_removed_keys(context)
        check_raw(context, known_keys())
        get = context.get
        values: dict[str, Any] = {}
        defaults = cls()
        for f in fields(cls):
            raw = get(f.name)
            if raw is not None:
                values[f.name] = _coerce(f.name, raw, type(getattr(defaults, f.name)))
        credentials_account = env.get("CDK_DEFAULT_ACCOUNT") or None
        region_from_env = "region" not in values and bool(env.get("CDK_DEFAULT_REGION"))
        if region_from_env:
            values["region"] = env["CDK_DEFAULT_REGION"]
        if credentials_account and values.get("account", PLACEHOLDER_ACCOUNT) == PLACEHOLDER_ACCOUNT:
            values["account"] = credentials_account
        config = cls(**values)
        if region_from_env and "availability_zones" not in values and config.region != defaults.region:
            raise ConfigError(
                "availability_zones",
                list(config.availability_zones),
                f"accepted are 3 zones of region {config.region}, which comes from CDK_DEFAULT_REGION (your AWS "
                "profile) because the context sets no region: set region and availability_zones together",
            )
        config.validate()
        if credentials_account and config.account != credentials_account:
            raise ConfigError(
                "account",
                config.account,
                f"the AWS credentials in use are for account {credentials_account} (CDK_DEFAULT_ACCOUNT): "
                "synth stops so that cdk diff/deploy cannot act on another account than configured; use "
                f"credentials of {config.account} (AWS_PROFILE) or set account",
            )
        return config

    def validate(self) -> None:
        """Raise ConfigError on the first bad value, in documentation order."""
        self._validate_placement()
        self._validate_network()
        self._validate_endpoint()
        self._validate_nodes()
        self._validate_git()
        self._validate_karpenter()
        self._validate_alerting()
        self._validate_compliance()
        self._validate_ingress()
        self._validate_drill()
        self._validate_image_digest()

    def _validate_image_digest(self) -> None:
        if self.image_digest_action not in IMAGE_DIGEST_ACTIONS:
            accepted = f"accepted are {' or '.join(IMAGE_DIGEST_ACTIONS)} (the digest policy's failure action)"
            raise ConfigError(
                "image_digest_action",
                self.image_digest_action,
                accepted + _suggest(self.image_digest_action, list(IMAGE_DIGEST_ACTIONS)),
            )

    def _validate_compliance(self) -> None:
        for pack in self.compliance_packs:
            if pack not in COMPLIANCE_PACKS:
                accepted = f"accepted are {', '.join(COMPLIANCE_PACKS)} (cdk-nag's rule-id prefixes)"
                raise ConfigError("compliance_packs", pack, accepted + _suggest(pack, list(COMPLIANCE_PACKS)))

    def _validate_drill(self) -> None:
        if not DRILL_SELECTION_RE.fullmatch(self.spot_drill_selection):
            raise ConfigError(
                "spot_drill_selection",
                self.spot_drill_selection,
                "accepted is COUNT(1) to COUNT(99) or PERCENT(1) to PERCENT(50), such as "
                f"{EXAMPLES['spot_drill_selection']}: how many of the cluster's Spot nodes the drill interrupts at "
                "once (never ALL)",
            )

    def _validate_alerting(self) -> None:
        if not self.alert_sns_topic_arn:
            return
        match = SNS_TOPIC_ARN_RE.fullmatch(self.alert_sns_topic_arn)
        partition = EKS_REGIONS[self.region]
        if not match or match["partition"] != partition:
            raise ConfigError(
                "alert_sns_topic_arn",
                self.alert_sns_topic_arn,
                "accepted is empty (alerts stay in Alertmanager) or a standard SNS topic ARN of the region's "
                f"partition: arn:{partition}:sns:<region>:<12 digits>:<name> (not .fifo)",
            )

    def _validate_ingress(self) -> None:
        mode, cidrs = self.shop_ingress, self.ingress_allowed_cidrs
        if mode not in SHOP_INGRESS_MODES:
            raise ConfigError(
                "shop_ingress",
                mode,
                "accepted is 'off', 'internal' (default) or 'internet-facing'"
                + _suggest(mode, list(SHOP_INGRESS_MODES)),
            )
        if mode == "off":
            for key in ("ingress_allowed_cidrs", "ingress_certificate_arn", "ingress_waf_acl_arn"):
                if getattr(self, key):
                    value = getattr(self, key)
                    raise ConfigError(
                        key,
                        list(value) if isinstance(value, tuple) else value,
                        "accepted is empty when shop_ingress is 'off' (no load balancer uses it)",
                    )
            return
        if mode == "internet-facing":
            if not cidrs:
                raise ConfigError(
                    "ingress_allowed_cidrs",
                    [],
                    "accepted is a non-empty list of public CIDRs when shop_ingress is 'internet-facing'",
                )
            check_internet_cidrs(
                "ingress_allowed_cidrs", cidrs, opt_in="allow_ingress_anywhere", opted_in=self.allow_ingress_anywhere
            )
        else:
            for cidr in cidrs:
                _network("ingress_allowed_cidrs", cidr)
        partition = EKS_REGIONS[self.region]
        arn = self.ingress_certificate_arn
        match = ACM_CERTIFICATE_ARN_RE.fullmatch(arn)
        if arn and (not match or match["partition"] != partition or match["region"] != self.region):
            raise ConfigError(
                "ingress_certificate_arn",
                arn,
                f"accepted is empty or an ACM certificate ARN in the cluster's region: arn:{partition}:acm:"
                f"{self.region}:<12 digits>:certificate/<uuid> (an ALB takes certificates of its own region)",
            )
        if mode == "internet-facing" and not arn and not self.allow_ingress_plain_http:
            raise ConfigError(
                "ingress_certificate_arn",
                "",
                "accepted is an ACM certificate ARN when shop_ingress is 'internet-facing' (HTTPS, HTTP redirected); "
                "serving plain HTTP on the internet needs allow_ingress_plain_http=true",
            )
        waf = self.ingress_waf_acl_arn
        match = WAF_ACL_ARN_RE.fullmatch(waf)
        if waf and (not match or match["partition"] != partition or match["region"] != self.region):
            raise ConfigError(
                "ingress_waf_acl_arn",
                waf,
                f"accepted is empty or a regional WAFv2 web ACL ARN in the cluster's region: arn:{partition}:wafv2:"
                f"{self.region}:<12 digits>:regional/webacl/<name>/<id>",
            )

    def _validate_placement(self) -> None:
        if not CLUSTER_NAME_RE.fullmatch(self.cluster_name):
            raise ConfigError(
                "cluster_name",
                self.cluster_name,
                f"accepted is 1-{CLUSTER_NAME_MAX} ASCII letters, digits and '-', starting with a letter: what EKS, "
                f"CloudFormation stack names (<cluster_name>{LONGEST_STACK_SUFFIX}) and the SQS interruption queue "
                "(named after the cluster) all accept",
            )
        if not ACCOUNT_RE.fullmatch(self.account):
            raise ConfigError("account", self.account, "accepted is a 12-digit AWS account id")
        if self.region not in EKS_REGIONS:
            raise ConfigError(
                "region",
                self.region,
                "accepted is a region where EKS is offered (botocore's endpoint data, platform_config/aws_facts.json)"
                + _suggest(self.region, list(EKS_REGIONS)),
            )
        azs = self.availability_zones
        if len(azs) != 3:
            raise ConfigError("availability_zones", list(azs), "accepted is exactly 3 distinct zones")
        for az in azs:
            if not re.fullmatch(re.escape(self.region) + "[a-z]", az):
                raise ConfigError(
                    "availability_zones",
                    az,
                    f"accepted are zones of region {self.region} ({self.region}a ...); set region and zones together",
                )

    def _validate_network(self) -> None:
        vpc = _network("vpc_cidr", self.vpc_cidr)
        if not (16 <= vpc.prefixlen <= 20 and any(vpc.subnet_of(r) for r in PRIVATE_RANGES)):
            raise ConfigError(
                "vpc_cidr",
                self.vpc_cidr,
                "accepted is a /16 to /20 (room for 9 subnets) inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
            )
        svc = _network("service_ipv4_cidr", self.service_ipv4_cidr)
        if not (12 <= svc.prefixlen <= 24 and any(svc.subnet_of(r) for r in PRIVATE_RANGES)):
            raise ConfigError(
                "service_ipv4_cidr",
                self.service_ipv4_cidr,
                "accepted is a /12 to /24 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (EKS's rule)",
            )
        if vpc.overlaps(svc):
            raise ConfigError(
                "service_ipv4_cidr",
                self.service_ipv4_cidr,
                f"accepted is a range that does not overlap vpc_cidr {self.vpc_cidr}",
            )
        n_azs = len(self.availability_zones)
        if not 1 <= self.nat_gateways <= n_azs:
            raise ConfigError(
                "nat_gateways", self.nat_gateways, f"accepted is 1 (cheap) to {n_azs} (one per AZ, zonal HA)"
            )
        # Flow logs, and the control-plane and handler log groups (log_retention_days).
        for key in ("flow_log_retention_days", "log_retention_days"):
            if getattr(self, key) not in LOG_RETENTION_DAYS:
                raise ConfigError(
                    key,
                    getattr(self, key),
                    "accepted is a CloudWatch Logs retention in days (aws_logs.RetentionDays): "
                    + ", ".join(map(str, LOG_RETENTION_DAYS)),
                )

    def _validate_endpoint(self) -> None:
        if self.endpoint_access not in ("private", "public_and_private"):
            raise ConfigError("endpoint_access", self.endpoint_access, "accepted is 'private' or 'public_and_private'")
        cidrs = self.public_access_cidrs
        if self.public_endpoint and not cidrs:
            raise ConfigError(
                "public_access_cidrs", [], "accepted is a non-empty list of CIDRs when endpoint_access is public"
            )
        if not self.public_endpoint and cidrs:
            raise ConfigError(
                "public_access_cidrs", list(cidrs), "accepted is an empty list when endpoint_access is 'private'"
            )
        if len(cidrs) > PUBLIC_CIDRS_MAX:
            raise ConfigError(
                "public_access_cidrs", list(cidrs), f"accepted is at most {PUBLIC_CIDRS_MAX} CIDRs (EKS quota)"
            )
        check_internet_cidrs(
            "public_access_cidrs",
            cidrs,
            opt_in="allow_public_endpoint_anywhere",
            opted_in=self.allow_public_endpoint_anywhere,
        )
        partition = EKS_REGIONS[self.region]
        for key in ("admin_principal_arns", "viewer_principal_arns"):
            for arn in getattr(self, key):
                match = IAM_PRINCIPAL_ARN_RE.fullmatch(arn)
                if not match or match["partition"] != partition:
                    raise _principal_error(key, arn, partition)

    def _validate_nodes(self) -> None:
        if self.release not in versions.release_names():
            raise ConfigError(
                "release",
                self.release,
                f"accepted is one of {', '.join(sorted(versions.PROFILES))} (a release profile in "
                "platform_config/versions.py) or an upgrade step seed-to-current-step-NN "
                "(platform_config/step_profiles.json)",
            )
        try:
            versions.release_profile(self.release)
        except versions.UnbuildableStep as err:
            raise ConfigError("release", self.release, f"accepted is a step built offline: {err}") from None
        if not self.system_node_instance_types:
            raise ConfigError("system_node_instance_types", [], "accepted is at least one instance type")
        for itype in self.system_node_instance_types:
            if itype not in INSTANCE_TYPES:
                raise ConfigError(
                    "system_node_instance_types",
                    itype,
                    "accepted is an EC2 instance type in botocore's EC2 model, such as "
                    + EXAMPLES["system_node_instance_types"]
                    + _suggest(itype, sorted(INSTANCE_TYPES)),
                )
            if itype not in SYSTEM_NODE_INSTANCE_TYPES:
                raise ConfigError(
                    "system_node_instance_types",
                    itype,
                    f"accepted is an x86_64 type without GPU: the system node group runs {SYSTEM_NODE_AMI_TYPE}",
                )
        if not 2 <= self.system_node_min <= SYSTEM_NODES_MAX:
            raise ConfigError(
                "system_node_min",
                self.system_node_min,
                f"accepted is 2 (nodes in 2+ AZs) to {SYSTEM_NODES_MAX} (EKS managed node group limit)",
            )
        if not self.system_node_min <= self.system_node_max <= SYSTEM_NODES_MAX:
            raise ConfigError(
                "system_node_max",
                self.system_node_max,
                f"accepted is from system_node_min ({self.system_node_min}) to {SYSTEM_NODES_MAX} "
                "(EKS managed node group limit)",
            )
        if not self.system_node_min <= self.system_node_desired <= self.system_node_max:
            raise ConfigError(
                "system_node_desired",
                self.system_node_desired,
                f"accepted is from system_node_min ({self.system_node_min}) "
                f"to system_node_max ({self.system_node_max})",
            )
        if not 20 <= self.system_node_disk_gib <= 1000:
            raise ConfigError("system_node_disk_gib", self.system_node_disk_gib, "accepted is 20 to 1000 GiB")

    def _validate_git(self) -> None:
        problem = repo_url_problem(self.git_repo_url)
        if problem:
            raise ConfigError(
                "git_repo_url",
                self.git_repo_url,
                f"accepted is https://host/path, ssh://[user@]host/path or user@host:path; refused because {problem}",
                shown_as=repr(redacted(self.git_repo_url)[:60]),
            )
        problem = ref_name_problem(self.git_revision)
        if problem:
            raise ConfigError(
                "git_revision",
                self.git_revision,
                f"accepted is a branch or tag name git accepts (git check-ref-format) or a full commit id; "
                f"refused because {problem}",
            )
        for key_id in self.gitops_signature_keys:
            if not GPG_KEY_ID_RE.fullmatch(key_id):
                raise ConfigError(
                    "gitops_signature_keys",
                    key_id,
                    "accepted is a GPG key id of 16 upper-case hex digits (gpg --list-keys --keyid-format long)",
                )

    def _validate_karpenter(self) -> None:
        if not self.karpenter_categories:
            raise ConfigError("karpenter_categories", [], f"accepted is a non-empty subset of {KARPENTER_CATEGORIES}")
        for cat in self.karpenter_categories:
            if cat not in KARPENTER_CATEGORIES:
                raise ConfigError("karpenter_categories", cat, f"accepted are {', '.join(KARPENTER_CATEGORIES)}")
        if not self.karpenter_architectures:
            raise ConfigError("karpenter_architectures", [], "accepted is amd64, arm64 or both")
        for arch in self.karpenter_architectures:
            if arch not in ARCHITECTURES:
                raise ConfigError("karpenter_architectures", arch, "accepted are amd64 and arm64")
        if not 1 <= self.karpenter_min_generation <= 8:
            raise ConfigError(
                "karpenter_min_generation",
                self.karpenter_min_generation,
                "accepted is 1 to 8 (generation > N)",
            )
        for key in (
            "karpenter_spot_cpu_limit",
            "karpenter_spot_memory_limit_gib",
            "karpenter_on_demand_cpu_limit",
            "karpenter_on_demand_memory_limit_gib",
        ):
            if not 1 <= getattr(self, key) <= KARPENTER_LIMIT_MAX:
                raise ConfigError(
                    key, getattr(self, key), f"accepted is a positive integer up to {KARPENTER_LIMIT_MAX}"
                )
        for key in ("karpenter_spot_weight", "karpenter_on_demand_weight"):
            if not 1 <= getattr(self, key) <= 100:
                raise ConfigError(key, getattr(self, key), "accepted is 1 to 100 (Karpenter NodePool weight)")
        if self.karpenter_spot_weight <= self.karpenter_on_demand_weight:
            raise ConfigError(
                "karpenter_spot_weight",
                self.karpenter_spot_weight,
                f"accepted is greater than karpenter_on_demand_weight ({self.karpenter_on_demand_weight}) "
                "so that Karpenter prefers Spot",
            )
        for key in ("karpenter_expire_after", "karpenter_consolidate_after"):
            value = getattr(self, key)
            if value == "Never" and key == "karpenter_expire_after":
                continue
            # "Never" matches the CRD's pattern too, but a node pool that never consolidates is refused here.
            if value == "Never" or not nodepool_duration(self.profile.files_profile("karpenter-crd"), key).fullmatch(
                value
            ):
                raise ConfigError(key, value, f"accepted is a Go duration of h/m/s such as {EXAMPLES[key]} or 1h30m")
        if not AMI_ALIAS_RE.fullmatch(self.ami_alias):
            raise ConfigError(
                "ami_alias",
                self.ami_alias,
                f"accepted is a pinned AL2023 alias such as {EXAMPLES['ami_alias']} (not @latest)",
            )


def check_internet_cidrs(key: str, cidrs: tuple[str, ...], *, opt_in: str, opted_in: bool) -> None:
    """The internet guard of every public listener (API endpoint, shop load balancer): internet-routable ranges
    only, and together at most one /8 unless the `opt_in` key says otherwise."""
    # A single host is a sensible source of a public listener: a CIDR with host bits set also suggests its /32.
    nets = [_network(key, cidr, one_address=True) for cidr in cidrs]
    for cidr, net in zip(cidrs, nets, strict=True):
        if any(net.subnet_of(r) for r in NON_INTERNET_RANGES):
            raise ConfigError(
                key,
                cidr,
                "accepted are public (internet-routable) ranges: a public listener only sees internet source "
                "addresses; clients inside the VPC use the private path",
            )
    covered = sum(n.num_addresses for n in ipaddress.collapse_addresses(nets))
    if covered > PUBLIC_ADDRESSES_MAX and not opted_in:
        raise ConfigError(
            key,
            list(cidrs),
            f"accepted are restricted CIDRs covering at most {PUBLIC_ADDRESSES_MAX} addresses (one /8) in total; "
            f"opening it to the internet needs {opt_in}=true",
        )


def nodepool_duration(release: str, key: str) -> re.Pattern[str]:
    """The pattern the release's Karpenter NodePool CRD gives expireAfter or consolidateAfter, read from
    upstream_facts/<release>/crds/ so that it follows the pin instead of being retyped."""
    spec = load_fact("crds/karpenter.sh_nodepools.json", release)["versions"]["v1"]["schema"]["properties"]["spec"]
    fields = {
        "karpenter_expire_after": spec["properties"]["template"]["properties"]["spec"]["properties"]["expireAfter"],
        "karpenter_consolidate_after": spec["properties"]["disruption"]["properties"]["consolidateAfter"],
    }
    return re.compile(fields[key]["pattern"])


def _network(key: str, cidr: str, *, one_address: bool = False) -> ipaddress.IPv4Network:
    """The CIDR as a network; a CIDR with host bits set is refused with the network it lies in (and, where one
    address is a sensible value, that address as /32)."""
    accepted = f"accepted is an IPv4 CIDR in prefix notation with no host bits set, such as {EXAMPLES[key]}"
    if not CIDR_RE.fullmatch(cidr):
        raise ConfigError(key, cidr, accepted)
    try:
        return ipaddress.IPv4Network(cidr, strict=True)
    except ValueError:
        pass
    try:
        network = ipaddress.IPv4Network(cidr, strict=False)
    except ValueError:
        raise ConfigError(key, cidr, accepted) from None
    address = cidr.split("/")[0]
    forms = f"{network} (the whole network)" + (f" or {address}/32 (that one address)" if one_address else "")
    raise ConfigError(key, cidr, f"{accepted}: {cidr} has host bits set; did you mean {forms}?")


def _principal_error(key: str, arn: str, partition: str) -> ConfigError:
    """Why a principal ARN is refused, with the role ARN to use when it is an assumed-role session."""
    example = EXAMPLES[key].replace("arn:aws:", f"arn:{partition}:", 1)
    accepted = (
        f"accepted is an IAM role ARN of the region's partition, arn:{partition}:iam::<12 digits>:role/<name> "
        f"(a path is allowed), such as {example}"
    )
    session = ASSUMED_ROLE_RE.fullmatch(arn)
    if session:
        role = f"arn:{session['partition']}:iam::{session['account']}:role/{session['role']}"
        why = (
            f"; this is an STS session of role {session['role']} (what get-caller-identity prints): use {role} "
            "(with the role's path, if it has one: aws iam get-role --role-name " + session["role"] + ")"
        )
    elif ":user/" in arn:
        why = "; IAM users are refused: they hold long-lived keys, give people a role to assume"
    else:
        why = ""
    # An ARN is no secret: shown whole (up to IAM's 2048 characters), so the user sees which entry it is.
    return ConfigError(key, arn, accepted + why, shown_as=repr(arn[:2048]))


def _coerce(key: str, raw: Any, kind: type) -> Any:
    """Context from cdk.json is JSON; from `-c key=value` it is a string: accept both, nothing looser."""
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.isascii() and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ConfigError(key, raw, "accepted is true or false")
    if kind is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and INT_RE.fullmatch(raw):
            return int(raw)
        raise ConfigError(key, raw, "accepted is an integer")
    if kind is tuple:
        if isinstance(raw, str):
            text = raw.strip()
            if text.startswith("["):
                try:
                    raw = json.loads(text)
                except (ValueError, RecursionError):
                    raw = _unquoted_list(key, text)
            else:
                raw = [part.strip() for part in text.split(",") if part.strip()]
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise ConfigError(key, raw, "accepted is a list of strings")
        for i, item in enumerate(raw):
            if item in raw[:i]:
                raise ConfigError(key, item, "accepted is a list without repeats; this one is listed twice")
        return tuple(raw)
    if not isinstance(raw, str):
        raise ConfigError(key, raw, "accepted is a string")
    return raw


def _unquoted_list(key: str, text: str) -> list[str]:
    """[a,b]: what a shell leaves of ["a","b"] inside make's ARGS="-c key=[...]" (README: make's interface)."""
    inner = text[1:-1] if text.endswith("]") else None
    if inner is None or any(ch in inner for ch in "[]{}\"'"):
        raise ConfigError(
            key,
            text,
            'accepted is a JSON list, a comma-separated string (a,b) or [a,b] (what the shell leaves of ["a","b"])',
        )
    return [part.strip() for part in inner.split(",") if part.strip()]


# Keys no construct reads, each with why it still belongs in the configuration (tests/test_config_wiring.py
# builds the app once and fails on any other key that reaches no construct, and on an entry here that does).
NOT_READ_BY_CONSTRUCTS: dict[str, str] = {
    "allow_public_endpoint_anywhere": "an opt-in that only the validation of public_access_cidrs reads",
    "allow_ingress_anywhere": "an opt-in that only the validation of ingress_allowed_cidrs reads",
    "allow_ingress_plain_http": "an opt-in that only the validation of ingress_certificate_arn reads",
}


def known_keys() -> set[str]:
    """Context keys PlatformConfig reads."""
    return {f.name for f in fields(PlatformConfig)}


def _removed_keys() -> dict[str, str]:
    """Keys older versions of this repo read, with what replaced them (a fork's cdk.json may still set them)."""
    releases = ", ".join(f"{name} is {p.kubernetes.version}" for name, p in sorted(versions.PROFILES.items()))
    return {
        "kubernetes_version": "removed: the Kubernetes version follows the release profile, so the kubectl "
        f"layer, Karpenter and every chart pin agree with it; set `release` instead ({releases})",
    }


def check_removed_keys(context: Mapping[str, Any]) -> None:
    """A key this repo no longer reads is refused with what replaced it, not as an unknown key."""
    removed = _removed_keys()
    for key in sorted(context):
        if key in removed:
            raise ConfigError(key, context[key], removed[key])


def refuse_placeholder_repo_against_account(config: PlatformConfig, env: Mapping[str, str]) -> None:
    """With credentials (the CLI sets CDK_DEFAULT_ACCOUNT) the placeholder repo would be synced from a stranger."""
    if config.git_repo_url == PLACEHOLDER_REPO and env.get("CDK_DEFAULT_ACCOUNT"):
        raise ConfigError(
            "git_repo_url",
            config.git_repo_url,
            "accepted is your fork's URL before `cdk diff`/`cdk deploy` against an account "
            f"(CDK_DEFAULT_ACCOUNT={env['CDK_DEFAULT_ACCOUNT']} is set): ArgoCD would apply whatever that repository "
            "holds as cluster content. Set git_repo_url in cdk.json or pass -c git_repo_url=https://...",
        )


# The region variables the AWS CLI and SDKs read; the CDK CLI's own CDK_DEFAULT_REGION is derived from them.
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def refuse_other_region(region: str, env: Mapping[str, str]) -> None:
    """The configured region (cdk.json's `region`, or -c region=) is where everything goes; an AWS_REGION or
    AWS_DEFAULT_REGION naming another region stops make, the scripts and the app alike (neither wins silently)."""
    for variable in REGION_VARIABLES:
        value = env.get(variable)
        if value and value != region:
            raise ConfigError(
                "region",
                region,
                f"your environment sets {variable}={value}: the configuration decides the region, so both must "
                f"agree; unset {variable}, or deploy to {value} with -c region={value} and its "
                "availability_zones (ARGS, or cdk.json)",
            )


def app_config(context: Mapping[str, Any], env: Mapping[str, str]) -> PlatformConfig:
    """Everything the app refuses before it builds (app.py calls it before the CDK is loaded, build_app again)."""
    config = PlatformConfig.from_context(context, env)
    refuse_other_region(config.region, env)
    refuse_placeholder_repo_against_account(config, env)
    refuse_missing_kubectl_layer(config)
    return config


def refuse_missing_kubectl_layer(config: PlatformConfig) -> None:
    """An upgrade step at a minor between the profiles needs that minor's kubectl layer, which requirements.txt
    does not install (platform_config/eks_rules.py pins it): one line with the command, not a traceback."""
    release = config.kubernetes
    try:  # the installed distribution, read without importing the CDK (app.py checks before loading it)
        importlib.metadata.version(release.kubectl_layer_package.partition("==")[0])
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(
            "release",
            config.release,
            f"accepted once Kubernetes {release.version}'s kubectl layer is installed (make synth, diff and deploy "
            f"install it): .venv/bin/pip install {release.kubectl_layer_package}",
        ) from None

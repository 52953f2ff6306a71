"""PlatformConfig: every setting read from CDK context, typed and validated before anything is built."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from platform_config import versions


class ConfigError(ValueError):
    """One bad context value: names the key, the value and what is accepted."""

    def __init__(self, key: str, value: object, accepted: str) -> None:
        self.key = key
        self.value = value
        self.accepted = accepted
        super().__init__(f"config key '{key}' = {value!r}: {accepted}")


# EKS: 1-100 characters, starts with a letter or digit, then letters, digits, hyphens, underscores.
# We allow 1-80 because the Karpenter interruption queue is named after the cluster and SQS allows 80.
CLUSTER_NAME_RE = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,79}$")
IAM_PRINCIPAL_ARN_RE = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
ACCOUNT_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[0-9a-z]+$")
GIT_URL_RE = re.compile(r"^(https://[^\s/]+/\S+|git@[^\s:]+:\S+|ssh://\S+)$")
KARPENTER_CATEGORIES = ("c", "m", "r", "t", "i", "d", "x", "z", "g", "p", "inf", "trn", "hpc")
ARCHITECTURES = ("amd64", "arm64")
DURATION_RE = re.compile(r"^(\d+h)?(\d+m)?(\d+s)?$")
PLACEHOLDER_ACCOUNT = "111111111111"
# CloudWatch Logs retention periods (days) and the aws_logs.RetentionDays member for each.
LOG_RETENTION_DAYS: dict[int, str] = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
    60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS",
    365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS",
}  # fmt: skip
PLACEHOLDER_REPO = "https://github.com/example-org/eks-platform.git"


@dataclass(frozen=True)
class PlatformConfig:
    """The platform's settings; defaults are the secure, cheap ones documented in the README."""

    cluster_name: str = "eks-platform"
    account: str = PLACEHOLDER_ACCOUNT
    region: str = "us-east-1"
    availability_zones: tuple[str, ...] = ("us-east-1a", "us-east-1b", "us-east-1c")
    vpc_cidr: str = "10.0.0.0/16"
    service_ipv4_cidr: str = "172.20.0.0/16"
    nat_gateways: int = 1
    interface_endpoints: bool = False
    flow_log_retention_days: int = 30
    log_retention_days: int = 90
    endpoint_access: str = "private"
    public_access_cidrs: tuple[str, ...] = ()
    allow_public_endpoint_anywhere: bool = False
    admin_principal_arns: tuple[str, ...] = ()
    viewer_principal_arns: tuple[str, ...] = ()
    kubernetes_version: str = "1.29"
    system_node_instance_types: tuple[str, ...] = ("m6i.large", "m6a.large", "m5.large")
    system_node_min: int = 2
    system_node_desired: int = 2
    system_node_max: int = 4
    system_node_disk_gib: int = 50
    git_repo_url: str = PLACEHOLDER_REPO
    git_revision: str = "main"
    karpenter_categories: tuple[str, ...] = ("c", "m", "r")
    karpenter_architectures: tuple[str, ...] = ("amd64",)
    karpenter_min_generation: int = 5
    karpenter_spot_cpu_limit: int = 200
    karpenter_spot_memory_limit_gib: int = 800
    karpenter_on_demand_cpu_limit: int = 64
    karpenter_on_demand_memory_limit_gib: int = 256
    karpenter_spot_weight: int = 100
    karpenter_on_demand_weight: int = 10
    karpenter_expire_after: str = "720h"
    karpenter_consolidate_after: str = "1m"
    ami_alias: str = versions.AMI_ALIAS
    release: str = versions.DEFAULT_PROFILE

    @property
    def profile(self) -> versions.ReleaseProfile:
        """The selected release profile (name validated in from_context)."""
        return versions.PROFILES[self.release]

    @property
    def kubernetes(self) -> versions.KubernetesRelease:
        """The pinned Kubernetes release (version validated in from_context)."""
        return versions.KUBERNETES[self.kubernetes_version]

    @property
    def public_endpoint(self) -> bool:
        """Whether the API server has a public endpoint (limited to public_access_cidrs)."""
        return self.endpoint_access == "public_and_private"

    @classmethod
    def from_context(cls, get: Callable[[str], Any], env: Mapping[str, str] | None = None) -> PlatformConfig:
        """Build from a context getter (``app.node.try_get_context``); CDK_DEFAULT_* env vars win."""
        env = env or {}
        values: dict[str, Any] = {}
        defaults = cls()
        for f in fields(cls):
            raw = get(f.name)
            if raw is None:
                continue
            values[f.name] = _coerce(f.name, raw, type(getattr(defaults, f.name)))
        if env.get("CDK_DEFAULT_ACCOUNT"):
            values["account"] = env["CDK_DEFAULT_ACCOUNT"]
        if env.get("CDK_DEFAULT_REGION"):
            values["region"] = env["CDK_DEFAULT_REGION"]
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ConfigError on the first bad value, in documentation order."""
        if not CLUSTER_NAME_RE.match(self.cluster_name):
            raise ConfigError(
                "cluster_name",
                self.cluster_name,
                "accepted is 1-80 characters: a letter or digit, then letters, digits, '-' or '_' "
                "(EKS's rule, capped at SQS's 80 for the interruption queue name)",
            )
        if not ACCOUNT_RE.match(self.account):
            raise ConfigError("account", self.account, "accepted is a 12-digit AWS account id")
        if not REGION_RE.match(self.region):
            raise ConfigError("region", self.region, "accepted is an AWS region name such as us-east-1")
        azs = self.availability_zones
        if len(azs) != 3 or len(set(azs)) != 3:
            raise ConfigError("availability_zones", list(azs), "accepted is exactly 3 distinct zones")
        for az in azs:
            if not re.fullmatch(re.escape(self.region) + r"[a-z]", az):
                raise ConfigError(
                    "availability_zones",
                    az,
                    f"accepted are zones of region {self.region} ({self.region}a ...)",
                )
        vpc = _network("vpc_cidr", self.vpc_cidr)
        if not 16 <= vpc.prefixlen <= 20:
            raise ConfigError("vpc_cidr", self.vpc_cidr, "accepted is a prefix from /16 to /20 (room for 6 subnets)")
        svc = _network("service_ipv4_cidr", self.service_ipv4_cidr)
        if not (svc.is_private and 12 <= svc.prefixlen <= 24):
            raise ConfigError(
                "service_ipv4_cidr",
                self.service_ipv4_cidr,
                "accepted is a private range from /12 to /24 (EKS)",
            )
        if vpc.overlaps(svc):
            raise ConfigError(
                "service_ipv4_cidr",
                self.service_ipv4_cidr,
                f"accepted is a range that does not overlap vpc_cidr {self.vpc_cidr}",
            )
        if not 1 <= self.nat_gateways <= len(azs):
            raise ConfigError(
                "nat_gateways",
                self.nat_gateways,
                f"accepted is 1 (cheap) to {len(azs)} (one per AZ, zonal HA)",
            )
        if self.flow_log_retention_days not in LOG_RETENTION_DAYS:
            raise ConfigError(
                "flow_log_retention_days",
                self.flow_log_retention_days,
                f"accepted is a CloudWatch Logs retention in days: {', '.join(map(str, LOG_RETENTION_DAYS))}",
            )
        if self.endpoint_access not in ("private", "public_and_private"):
            raise ConfigError("endpoint_access", self.endpoint_access, "accepted is 'private' or 'public_and_private'")
        if self.public_endpoint and not self.public_access_cidrs:
            raise ConfigError(
                "public_access_cidrs",
                [],
                "accepted is a non-empty list of CIDRs when endpoint_access is public",
            )
        if not self.public_endpoint and self.public_access_cidrs:
            raise ConfigError(
                "public_access_cidrs",
                list(self.public_access_cidrs),
                "accepted is an empty list when endpoint_access is 'private'",
            )
        for cidr in self.public_access_cidrs:
            net = _network("public_access_cidrs", cidr)
            if net.prefixlen == 0 and not self.allow_public_endpoint_anywhere:
                raise ConfigError(
                    "public_access_cidrs",
                    cidr,
                    "accepted are restricted CIDRs; opening the API to the internet needs "
                    "allow_public_endpoint_anywhere=true",
                )
        for arn in self.admin_principal_arns:
            if not IAM_PRINCIPAL_ARN_RE.match(arn):
                raise ConfigError(
                    "admin_principal_arns",
                    arn,
                    "accepted is an IAM role or user ARN: arn:aws:iam::<12 digits>:role/<name>",
                )
        if self.release not in versions.PROFILES:
            raise ConfigError(
                "release",
                self.release,
                f"accepted is one of {', '.join(sorted(versions.PROFILES))} (a release profile in "
                "platform_config/versions.py)",
            )
        if self.kubernetes_version not in versions.KUBERNETES:
            raise ConfigError(
                "kubernetes_version",
                self.kubernetes_version,
                f"accepted is one of {sorted(versions.KUBERNETES)} (a version with a pinned kubectl layer)",
            )
        if not self.system_node_instance_types:
            raise ConfigError("system_node_instance_types", [], "accepted is at least one instance type")
        for itype in self.system_node_instance_types:
            if not INSTANCE_TYPE_RE.match(itype):
                raise ConfigError("system_node_instance_types", itype, "accepted is an EC2 type such as m6i.large")
        if self.system_node_min < 2:
            raise ConfigError("system_node_min", self.system_node_min, "accepted is 2 or more (nodes in 2+ AZs)")
        if self.system_node_min > self.system_node_max:
            raise ConfigError(
                "system_node_min",
                self.system_node_min,
                f"accepted is at most system_node_max ({self.system_node_max})",
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
        if not GIT_URL_RE.match(self.git_repo_url):
            raise ConfigError("git_repo_url", self.git_repo_url, "accepted is an https:// or ssh git URL")
        if not re.fullmatch(r"[\w./-]{1,200}", self.git_revision):
            raise ConfigError("git_revision", self.git_revision, "accepted is a branch, tag or commit")
        self._validate_karpenter()
        self._validate_security()

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
            if getattr(self, key) <= 0:
                raise ConfigError(key, getattr(self, key), "accepted is a positive integer")
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
            if not value or not DURATION_RE.fullmatch(value):
                raise ConfigError(key, value, "accepted is a Go duration of h/m/s such as 720h or 30s")
        if not re.fullmatch(r"al2023@v\d{8}", self.ami_alias):
            raise ConfigError(
                "ami_alias",
                self.ami_alias,
                "accepted is a pinned AL2023 alias such as al2023@v20240807 (not @latest)",
            )

    def _validate_security(self) -> None:
        """Log retention is a CloudWatch value; access entries go to IAM roles only (a user holds long-lived keys)."""
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ConfigError(
                "log_retention_days",
                self.log_retention_days,
                f"accepted is a CloudWatch Logs retention in days: {', '.join(map(str, LOG_RETENTION_DAYS))}",
            )
        for key in ("admin_principal_arns", "viewer_principal_arns"):
            for arn in getattr(self, key):
                if not ROLE_ARN_RE.fullmatch(arn):
                    raise ConfigError(
                        key,
                        arn,
                        "accepted is an IAM role ARN: arn:aws:iam::<12 digits>:role/<name> (IAM users are refused: "
                        "they hold long-lived keys; give people a role to assume)",
                    )


ROLE_ARN_RE = re.compile(r"arn:[a-z-]+:iam::[0-9]{12}:role/(?:[!-~]{0,510}/)?[A-Za-z0-9+=,.@_-]{1,64}")


def _network(key: str, cidr: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(cidr, strict=True)
    except (ValueError, TypeError):
        raise ConfigError(key, cidr, "accepted is an IPv4 CIDR with no host bits set, such as 10.0.0.0/16") from None


def _coerce(key: str, raw: Any, kind: type) -> Any:
    """Context from cdk.json is JSON; from `-c key=value` it is a string: accept both."""
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ConfigError(key, raw, "accepted is true or false")
    if kind is int:
        if isinstance(raw, bool):
            raise ConfigError(key, raw, "accepted is an integer")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip()):
            return int(raw)
        raise ConfigError(key, raw, "accepted is an integer")
    if kind is tuple:
        if isinstance(raw, str):
            text = raw.strip()
            if text.startswith("["):
                try:
                    raw = json.loads(text)
                except json.JSONDecodeError:
                    raise ConfigError(key, raw, "accepted is a JSON list or a comma-separated string") from None
            else:
                raw = [part.strip() for part in text.split(",") if part.strip()]
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise ConfigError(key, raw, "accepted is a list of strings")
        return tuple(raw)
    if not isinstance(raw, str):
        raise ConfigError(key, raw, "accepted is a string")
    return raw


def known_keys() -> set[str]:
    """Context keys PlatformConfig reads (used to reject typos such as nat_gateway)."""
    return {f.name for f in fields(PlatformConfig)}


def check_unknown_keys(context: Mapping[str, Any]) -> None:
    """Reject a context key that looks like ours but is not (CDK's own keys contain ':' or start with '@')."""
    for key in sorted(context):
        if re.fullmatch(r"[a-z][a-z0-9_]*", key) and key not in known_keys():
            close = sorted(k for k in known_keys() if k.split("_")[0] == key.split("_")[0])
            raise ConfigError(
                key, context[key], f"unknown key; accepted keys include {', '.join(close) or 'see README'}"
            )

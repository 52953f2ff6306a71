"""Before a deploy: where it goes (account, region, AWS profile, cluster, stacks), the configuration (cdk.json plus
-c overrides) is valid, the region agrees with the environment, EKS can still create the version, and (with
credentials) every configured zone is one the account sees.

Run by make deploy, make bootstrap and scripts/setup-cluster.sh (and .ps1). Needs no CDK and, with --offline, no
AWS: a dry run runs it too. Prints one line per fact; with --script the last line is `admin_principals=<count>`
for the setup script. Exit 1 with one clear line when the deploy would fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from platform_config.config import ConfigError, PlatformConfig, refuse_other_region  # noqa: E402
from platform_config.raw_context import cdk_json_context  # noqa: E402
from platform_config.target import refuse_unseen_zones, support_warnings, target_lines  # noqa: E402

ZoneLookup = Callable[[str], list[str]]


def zones_seen(region: str) -> list[str]:
    """The availability zones the credentials' account sees in `region` (ec2:DescribeAvailabilityZones)."""
    import boto3  # the venv's; imported only with credentials, so --offline needs no boto3

    ec2 = boto3.client("ec2", region_name=region)
    answer = ec2.describe_availability_zones(Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}])
    return [zone["ZoneName"] for zone in answer["AvailabilityZones"]]


def check_zones(config: PlatformConfig, lookup: ZoneLookup) -> str:
    """One line on the zones; raises ConfigError for a zone the account does not see."""
    try:
        seen = lookup(config.region)
    except Exception as err:  # no credentials or no permission: the deploy itself says so
        return f"zones: not checked against the account ({type(err).__name__}: {str(err).splitlines()[0][:120]})"
    refuse_unseen_zones(config, seen)
    return f"zones: all {len(config.availability_zones)} seen by the account in {config.region}"


def main(
    argv: list[str] | None = None,
    today: dt.date | None = None,
    env: Mapping[str, str] | None = None,
    lookup: ZoneLookup = zones_seen,
) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-c", dest="context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--cdk-json", type=Path, default=ROOT / "cdk.json")
    parser.add_argument("--offline", action="store_true", help="no AWS call: zones are checked by region prefix")
    parser.add_argument("--script", action="store_true", help="end with admin_principals=<count> for the script")
    args = parser.parse_args(argv)
    env = os.environ if env is None else env
    today = today or dt.date.today()
    try:
        context = cdk_json_context(args.cdk_json)
        for pair in args.context:
            key, _, value = pair.partition("=")
            context[key] = value
        config = PlatformConfig.from_context(context, {})
        refuse_other_region(config.region, env)
        for line in target_lines(config, env):
            print(f"    {line}")
        if not args.offline:
            print(f"    {check_zones(config, lookup)}")
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    release = config.kubernetes
    print(
        f"    config: release={config.release} kubernetes={release.version} nat_gateways={config.nat_gateways} "
        f"endpoint_access={config.endpoint_access}"
    )
    if release.extended_support_end is not None and today > release.extended_support_end:
        print(
            f"error: Kubernetes {release.version} left EKS extended support on {release.extended_support_end}: "
            "EKS no longer creates clusters at this version, so the deploy would fail. Select a supported "
            "release profile (release=current: cdk.json 'release' or make deploy RELEASE=current; see README: "
            "Release profiles).",
            file=sys.stderr,
        )
        return 1
    for warning in support_warnings(config, today):
        print(f"    warning: {warning}")
    if args.script:
        print(f"admin_principals={len(config.admin_principal_arns)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Before a deploy: the configuration (cdk.json plus -c overrides) is valid and EKS can still create its version.

Run by scripts/setup-cluster.sh (and .ps1) with the project's venv. Prints one line per fact; the last line is
`admin_principals=<count>` for the script. Exit 1 with one clear line when the deploy would fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from platform_config.config import ConfigError, PlatformConfig  # noqa: E402
from platform_config.raw_context import cdk_json_context  # noqa: E402
from platform_stacks.platform_app import support_warnings  # noqa: E402


def main(argv: list[str] | None = None, today: dt.date | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-c", dest="context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--cdk-json", type=Path, default=ROOT / "cdk.json")
    args = parser.parse_args(argv)
    context = cdk_json_context(args.cdk_json)
    for pair in args.context:
        key, _, value = pair.partition("=")
        context[key] = value
    today = today or dt.date.today()
    try:
        config = PlatformConfig.from_context(context, {})
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    release = config.kubernetes
    print(
        f"    config: release={config.release} kubernetes={release.version} nat_gateways={config.nat_gateways} "
        f"endpoint_access={config.endpoint_access}"
    )
    if today > release.extended_support_end:
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
    print(f"admin_principals={len(config.admin_principal_arns)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The apiVersion and kind of every object the render gate produces, per profile, in
platform_config/rendered_apis.json: the upgrade planner's pre-checks read it offline (Pluto's removals against
what we deploy), and tests/test_upgrade_plan.py holds it to a fresh render."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from platform_checks.platform_render import PlatformRender, profile_of, render_platform
from tools._paths import ROOT

INVENTORY = ROOT / "platform_config" / "rendered_apis.json"


def inventory(render: PlatformRender) -> list[str]:
    """`<apiVersion> <kind>` of every rendered object (Helm releases, CDK manifests, GitOps), sorted, once each."""
    return sorted({f"{obj['apiVersion']} {obj['kind']}" for _, obj in render.objects() if "apiVersion" in obj})


def committed() -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(INVENTORY.read_text()) if INVENTORY.is_file() else {}
    return data


def write(profile: str, apis: list[str]) -> None:
    data = committed() | {profile: apis}
    INVENTORY.write_text(json.dumps(dict(sorted(data.items())), indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    from tools.report.capacity import templates_of

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assembly", nargs="?", default="cdk.out", type=Path, help="a synthesized cloud assembly")
    parser.add_argument("--check", action="store_true", help="fail if the assembly's profile's entry is stale")
    args = parser.parse_args(argv)
    out = args.assembly
    if not (out / "manifest.json").is_file():
        print(f"error: {out}/manifest.json not found; run `make synth RELEASE=<profile>` first", file=sys.stderr)
        return 1
    templates = templates_of(out)
    profile = profile_of(templates)
    apis = inventory(render_platform(profile, templates))
    if args.check:
        if committed().get(profile) != apis:
            print(f"{INVENTORY.relative_to(ROOT)}: the {profile} profile's entry is stale; run", file=sys.stderr)
            print(f"python -m tools.generate.rendered_apis {out}", file=sys.stderr)
            return 1
        print(f"{INVENTORY.relative_to(ROOT)}: the {profile} profile's entry matches {out}")
        return 0
    write(profile, apis)
    print(f"wrote the {profile} profile's rendered APIs to {INVENTORY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

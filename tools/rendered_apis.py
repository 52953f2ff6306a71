"""The apiVersion and kind of every object the render gate produces, per profile, in
platform_config/rendered_apis.json: the upgrade planner's pre-checks read it offline (Pluto's removals against
what we deploy), and tests/test_upgrade_plan.py holds it to a fresh render."""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from platform_checks.platform_render import PlatformRender, profile_of, render_platform

INVENTORY = Path(__file__).resolve().parent.parent / "platform_config" / "rendered_apis.json"


def inventory(render: PlatformRender) -> list[str]:
    """`<apiVersion> <kind>` of every rendered object (Helm releases, CDK manifests, GitOps), sorted, once each."""
    return sorted({f"{obj['apiVersion']} {obj['kind']}" for _, obj in render.objects() if "apiVersion" in obj})


def committed() -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(INVENTORY.read_text()) if INVENTORY.is_file() else {}
    return data


def write(profile: str, apis: list[str]) -> None:
    data = committed() | {profile: apis}
    INVENTORY.write_text(json.dumps(dict(sorted(data.items())), indent=1) + "\n")


def main(out: Path) -> int:
    from tools.capacity import templates_of

    if not (out / "manifest.json").is_file():
        print(f"error: {out}/manifest.json not found; run `make synth RELEASE=<profile>` first", file=sys.stderr)
        return 1
    templates = templates_of(out)
    profile = profile_of(templates)
    write(profile, inventory(render_platform(profile, templates)))
    print(f"wrote the {profile} profile's rendered APIs to {INVENTORY}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))

"""Images of one synthesized profile's render (`python tools/image_report.py cdk.out`): how many containers run a
tag-only image, by publisher, and whether each publisher is verified at admission. `make verify` shows the total."""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python tools/image_report.py`: the repository root must be importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from platform_checks.platform_render import profile_of, render_platform
from platform_checks.wiring import all_images
from platform_config.supply_chain import PUBLISHERS, tag_only_by_publisher


def main(out: Path) -> int:
    from tools.capacity import templates_of

    if not (out / "manifest.json").is_file():
        print(f"error: {out}/manifest.json not found; run `make synth RELEASE=<profile>` first", file=sys.stderr)
        return 1
    templates = templates_of(out)
    profile = profile_of(templates)
    render = render_platform(profile, templates)
    images = [str(image) for _origin, obj in render.objects() for _where, image in all_images(obj)]
    counts = tag_only_by_publisher(images)
    verified = {p.prefix for p in PUBLISHERS if p.signer is not None}
    for prefix, count in counts.items():
        how = "verified at admission (digest set there)" if prefix in verified else "pinned by Renovate (pinDigests)"
        print(f"  {count:3d}  {prefix:40s} {how if prefix != '?' else 'NO ADMITTED PUBLISHER'}")
    total = sum(counts.values())
    distinct = sorted(set(images))
    tag_only = sum(tag_only_by_publisher(distinct).values())
    print(
        f"{profile}: {total} of {len(images)} containers run a tag-only image ({tag_only} of {len(distinct)} distinct "
        f"images), from {len(counts)} publishers"
    )
    return 1 if "?" in counts else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))

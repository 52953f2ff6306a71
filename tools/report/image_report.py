"""Images of one synthesized profile's render (`python -m tools.report.image_report cdk.out`): how many containers run a
tag-only image, by publisher, and what covers each (verification at admission or a Renovate digest pin; the frozen
profile takes digest pins too, never a new version). `make verify` shows the total."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from constructs_lib.image_admission import EXCLUDED_NAMESPACES
from platform_checks.platform_render import profile_of, render_platform
from platform_checks.wiring import all_images
from platform_config.supply_chain import has_digest, publisher_of


def coverage(image: str, namespace: str) -> str:
    """What makes a tag-only image run a fixed digest, or why nothing does."""
    publisher = publisher_of(image)
    if publisher is None:
        return "NO ADMITTED PUBLISHER"
    if publisher.signer is not None and namespace not in EXCLUDED_NAMESPACES:
        return "verified at admission, the digest set there"
    # Kyverno never admits its excluded namespaces: a signer's image there is pinned like any other.
    where = f" (Kyverno never admits {namespace})" if publisher.signer is not None else ""
    return "Renovate pins the digest" + where


def main(out: Path) -> int:
    from tools.report.capacity import templates_of

    if not (out / "manifest.json").is_file():
        print(f"error: {out}/manifest.json not found; run `make synth RELEASE=<profile>` first", file=sys.stderr)
        return 1
    templates = templates_of(out)
    profile = profile_of(templates)
    render = render_platform(profile, templates)
    containers = [
        (str(image), str(obj["metadata"].get("namespace", "")))
        for _origin, obj in render.objects()
        for _where, image in all_images(obj)
    ]
    tag_only = [(image, ns) for image, ns in containers if not has_digest(image)]
    rows = Counter(((p.prefix if (p := publisher_of(image)) else "?"), coverage(image, ns)) for image, ns in tag_only)
    for (prefix, how), count in sorted(rows.items(), key=lambda row: (-row[1], row[0])):
        print(f"  {count:3d}  {prefix:40s} {how}")
    distinct = {image for image, _ns in containers}
    print(
        f"{profile}: {len(tag_only)} of {len(containers)} containers run a tag-only image "
        f"({len({i for i, _ in tag_only})} of {len(distinct)} distinct images), "
        f"from {len({prefix for prefix, _ in rows})} publishers"
    )
    return 1 if any(prefix == "?" for prefix, _ in rows) else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))

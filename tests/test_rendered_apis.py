"""The committed inventory of rendered APIs (platform_config/rendered_apis.json, read by the upgrade planner's
pre-checks) is the render gate's, and no profile deploys an API Kubernetes removed at or before its minor."""

from __future__ import annotations

import json

from platform_checks.compatibility import LIFECYCLE
from platform_checks.platform_render import PlatformRender
from platform_config.eks_rules import minor_number
from tools.generate.rendered_apis import committed, inventory


def test_the_committed_rendered_apis_are_the_render_gates(platform_render: PlatformRender) -> None:
    assert committed().get(platform_render.profile) == inventory(platform_render), (
        f"refresh: make synth RELEASE={platform_render.profile} && "
        ".venv/bin/python -m tools.generate.rendered_apis cdk.out"
    )


def test_no_rendered_api_is_removed_at_or_before_the_profiles_kubernetes_minor(platform_render: PlatformRender) -> None:
    removals = json.loads((LIFECYCLE / "kubernetes-apis.json").read_text())["removals"]
    minor = minor_number(platform_render.kubernetes_version)
    removed = {f"{r['api_version']} {r['kind']}" for r in removals if minor_number(r["removed_in"]) <= minor}
    assert removed, "Pluto's data lists removals up to every profile's minor"
    assert sorted(removed & set(inventory(platform_render))) == []

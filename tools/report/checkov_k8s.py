"""checkov on the rendered Kubernetes manifests of every release profile (the reference configuration): the
securityContext checks and CKV_K8S_38 per profile, failed and excepted counts; non-zero on a finding no exception in
platform_config/pod_security.py names, or on an exception nothing needs."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from platform_checks import checkov_k8s as ck
from platform_config.versions import PROFILES


def render_objects(profile: str, outdir: Path) -> list[dict]:
    """Synthesize the reference configuration of `profile` (never cdk.json) and render the whole platform."""
    import json

    from platform_checks.platform_render import render_platform
    from platform_config.reference_context import reference_context
    from platform_stacks.platform_app import build_app

    assembly = build_app(reference_context(release=profile), env={}, outdir=str(outdir)).app.synth()
    templates = {s.stack_name: json.loads(Path(s.template_full_path).read_text()) for s in assembly.stacks}
    return [obj for _origin, obj in render_platform(profile, templates).objects()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="append", choices=sorted(PROFILES), help="default: every profile")
    args = parser.parse_args(argv)
    bad = 0
    totals = [0, 0]
    for profile in args.profile or sorted(PROFILES):
        with tempfile.TemporaryDirectory(prefix=f"checkov-{profile}-") as tmp:
            objects = render_objects(profile, Path(tmp))
        outcome = ck.judge(profile, ck.run_checkov(ck.workloads(objects)))
        print(ck.report(outcome), flush=True)
        bad += len(outcome.failures) + len(outcome.stale)
        totals[0] += len(outcome.failures)
        totals[1] += len(outcome.findings) - len(outcome.failures)
    print(f"checkov: {totals[0]} failures, {totals[1]} excepted findings")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Upgrade steps that exist upstream only as prose, written as data; each cites the notes anchor it comes from
(a test holds every anchor to the derived notes in upstream_facts/lifecycle/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from platform_config.versions import DEFAULT_PROFILE, PROFILES

StepKind = Literal["crds-first", "iam", "drift", "values"]


@dataclass(frozen=True, kw_only=True)
class ProseStep:
    """Moving `chart` to `to` (chart version, or app version where the notes speak of the app) or past it needs
    `kind`: `text` says what, `anchor` is the notes section (`<notes file>#<anchor>`) it comes from."""

    chart: str
    to: str
    kind: StepKind
    text: str
    source: str
    anchor: str


def karpenter_docs() -> str:
    """Karpenter's compatibility matrix and upgrade guide are read at the tag of the default profile's Karpenter pin:
    the newest tag's files cover every older minor, and a pin bump moves the notes with it (`make derive` locks the
    new tag's files in upstream_facts/sources.json, fetched at that tag when ../shared lacks them)."""
    return f"lifecycle/karpenter-provider-aws/v{PROFILES[DEFAULT_PROFILE].karpenter_version}"


KARPENTER_DOCS = karpenter_docs()
KARPENTER_GUIDE = f"{KARPENTER_DOCS}/website/content/en/preview/upgrading/upgrade-guide.md"
KYVERNO_UPGRADING = "lifecycle/kyverno-website/main/src/content/docs/docs/installation/upgrading.md"

PROSE_STEPS: tuple[ProseStep, ...] = (
    ProseStep(
        chart="karpenter",
        to="1.12.0",
        kind="drift",
        text="the new CA-bundle hashing marks every Karpenter node drifted: expect all of them to be replaced",
        source=KARPENTER_GUIDE,
        anchor="upgrading-to-1120",
    ),
    ProseStep(
        chart="karpenter",
        to="1.12.0",
        kind="iam",
        text="the controller role needs ec2:DescribeInstanceStatus (interruption health checks)",
        source=KARPENTER_GUIDE,
        anchor="upgrading-to-1120",
    ),
    ProseStep(
        chart="karpenter",
        to="1.14.0",
        kind="crds-first",
        text="a new CRD (autoscaling.x-k8s.io capacitybuffers): upgrade karpenter-crd before the controller",
        source=KARPENTER_GUIDE,
        anchor="upgrading-to-1140",
    ),
    ProseStep(
        chart="kyverno",
        to="1.13.0",
        kind="values",
        text="breaking changes and dropped API versions: check policies and values against the 1.13 notes",
        source=KYVERNO_UPGRADING,
        anchor="upgrading-to-kyverno-v113",
    ),
)

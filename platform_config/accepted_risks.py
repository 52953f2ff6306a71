"""Accepted risks: a profile's component outside its documented Kubernetes range, each named, reasoned and dated.

`documented` is the range the derived data gives (upstream_facts/lifecycle/); tests fail when it no longer does,
so an entry cannot outlive the fact it accepts. `revisit` is enforced against the lifecycle data's own date (the
newest release in its chart tables, platform_checks/compatibility.data_date): `make test` fails once newer data
is derived past it, never on the calendar alone; the synth summary and `make verify` warn by today's date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class AcceptedRisk:
    """`chart` at app minor `app` runs on Kubernetes `kubernetes` although its data says `documented`."""

    chart: str
    app: str
    kubernetes: str
    documented: str
    reason: str
    revisit: dt.date


ACCEPTED_RISKS: tuple[AcceptedRisk, ...] = (
    AcceptedRisk(
        chart="argo-cd",
        app="2.10",
        kubernetes="1.29",
        documented="1.25-1.28 (tested)",
        reason="the seed profile is the design's frozen versions; 2.11 is the first line tested on 1.29, and the "
        "upgrade plan moves Argo CD before the control plane leaves 1.29",
        revisit=dt.date(2027, 1, 31),
    ),
    AcceptedRisk(
        chart="argo-cd",
        app="3.4",
        kubernetes="1.36",
        documented="1.32-1.35 (tested)",
        reason="3.5 is the first line tested on 1.36 but no argo-helm chart ships it yet (newest: 10.1.1, v3.4.4)",
        revisit=dt.date(2027, 1, 31),
    ),
    AcceptedRisk(
        chart="kyverno",
        app="1.19",
        kubernetes="1.36",
        documented="1.33-1.35 (conformance-ci)",
        reason="Kyverno publishes no range for 1.19; its v1.19.0 conformance CI runs 1.33-1.35 and one job on 1.36, "
        "and 1.18's published range stops at 1.35",
        revisit=dt.date(2027, 1, 31),
    ),
)

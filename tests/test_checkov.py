"""checkov on the real render of every profile: no securityContext or token finding beyond the named exceptions
(platform_config/pod_security.py), no exception left that nothing needs, and each exception's claim holds."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from typing import Any

import pytest

from platform_checks import checkov_k8s as ck
from platform_checks.platform_render import PlatformRender
from platform_checks.pss import pod_specs, violations
from platform_config.pod_security import CHECKOV_EXCEPTIONS, SHOP_BASELINE, CheckovException
from tests.synth_cache import shared_result
from tests.test_security_render import effective_token_mount

PLANTED = "Deployment.team-a.planted"


def planted_workload(render: PlatformRender) -> dict[str, Any]:
    """A Restricted shop Deployment of the render stripped of its security contexts and token setting."""
    restricted = [
        obj
        for obj, template in pod_specs(obj for _, obj in render.objects())
        if obj["metadata"].get("namespace") == "astronomy-shop" and not violations(template["spec"], "restricted")
    ]
    planted = copy.deepcopy(restricted[0])
    planted["metadata"]["name"] = "planted"
    planted["metadata"]["namespace"] = "team-a"  # outside every exception's pattern
    spec = planted["spec"]["template"]["spec"]
    spec.pop("securityContext", None)
    for container in spec["containers"]:
        container.pop("securityContext", None)
    assert f"{planted['kind']}.team-a.planted" == PLANTED
    return planted


def findings(render: PlatformRender) -> tuple[list[ck.Finding], list[ck.Finding]]:
    """checkov's findings on the render's workloads and on the planted one: one checkov run (about 3 s of start-up)
    per profile and pytest run, shared by this file's tests whichever worker runs them."""
    workloads = [*ck.workloads(obj for _, obj in render.objects()), planted_workload(render)]
    key = hashlib.sha256(json.dumps(workloads, sort_keys=True).encode()).hexdigest()
    found = shared_result(f"checkov-{key}", lambda: [dataclasses.astuple(f) for f in ck.run_checkov(workloads)])
    every = [ck.Finding(*f) for f in found]
    return [f for f in every if f.resource != PLANTED], [f for f in every if f.resource == PLANTED]


def test_checkov_finds_nothing_beyond_the_named_exceptions(platform_render: PlatformRender) -> None:
    outcome = ck.judge(platform_render.profile, findings(platform_render)[0])
    assert len(ck.workloads(obj for _, obj in platform_render.objects())) > 20
    assert [f"{f.check} {f.resource}" for f in outcome.failures] == []
    assert [f"{e.resource} {e.checks}" for e in outcome.stale] == [], "exceptions nothing needs: remove them"


def test_a_workload_stripped_of_its_security_context_is_a_new_failure(platform_render: PlatformRender) -> None:
    """The check can fail: a Restricted shop Deployment loses its contexts and token setting."""
    outcome = ck.judge(platform_render.profile, findings(platform_render)[1])
    failed = {f.check for f in outcome.failures if f.resource == PLANTED}
    assert {"CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_29", "CKV_K8S_30", "CKV_K8S_31", "CKV_K8S_37", "CKV_K8S_38"} <= failed


def _matching(render: PlatformRender, exc: CheckovException) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    from fnmatch import fnmatchcase

    out = []
    for obj, template in pod_specs(obj for _, obj in render.objects()):
        resource = f"{obj['kind']}.{obj['metadata'].get('namespace', '')}.{obj['metadata']['name']}"
        if fnmatchcase(resource, exc.resource):
            out.append((obj, template))
    return out


def test_every_checkable_exception_claim_holds_on_the_render(platform_render: PlatformRender) -> None:
    """An exception that says "Restricted on every container" or "no token" is checked, not trusted."""
    objects = [obj for _, obj in platform_render.objects()]
    checked = 0
    for exc in CHECKOV_EXCEPTIONS:
        if platform_render.profile not in exc.profiles or not exc.holds:
            continue
        matched = _matching(platform_render, exc)
        assert matched, exc.resource
        for obj, template in matched:
            name = f"{obj['kind']}/{obj['metadata']['name']}"
            if exc.holds == "restricted":
                assert violations(template["spec"], "restricted") == [], name
            else:
                assert exc.holds == "no-token"
                assert effective_token_mount(obj, template, objects) is False, name
            checked += 1
    assert checked > 10


@pytest.mark.parametrize("profile", ["seed", "current"])
def test_every_shop_baseline_workload_is_excepted_from_the_root_checks_for_its_reason(profile: str) -> None:
    for workload in SHOP_BASELINE:
        if profile not in workload.profiles:
            continue
        finding = ck.Finding("CKV_K8S_23", f"Deployment.astronomy-shop.{workload.name}")
        exc = ck.excepted_by(finding, profile, CHECKOV_EXCEPTIONS)
        assert exc is not None and exc.reason == workload.reason


def test_every_exception_has_a_reason_and_names_only_checks_we_run() -> None:
    for exc in CHECKOV_EXCEPTIONS:
        assert set(exc.checks) <= set(ck.CHECKS), exc
        assert len(exc.reason.split()) >= 6, exc
        assert exc.holds in ("", "restricted", "no-token"), exc


def test_checkov_report_parsing_reads_failed_checks_of_one_or_many_frameworks() -> None:
    failed = '[{"check_id": "CKV_K8S_20", "resource": "Pod.a.b"}]'
    one = '{"check_type": "kubernetes", "results": {"failed_checks": ' + failed + "}}"
    assert ck.parse_report(one) == [ck.Finding("CKV_K8S_20", "Pod.a.b")]
    assert ck.parse_report(f"[{one}, {one}]") == [ck.Finding("CKV_K8S_20", "Pod.a.b")]
    # checkov prints a bare summary when nothing matched its checks.
    assert ck.parse_report('{"passed": 0, "failed": 0}') == []
    with pytest.raises(ck.CheckovError):
        ck.parse_report("Traceback (most recent call last):")

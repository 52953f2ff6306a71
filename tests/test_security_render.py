"""The security rules hold on the real render of every release profile: Pod Security levels, scrape allows, projects."""

from __future__ import annotations

import copy
from fnmatch import fnmatchcase
from typing import Any

from constructs_lib.gitops import CONTENT, ROOT_APPLICATION_PROJECTS
from constructs_lib.namespace_guards import PROMETHEUS_NAMESPACE, PROMETHEUS_POD
from platform_checks.gitops import project_admits, sync_refusals
from platform_checks.netpol import blocked, policies_in, scrape_flows
from platform_checks.platform_render import PlatformRender, gitops_objects
from platform_checks.pss import pod_specs, violations, workload_violations
from platform_checks.values import chart_has_key
from platform_config.pod_security import SHOP_NAMESPACE, shop_baseline
from tests.conftest import ROOT

ENFORCE = "pod-security.kubernetes.io/enforce"
# Namespaces synced content must never reach: they hold the guardrails and Argo CD itself.
SYSTEM_NAMESPACES = ("kube-system", "kyverno", "argocd")
# kube-system is not ours (unlabelled, so the cluster admits it as privileged). The only platform workload there is
# the Karpenter controller; we hold it to `restricted`, stricter than the namespace, so a chart change that needs
# more shows up here rather than being silently allowed.
KUBE_SYSTEM_LEVEL = {"kube-system": "restricted"}
# Accepted exception: the root project must create the child Application objects, which Argo CD only reads from its
# own namespace. Only that exact project and namespace (no glob), and its namespaced whitelist keeps it to
# Applications (no ConfigMap, AppProject, Secret or RBAC).
ACCEPTED_SYSTEM_DESTINATIONS = {("platform-root", "argocd")}


def namespace_levels(render: PlatformRender) -> dict[str, str]:
    """Enforced Pod Security level of every Namespace the platform creates."""
    return {
        obj["metadata"]["name"]: obj["metadata"].get("labels", {}).get(ENFORCE, "")
        for _origin, obj in render.objects()
        if obj.get("kind") == "Namespace"
    }


def everything(render: PlatformRender) -> list[dict[str, Any]]:
    return [obj for _origin, obj in render.objects()]


def flows_of(objects: list[dict[str, Any]]) -> list[Any]:
    return scrape_flows(objects, prometheus_namespace=PROMETHEUS_NAMESPACE, prometheus_labels=PROMETHEUS_POD)


def project_findings(render: PlatformRender, projects: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Objects of child Applications their AppProject refuses, and project destinations reaching system namespaces."""
    projects = projects or {o["metadata"]["name"]: o for _, o in render.objects() if o.get("kind") == "AppProject"}
    apps = {o["metadata"]["name"]: o for _, o in render.objects() if o.get("kind") == "Application"}
    findings = []
    for name, project in projects.items():
        for dest in project["spec"].get("destinations") or []:
            reached = [ns for ns in SYSTEM_NAMESPACES if fnmatchcase(ns, dest.get("namespace", ""))]
            if reached and (name, dest.get("namespace")) not in ACCEPTED_SYSTEM_DESTINATIONS:
                findings.append(f"AppProject {name}: destination {dest.get('namespace')!r} reaches {reached}")
    roots = [o for origin, o in render.objects() if origin == "cdk manifest" and o.get("kind") == "Application"]
    assert len(roots) == 1 + len(CONTENT), f"expected the CDK root and content Applications, found {len(roots)}"
    synced = 0
    for root in roots:  # each CDK Application over this repository, with what it syncs
        objects = gitops_objects([root], render.profile)
        synced += len(objects)
        project, namespace = projects[root["spec"]["project"]], root["spec"]["destination"]["namespace"]
        refused = sync_refusals(project, objects, namespace=namespace, application_projects=ROOT_APPLICATION_PROJECTS)
        findings += [f"gitops ({root['metadata']['name']}): {line}" for line in refused]
    assert synced == len(render.gitops), "the CDK Applications sync exactly the render's GitOps content"
    for origin, obj in render.objects():
        if not origin.startswith("argocd Application "):
            continue
        app = apps[origin.removeprefix("argocd Application ")]
        project = projects[app["spec"]["project"]]
        if not project_admits(project, obj, app["spec"]["destination"]["namespace"]):
            findings.append(f"{origin}: {obj['kind']}/{obj['metadata']['name']} refused by {app['spec']['project']}")
    return findings


def test_every_rendered_workload_passes_its_namespace_level(platform_render: PlatformRender) -> None:
    levels = {**namespace_levels(platform_render), **KUBE_SYSTEM_LEVEL}
    workloads = everything(platform_render)
    assert len(list(pod_specs(workloads))) > 20
    assert workload_violations(workloads, levels) == []


def test_every_platform_namespace_has_a_level_and_only_node_exporter_is_privileged(
    platform_render: PlatformRender,
) -> None:
    levels = namespace_levels(platform_render)
    assert {"monitoring", "observability", "node-exporter"} <= set(levels)
    assert {ns: lvl for ns, lvl in levels.items() if lvl not in ("baseline", "restricted")} == {
        "node-exporter": "privileged"
    }


def test_render_check_catches_node_exporter_outside_its_privileged_namespace(platform_render: PlatformRender) -> None:
    levels = {**namespace_levels(platform_render), "node-exporter": "baseline"}
    exporter = [o for o in everything(platform_render) if o["metadata"].get("namespace") == "node-exporter"]
    assert any("host namespaces" in v for v in workload_violations(exporter, levels))


def test_render_check_catches_a_workload_that_adds_a_capability(platform_render: PlatformRender) -> None:
    levels = namespace_levels(platform_render)
    shop = [copy.deepcopy(o) for o, _ in pod_specs(everything(platform_render)) if o["kind"] == "Deployment"]
    victim = next(o for o in shop if levels.get(o["metadata"]["namespace"]) in ("baseline", "restricted"))
    container = victim["spec"]["template"]["spec"]["containers"][0]
    container.setdefault("securityContext", {})["capabilities"] = {"add": ["NET_ADMIN"]}
    found = workload_violations([victim], levels)
    assert any(f"Deployment/{victim['metadata']['name']}" in v and "capabilit" in v for v in found), found


def test_every_rendered_scrape_target_is_admitted(platform_render: PlatformRender) -> None:
    flows = flows_of(everything(platform_render))
    targets = {f.dst_namespace for f in flows}
    # The PodMonitor for Karpenter scrapes kube-system; the rest are ServiceMonitors.
    assert {"monitoring", "kyverno", "argocd", "observability", "node-exporter", "kube-system"} <= targets
    assert blocked(policies_in(everything(platform_render)), flows) == []


def test_a_rendered_metrics_port_without_an_allow_is_reported(platform_render: PlatformRender) -> None:
    objects = everything(platform_render)
    policies = [p for p in policies_in(objects) if p["metadata"]["name"] != "allow-prometheus-scrape"]
    assert any("kyverno" in line for line in blocked(policies, flows_of(objects)))


def test_a_new_service_port_no_policy_allows_is_reported(platform_render: PlatformRender) -> None:
    objects = copy.deepcopy(everything(platform_render))
    monitor = next(
        o
        for o in objects
        if o["kind"] == "ServiceMonitor"
        and "kyverno" in (o["spec"].get("namespaceSelector") or {}).get("matchNames", [])
    )
    monitor["spec"]["endpoints"].append({"port": "debug-unlisted"})
    for svc in objects:
        if svc["kind"] == "Service" and svc["metadata"]["namespace"] == "kyverno":
            svc["spec"].setdefault("ports", []).append({"name": "debug-unlisted", "port": 6666, "targetPort": 6666})
    assert any(
        ":debug-unlisted" in line and "kyverno:6666" in line
        for line in blocked(policies_in(objects), flows_of(objects))
    )


def test_a_pod_monitor_target_a_policy_denies_is_reported(platform_render: PlatformRender) -> None:
    objects = everything(platform_render)
    deny = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": "kube-system"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }
    assert any(
        line.startswith("scrape karpenter") for line in blocked([*policies_in(objects), deny], flows_of(objects))
    )


def test_synced_content_and_child_charts_stay_inside_their_projects(platform_render: PlatformRender) -> None:
    children = [origin for origin, _ in platform_render.objects() if origin.startswith("argocd Application ")]
    assert len(set(children)) >= 3
    assert any(origin == "gitops" for origin, _ in platform_render.objects())
    assert project_findings(platform_render) == []


def test_a_project_destination_star_is_reported(platform_render: PlatformRender) -> None:
    projects = {
        o["metadata"]["name"]: copy.deepcopy(o) for _, o in platform_render.objects() if o.get("kind") == "AppProject"
    }
    projects["platform"]["spec"]["destinations"] = [{"server": "https://kubernetes.default.svc", "namespace": "*"}]
    assert any("AppProject platform: destination '*'" in f for f in project_findings(platform_render, projects))


def test_a_child_chart_object_outside_its_project_is_reported(platform_render: PlatformRender) -> None:
    projects = {
        o["metadata"]["name"]: copy.deepcopy(o) for _, o in platform_render.objects() if o.get("kind") == "AppProject"
    }
    projects["platform"]["spec"]["destinations"] = projects["platform"]["spec"]["destinations"][:1]
    assert any("refused by platform" in f for f in project_findings(platform_render, projects))


def test_observability_runs_at_restricted_and_the_collector_mounts_no_token_where_its_chart_allows(
    platform_render: PlatformRender,
) -> None:
    assert namespace_levels(platform_render)["observability"] == "restricted"
    collector = platform_render.in_release("otel-collector")
    (deployment,) = [o for o in collector if o["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    if chart_has_key(
        "opentelemetry-collector", ("serviceAccount", "automountServiceAccountToken"), platform_render.profile
    ):
        assert pod["automountServiceAccountToken"] is False
    else:  # the seed chart has no switch: the security model names the gap
        assert "automountServiceAccountToken" in (ROOT / "docs" / "security-model.md").read_text()
    assert pod["securityContext"]["runAsNonRoot"] is True


# --- Restricted where the images allow, Baseline with named exceptions, no token where no API is called -------------


def effective_token_mount(obj: dict[str, Any], template: dict[str, Any], objects: list[dict[str, Any]]) -> bool:
    """Whether the pod gets a service-account token: its own automountServiceAccountToken, else its
    ServiceAccount's, else Kubernetes' default (true)."""
    spec = template["spec"]
    if "automountServiceAccountToken" in spec:
        return bool(spec["automountServiceAccountToken"])
    name = spec.get("serviceAccountName") or "default"
    namespace = obj["metadata"].get("namespace")
    accounts = [
        o
        for o in objects
        if o.get("kind") == "ServiceAccount"
        and o["metadata"]["name"] == name
        and o["metadata"].get("namespace") == namespace
    ]
    return bool(accounts[0].get("automountServiceAccountToken", True)) if accounts else True


def shop_workloads(render: PlatformRender) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(o, t) for o, t in pod_specs(everything(render)) if o["metadata"].get("namespace") == SHOP_NAMESPACE]


def test_the_shop_runs_restricted_except_its_named_baseline_workloads(platform_render: PlatformRender) -> None:
    excepted = shop_baseline(platform_render.profile)
    workloads = shop_workloads(platform_render)
    assert len(workloads) > len(excepted) > 0
    for obj, template in workloads:
        name = obj["metadata"]["name"]
        annotations = (template.get("metadata") or {}).get("annotations")
        restricted = violations(template["spec"], "restricted", annotations)
        assert violations(template["spec"], "baseline", annotations) == [], name
        if name in excepted:
            assert restricted, f"{name} meets Restricted now: remove it from SHOP_BASELINE"
            # Only the controls an image's root user needs: running as root and the default capabilities.
            assert all(v.startswith(("running as non-root", "capabilities")) for v in restricted), (name, restricted)
        else:
            assert restricted == [], (name, restricted)
    assert set(excepted) <= {o["metadata"]["name"] for o, _ in workloads}, "an exception names no workload"


def test_every_shop_workload_even_at_baseline_blocks_escalation_and_runs_seccomp(
    platform_render: PlatformRender,
) -> None:
    for obj, template in shop_workloads(platform_render):
        spec = template["spec"]
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", obj["metadata"]["name"]
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, (obj["metadata"]["name"], container["name"])
            assert {"ALL", "NET_RAW"} & set(context["capabilities"]["drop"])


def test_pods_that_call_no_api_mount_no_service_account_token(platform_render: PlatformRender) -> None:
    objects = everything(platform_render)
    no_api = [
        (o, t)
        for o, t in pod_specs(objects)
        if o["metadata"].get("namespace") == SHOP_NAMESPACE
        or (o["metadata"].get("namespace"), o["metadata"]["name"])
        in {("observability", "jaeger"), ("argocd", "argocd-redis")}
    ]
    assert len(no_api) > 15
    assert [o["metadata"]["name"] for o, t in no_api if effective_token_mount(o, t, objects)] == []
    # The collector needs no token only while no processor of its reads the API (k8sattributes would).
    collector_config = [
        o
        for o in platform_render.in_release("otel-collector")
        if o["kind"] == "ConfigMap" and "relay" in str(o["data"])
    ]
    assert collector_config and all("k8sattributes" not in str(o["data"]) for o in collector_config)
    (collector,) = [(o, t) for o, t in pod_specs(objects) if o["metadata"]["name"] == "otel-collector"]
    if chart_has_key(
        "opentelemetry-collector", ("serviceAccount", "automountServiceAccountToken"), platform_render.profile
    ):
        assert effective_token_mount(*collector, objects) is False


def test_the_token_check_sees_a_service_account_that_mounts_one(platform_render: PlatformRender) -> None:
    objects = copy.deepcopy(everything(platform_render))
    for account in objects:
        if account.get("kind") == "ServiceAccount" and account["metadata"].get("namespace") == SHOP_NAMESPACE:
            account.pop("automountServiceAccountToken", None)
    obj, template = next((o, t) for o, t in pod_specs(objects) if o["metadata"].get("namespace") == SHOP_NAMESPACE)
    assert effective_token_mount(obj, template, objects) is True


def test_every_namespace_a_workload_runs_in_is_labelled_or_a_written_exception(platform_render: PlatformRender) -> None:
    """The render's side of require-pod-security-label: each namespace a pod lands in carries an enforce label."""
    from tools.generate.build_policies import load_definitions

    (entry,) = [e for e in load_definitions() if e["name"] == "require-pod-security-label"]
    levels = namespace_levels(platform_render)
    used = {o["metadata"].get("namespace") for o, _ in pod_specs(everything(platform_render))}
    assert {ns for ns in used if not levels.get(ns)} <= set(entry["excludeReasons"])
    assert all(levels.values()), levels
    # Argo CD creates a missing destination namespace unlabelled (CreateNamespace=true): each such Application's
    # namespace must be one the render labels, so it exists labelled first.
    for obj in everything(platform_render):
        if obj.get("kind") == "Application" and "CreateNamespace=true" in (
            (obj["spec"].get("syncPolicy") or {}).get("syncOptions") or []
        ):
            assert levels.get(obj["spec"]["destination"]["namespace"]), obj["metadata"]["name"]

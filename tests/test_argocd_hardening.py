"""Argo CD: Redis needs a password every client reads, NetworkPolicies on, and the seed image past CVE-2024-31989."""

from __future__ import annotations

import copy
from typing import Any

from constructs_lib.helm_addon import resolved_values
from platform_checks.values import chart_has_key
from tests.conftest import ROOT

SECURITY_MODEL = (ROOT / "docs" / "security-model.md").read_text()

# CVE-2024-31989 (unauthenticated Redis cache poisoning) is fixed from v2.10.10 on the 2.10 line.
FIXED_210 = (2, 10, 10)


def argocd_values(profile: str = "seed") -> dict[str, Any]:
    return resolved_values(chart="argo-cd", release="argocd", computed={}, profile=profile)


def version(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in tag.lstrip("v").split("."))


def redis_auth_gaps(values: dict[str, Any]) -> list[str]:
    """What keeps Redis from requiring the password the init Job writes (empty when nothing does)."""
    gaps = []
    env = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef") for e in values.get("global", {}).get("env", [])}
    if env.get("REDIS_PASSWORD") != {"name": "argocd-redis", "key": "auth"}:
        gaps.append("global.env REDIS_PASSWORD does not read argocd-redis/auth")
    args = values.get("redis", {}).get("extraArgs", [])
    if "--requirepass" not in args or args[args.index("--requirepass") + 1 :][:1] != ["$(REDIS_PASSWORD)"]:
        gaps.append("redis.extraArgs lacks --requirepass $(REDIS_PASSWORD)")
    jobs = [o for o in values.get("extraObjects", []) if o.get("kind") == "Job"]
    commands = [c.get("command") for j in jobs for c in j["spec"]["template"]["spec"]["containers"]]
    if ["argocd", "admin", "redis-initial-password"] not in commands:
        gaps.append("no Job runs `argocd admin redis-initial-password`")
    return gaps


def test_seed_argocd_image_is_past_the_redis_cve_and_the_init_job_uses_it() -> None:
    values = argocd_values()
    tag = values["global"]["image"]["tag"]
    assert version(tag) >= FIXED_210 and version(tag)[:2] == (2, 10)
    job = next(o for o in values["extraObjects"] if o["kind"] == "Job")
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == f"quay.io/argoproj/argocd:{tag}"
    assert version("v2.10.9") < FIXED_210


def test_redis_requires_the_password_every_argocd_container_reads() -> None:
    assert redis_auth_gaps(argocd_values()) == []


def test_redis_auth_check_reports_a_redis_without_requirepass() -> None:
    values = copy.deepcopy(argocd_values())
    values["redis"]["extraArgs"] = []
    values["global"]["env"] = []
    assert redis_auth_gaps(values) == [
        "global.env REDIS_PASSWORD does not read argocd-redis/auth",
        "redis.extraArgs lacks --requirepass $(REDIS_PASSWORD)",
    ]


def test_the_secret_init_hook_runs_before_install_and_upgrade_with_least_privilege() -> None:
    objects = {o["kind"]: o for o in argocd_values()["extraObjects"]}
    for obj in objects.values():
        assert obj["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert objects["Role"]["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create"]}]
    weights = {k: int(o["metadata"]["annotations"]["helm.sh/hook-weight"]) for k, o in objects.items()}
    assert weights["Job"] > max(w for k, w in weights.items() if k != "Job")


def server_policy_is_separate(profile: str) -> bool:
    """Whether the profile's chart can switch argocd-server's allow-all NetworkPolicy off on its own
    (server.networkPolicy, chart 7 and later); chart 6.7 ties it to global.networkPolicy.create."""
    return chart_has_key("argo-cd", ("server", "networkPolicy"), profile)


def selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = policy["spec"].get("podSelector", {}).get("matchLabels", {})
    return all(labels.get(k) == v for k, v in wanted.items())


def test_argocd_namespace_has_a_default_deny_and_every_pod_a_policy(platform_render: Any) -> None:
    objects = platform_render.in_release("argocd")
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    assert any(p["spec"]["podSelector"] == {} and not p["spec"].get("ingress") for p in policies)
    for workload in (o for o in objects if o["kind"] in ("Deployment", "StatefulSet")):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert any(selects(p, labels) and p["spec"]["podSelector"] for p in policies), workload["metadata"]["name"]


def test_argocd_server_admits_only_prometheus_on_its_metrics_port(platform_render: Any) -> None:
    objects = platform_render.in_release("argocd")
    server = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "argocd-server")
    labels = server["spec"]["template"]["metadata"]["labels"]
    rules = [
        r for o in objects if o["kind"] == "NetworkPolicy" and selects(o, labels) for r in o["spec"].get("ingress", [])
    ]
    open_rules = [r for r in rules if not r.get("from") or not r.get("ports")]
    if not server_policy_is_separate(platform_render.profile):
        # Accepted on this profile only, with its reason in the security model.
        assert open_rules and "argocd-server" in SECURITY_MODEL and "chart 6.7" in SECURITY_MODEL
        return
    assert rules and open_rules == []
    sources = [peer for r in rules for peer in r["from"]]
    assert all(p["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"} for p in sources)
    assert {port["port"] for r in rules for port in r["ports"]} == {"metrics"}


def test_the_unused_notifications_controller_is_not_installed(platform_render: Any) -> None:
    names = [o["metadata"]["name"] for o in platform_render.in_release("argocd") if o["kind"] == "Deployment"]
    assert "argocd-server" in names and not [n for n in names if "notifications" in n]


def test_current_profile_keeps_the_charts_redis_secret_init() -> None:
    # Chart 10 generates the Redis password by its own pre-install hook (redisSecretInit, on by default);
    # the seed workaround (global.env, extraObjects) must not leak into the current profile.
    values = argocd_values("current")
    assert values.get("redisSecretInit", {}).get("enabled", True) is True
    assert {o["kind"] for o in values.get("extraObjects", [])} <= {"NetworkPolicy"} and "env" not in values["global"]
    assert "image" not in values["global"]

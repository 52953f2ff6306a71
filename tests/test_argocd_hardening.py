"""Argo CD: Redis needs a password every client reads, NetworkPolicies on, and the seed image past CVE-2024-31989."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from constructs_lib.helm_addon import resolved_values

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


@pytest.mark.parametrize("profile", ["seed", "current"])
def test_argocd_network_policies_are_on_with_a_default_deny(profile: str) -> None:
    assert argocd_values(profile)["global"]["networkPolicy"] == {"create": True, "defaultDenyIngress": True}


def test_current_profile_keeps_the_charts_redis_secret_init() -> None:
    # Chart 10 generates the Redis password by its own pre-install hook (redisSecretInit, on by default);
    # the seed workaround (global.env, extraObjects) must not leak into the current profile.
    values = argocd_values("current")
    assert values.get("redisSecretInit", {}).get("enabled", True) is True
    assert "extraObjects" not in values and "env" not in values["global"]
    assert "image" not in values["global"]

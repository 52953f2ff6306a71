"""Pod Security exceptions as data, each with its reason: the shop components held at Baseline (their image needs
root or its user cannot be verified), and the checkov findings on the rendered manifests the platform accepts.
tests/test_security_render.py and tests/test_checkov.py hold the render to exactly these (a stale entry fails)."""

from __future__ import annotations

from dataclasses import dataclass

SHOP_NAMESPACE = "astronomy-shop"


@dataclass(frozen=True)
class BaselineWorkload:
    """A workload allowed Baseline instead of Restricted in its profile(s)."""

    name: str  # the Deployment's name in the render
    profiles: tuple[str, ...]
    reason: str


ROOT_IMAGE = "its image runs as root (no USER in the demo's Dockerfile at this release)"

# Everything else in the shop meets Restricted (apps/astronomy-shop/application.yaml's default context, plus the
# chart's own runAsUser for the images that run as a named user).
SHOP_BASELINE: tuple[BaselineWorkload, ...] = (
    *(
        BaselineWorkload(f"astronomy-shop-{name}", ("seed",), ROOT_IMAGE)
        for name in (
            "adservice",
            "cartservice",
            "checkoutservice",
            "currencyservice",
            "emailservice",
            "loadgenerator",
            "productcatalogservice",
            "recommendationservice",
            "shippingservice",
        )
    ),
    BaselineWorkload(
        "astronomy-shop-frauddetectionservice",
        ("seed",),
        "its image is gcr.io/distroless/java17-debian11 without the :nonroot tag, which runs as root",
    ),
    BaselineWorkload(
        "astronomy-shop-imageprovider",
        ("seed",),
        "nginx starts as root and switches its workers to the nginx user (needs SETUID and SETGID)",
    ),
    BaselineWorkload(
        "astronomy-shop-flagd",
        ("seed",),
        "flagd itself runs Restricted (uid 65532), but its flagdui sidecar's image (node:20-alpine) runs as root",
    ),
    *(
        BaselineWorkload(name, ("current",), ROOT_IMAGE)
        for name in ("ad", "cart", "currency", "email", "opamp-server", "recommendation")
    ),
    BaselineWorkload(
        "astronomy-db",
        ("current",),
        "postgres's entrypoint starts as root to own its data directory, then drops to uid 999 with gosu",
    ),
    BaselineWorkload(
        "load-generator",
        ("current",),
        "its user comes from the grafana/k6 base image as a name, which the kubelet cannot check for runAsNonRoot",
    ),
    BaselineWorkload(
        "flagd",
        ("current",),
        "flagd itself runs Restricted (uid 65532), but its flagd-ui sidecar's image (debian slim) runs as root",
    ),
)


def shop_baseline(profile: str) -> dict[str, str]:
    """Deployment name -> reason, for the shop workloads held at Baseline in `profile`."""
    return {w.name: w.reason for w in SHOP_BASELINE if profile in w.profiles}


@dataclass(frozen=True)
class CheckovException:
    """checkov findings the platform accepts: `checks` on the resources `resource` names (checkov's id,
    <Kind>.<namespace>.<name>, fnmatch pattern) in `profiles`, for `reason`."""

    checks: tuple[str, ...]
    resource: str
    profiles: tuple[str, ...]
    reason: str

    # The claim behind the exception that the render gate checks: "restricted" = every container of the workload
    # meets Pod Security Restricted (checkov reads one level where the chart sets the other); "" = nothing checkable.
    holds: str = ""


BOTH = ("seed", "current")
API = "calls the Kubernetes API"
CONTAINER_LEVEL = (
    "Restricted on every container (runAsNonRoot, no escalation, drop ALL, RuntimeDefault seccomp); the chart"
    " leaves the pod-level securityContext empty, the only level this check reads"
)
SA_LEVEL = (
    "the chart has no pod-level key: the token is off on the pod's ServiceAccount"
    " (automountServiceAccountToken: false), which Kubernetes applies to every pod using it"
)
SHOP_WRITABLE = (
    "the demo's images write to their own filesystem (runtime caches, temp and pid files) and the chart mounts no"
    " emptyDir for them: read-only roots are not verified per image offline"
)

CHECKOV_EXCEPTIONS: tuple[CheckovException, ...] = (
    # Controllers that need the API server: their token is the point.
    CheckovException(("CKV_K8S_38",), "Deployment.kube-system.karpenter", BOTH, f"Karpenter {API} (nodes, pods)"),
    CheckovException(
        ("CKV_K8S_38",),
        "Deployment.aws-load-balancer-controller.aws-load-balancer-controller",
        BOTH,
        f"the load balancer controller {API} (Ingresses, Services, TargetGroupBindings, its webhooks)",
    ),
    CheckovException(("CKV_K8S_38",), "*.kyverno.kyverno-*", BOTH, f"each Kyverno controller and hook Job {API}"),
    CheckovException(
        ("CKV_K8S_38",),
        "*.argocd.argocd-[!r]*",
        BOTH,
        f"Argo CD's controller, server, repo server and ApplicationSet controller each {API}",
    ),
    CheckovException(
        ("CKV_K8S_38",),
        "*.argocd.argocd-repo-server",
        BOTH,
        f"the repo server {API} (it reads the Argo CD ConfigMaps and Secrets of its namespace)",
    ),
    CheckovException(
        ("CKV_K8S_38",),
        "Job.argocd.argocd-redis-secret-init",
        BOTH,
        f"it {API} to create the Redis password Secret",
    ),
    CheckovException(
        ("CKV_K8S_38",),
        "Deployment.monitoring.kube-prometheus-stack-*",
        BOTH,
        f"the Prometheus operator, kube-state-metrics and Grafana's dashboard sidecar each {API}",
    ),
    CheckovException(
        ("CKV_K8S_38",),
        "Job.monitoring.kube-prometheus-stack-admission-*",
        BOTH,
        f"the operator's webhook certificate Jobs {API} (Secret and webhook configurations)",
    ),
    # Workloads that need no token and mount none, on their ServiceAccount (checkov reads the pod only).
    CheckovException(("CKV_K8S_38",), "Deployment.astronomy-shop.*", BOTH, SA_LEVEL, holds="no-token"),
    CheckovException(("CKV_K8S_38",), "Deployment.observability.jaeger", BOTH, SA_LEVEL, holds="no-token"),
    CheckovException(
        ("CKV_K8S_38",),
        "Deployment.observability.otel-collector",
        ("seed",),
        "chart 0.110.3 has no key for it on the pod or its ServiceAccount (0.170.0, on current, has: the token is off"
        " there); the collector calls no API (no k8sattributes processor), docs/security-model.md names the gap",
    ),
    # Restricted where checkov looks at the other level.
    CheckovException(("CKV_K8S_29",), "*.kyverno.kyverno-*", BOTH, CONTAINER_LEVEL, holds="restricted"),
    CheckovException(
        ("CKV_K8S_31",),
        "CronJob.kyverno.kyverno-cleanup-*",
        ("seed",),
        CONTAINER_LEVEL.replace("pod-level securityContext empty, the only level", "pod seccomp unset, the only place")
        + " for a CronJob",
        holds="restricted",
    ),
    CheckovException(("CKV_K8S_29",), "*.argocd.argocd-*", BOTH, CONTAINER_LEVEL, holds="restricted"),
    # node-exporter: host access in its own privileged namespace (the only one).
    CheckovException(
        ("CKV_K8S_20", "CKV_K8S_28", "CKV_K8S_31", "CKV_K8S_37"),
        "DaemonSet.node-exporter.kube-prometheus-stack-prometheus-node-exporter",
        BOTH,
        "node-exporter reads the host's /proc and /sys with host PID and network in the privileged node-exporter"
        " namespace; the subchart's defaults, no added capability",
    ),
    # Read-only root filesystems: Grafana (plugins, sessions) and the shop's images write to their roots.
    CheckovException(
        ("CKV_K8S_22",),
        "Deployment.monitoring.kube-prometheus-stack-grafana",
        BOTH,
        "Grafana writes plugins and its database under its data path, which the chart keeps on the root filesystem",
    ),
    CheckovException(("CKV_K8S_22",), "Deployment.astronomy-shop.*", BOTH, SHOP_WRITABLE),
)


def shop_root_exceptions() -> tuple[CheckovException, ...]:
    """The shop's Baseline workloads fail the root (CKV_K8S_23) and capabilities (CKV_K8S_37) checks for the reason
    SHOP_BASELINE gives: one exception each, derived, never restated."""
    return tuple(
        CheckovException(("CKV_K8S_23", "CKV_K8S_37"), f"Deployment.{SHOP_NAMESPACE}.{w.name}", w.profiles, w.reason)
        for w in SHOP_BASELINE
    )


CHECKOV_EXCEPTIONS += shop_root_exceptions()

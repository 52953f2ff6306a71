"""How a user reaches the cluster and its UIs: one table behind the stack Outputs, the runbook and their tests."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Ui:
    """A web UI in the cluster, reached with `kubectl port-forward` (no load balancer, no public exposure)."""

    name: str
    namespace: str
    service: str
    local_port: int
    service_port: int
    scheme: str = "http"

    @property
    def port_forward(self) -> str:
        return f"kubectl -n {self.namespace} port-forward svc/{self.service} {self.local_port}:{self.service_port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://localhost:{self.local_port}"


# Service names are what the pinned charts render for our release names (argocd, kube-prometheus-stack,
# jaeger, astronomy-shop); local ports differ so every UI can be forwarded at once. Jaeger v2 and demo 3.0 (the
# current profile) name their Services differently: tests/test_render_wiring.py checks each against the render.
UIS: dict[str, Ui] = {
    "ArgoCd": Ui("Argo CD", "argocd", "argocd-server", 8080, 443, "https"),
    "Grafana": Ui("Grafana", "monitoring", "kube-prometheus-stack-grafana", 3000, 80),
    "Prometheus": Ui("Prometheus", "monitoring", "kube-prometheus-stack-prometheus", 9090, 9090),
    "Alertmanager": Ui("Alertmanager", "monitoring", "kube-prometheus-stack-alertmanager", 9093, 9093),
    "Jaeger": Ui("Jaeger", "observability", "jaeger", 16686, 16686),
    "ShopFrontend": Ui("Shop frontend", "astronomy-shop", "frontend-proxy", 8090, 8080),
}
# Where a profile's charts name a UI's Service otherwise (seed: Jaeger v1's query Service, demo 1.x prefixes).
SERVICE_OVERRIDES: dict[str, dict[str, str]] = {
    "seed": {"Jaeger": "jaeger-query", "ShopFrontend": "astronomy-shop-frontendproxy"},
}


def uis(profile: str) -> dict[str, Ui]:
    """The UIs of a release profile."""
    services = SERVICE_OVERRIDES.get(profile, {})
    return {key: replace(ui, service=services.get(key, ui.service)) for key, ui in UIS.items()}


def update_kubeconfig_command(cluster_name: str, region: str) -> str:
    """The command that writes a kubeconfig entry for the cluster (the caller needs an access entry)."""
    return f"aws eks update-kubeconfig --name {cluster_name} --region {region}"

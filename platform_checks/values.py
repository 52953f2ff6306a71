"""Helm values we set exist in the chart's defaults with the same shape and pass its values.schema.json."""

from __future__ import annotations

import copy
import difflib
import re
from typing import TYPE_CHECKING, Any

from platform_checks.upstream_facts import facts_dir, load_fact, stale_pin

if TYPE_CHECKING:
    import jsonschema

# Helm silently ignores a typo'd key, so every key we set must be a key of the chart's default values.yaml
# (upstream_facts/values/<chart>.keys.json), except where the chart's keys are not the whole story: free-form
# maps (default `{}`), the documented allowlists below, and Helm's reserved `global`.

Path_ = tuple[str, ...]
Ctx = tuple[str, Path_]  # (label errors start with, path prefix errors show)

# Subtrees whose defaults live in a subchart that is not vendored in upstream_facts, so their keys cannot be
# checked here (Helm fetches these charts at install time; see shared/upstream/MANIFEST.md "Dependencies";
# the versions are the seed / current pins' dependencies).
UNVENDORED_SUBCHARTS: dict[str, dict[Path_, str]] = {
    "argo-cd": {("redis-ha",): "redis-ha 4.26.1 / 4.38.0 (dandydeveloper)"},
    "kube-prometheus-stack": {
        ("grafana",): "grafana",
        ("kube-state-metrics",): "kube-state-metrics",
        ("prometheus-node-exporter",): "prometheus-node-exporter",
        ("prometheus-windows-exporter",): "prometheus-windows-exporter",
    },
    "opentelemetry-demo": {
        ("prometheus",): "prometheus",
        ("grafana",): "grafana",
        ("opensearch",): "opensearch",
        # demo 0.41: a second opentelemetry-collector dependency (aliased), off by default
        ("otel-ebpf-profiler",): "opentelemetry-collector 0.165.0 as otel-ebpf-profiler",
    },
    # jaeger 3.x only (jaeger 4.x depends on bitnami common alone)
    "jaeger": {
        ("cassandra",): "cassandra 0.15.3",
        ("elasticsearch",): "elasticsearch 20.0.4",
        ("kafka",): "kafka 26.6.2",
    },
}

# Maps whose default has keys but whose real key set is open: they are rendered verbatim as data.
OPEN_MAPS: dict[str, dict[Path_, str]] = {
    "argo-cd": {
        ("configs", "cm"): "argocd-cm ConfigMap data (any Argo CD setting)",
        ("configs", "params"): "argocd-cmd-params-cm ConfigMap data (any command parameter)",
    },
    "kube-prometheus-stack": {("alertmanager", "config"): "Alertmanager configuration file"},
    "opentelemetry-collector": {("config",): "OpenTelemetry Collector configuration file"},
}

# Subcharts whose defaults ARE vendored: a parent's subtree is checked against the subchart's key tree
# (merged with the parent's own defaults for that subtree, e.g. the `enabled` condition key).
VENDORED_SUBCHARTS: dict[str, dict[str, str]] = {
    "opentelemetry-demo": {"opentelemetry-collector": "opentelemetry-collector", "jaeger": "jaeger"},
}

# Keys that charts pass verbatim into a Kubernetes object field (via toYaml), wherever they appear: the chart
# default is an example value, not the list of allowed keys (e.g. karpenter's default nodeSelector).
PASSTHROUGH_KEYS = frozenset(
    {
        "affinity",
        "annotations",
        "containerSecurityContext",
        "labels",
        "nodeSelector",
        "podAnnotations",
        "podLabels",
        "podSecurityContext",
        "resources",
        "securityContext",
        "strategy",
        "updateStrategy",
    }
)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    return "scalar"


def _dotted(path: Path_) -> str:
    # Keys with dots (argo-cd `server.insecure`) are quoted so the path stays unambiguous.
    return ".".join(f'"{p}"' if "." in p else p for p in path)


# Keys the chart's templates read that its values.yaml only documents in a comment (so the key tree lacks
# them); each entry names the template that reads it.
COMMENTED_KEYS: dict[str, dict[Path_, str]] = {
    "opentelemetry-collector": {
        ("podDisruptionBudget", "minAvailable"): "templates/pdb.yaml; values.yaml shows it as '#   minAvailable: 2'",
    },
    "jaeger": {
        # chart 3.x (Jaeger v1) and 4.x (Jaeger v2) respectively; neither parent key exists in the other.
        ("allInOne", "resources"): "templates/allinone-deploy.yaml; values.yaml has it commented out",
        ("jaeger", "resources"): "templates/jaeger/jaeger-deploy.yaml; values.yaml has it commented out",
    },
}


def _schema_node(root: dict[str, Any], node: Any) -> Any:
    """Follow local $refs (#/definitions/X) of a values.schema.json."""
    while isinstance(node, dict) and str(node.get("$ref", "")).startswith("#/"):
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def _schema_declares(chart: str, path: Path_, key: str, profile: str) -> bool:
    """Whether the chart's values.schema.json names `key` at `path` (its schema, where shipped, is the key
    list Helm enforces: e.g. opentelemetry-demo's Component allows replicas, which no default sets)."""
    if not (facts_dir(profile) / "values" / f"{chart}.schema.json").exists():
        return False
    root = load_fact(f"values/{chart}.schema.json", profile)
    node = _schema_node(root, root)
    for part in (*path, key):
        if not isinstance(node, dict):
            return False
        props = node.get("properties", {})
        patterns = [sub for pattern, sub in node.get("patternProperties", {}).items() if re.search(pattern, part)]
        if part in props:
            node = _schema_node(root, props[part])
        elif patterns:
            node = _schema_node(root, patterns[0])
        elif isinstance(node.get("additionalProperties"), dict):
            node = _schema_node(root, node["additionalProperties"])
        else:
            return False
    return True


def _union(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Key tree accepting the keys of both trees (a wins on types)."""
    if a.get("type") != "map" or b.get("type") != "map":
        return a
    if a.get("free_form") or b.get("free_form"):
        return {"type": "map", "free_form": True}
    keys = dict(b.get("keys", {}))
    for name, sub in a.get("keys", {}).items():
        keys[name] = _union(sub, keys[name]) if name in keys else sub
    return {"type": "map", "keys": keys}


def known_charts(profile: str) -> list[str]:
    """Charts with a derived key tree in the profile's facts (upstream_facts/<profile>/values)."""
    return sorted(p.name.removesuffix(".keys.json") for p in (facts_dir(profile) / "values").glob("*.keys.json"))


def _tree(chart: str, profile: str) -> dict[str, Any]:
    if chart not in known_charts(profile):
        raise ValueError(f"unknown chart {chart!r}; derived charts: {', '.join(known_charts(profile))}")
    tree: dict[str, Any] = load_fact(f"values/{chart}.keys.json", profile)["tree"]
    return tree


def chart_has_key(chart: str, path: tuple[str, ...], profile: str) -> bool:
    """Whether the chart's default values of the profile's pin hold the key at `path`."""
    tree = _tree(chart, profile)
    for key in path:
        tree = tree.get("keys", {}).get(key)
        if tree is None:
            return False
    return True


def _check_keys(chart: str, values: Any, tree: dict[str, Any], path: Path_, ctx: Ctx, profile: str) -> list[str]:
    """Walk `values` alongside `tree`; `path` is relative to `chart`; ctx = (error label, shown prefix)."""
    label, prefix = ctx
    shown = prefix + path
    default = tree.get("type", "null")
    if default != "null" and values is not None:
        want = "scalar" if default in ("string", "int", "float", "bool") else default
        if _kind(values) != want:
            return [f"{label}: {_dotted(shown)}: is a {_kind(values)} but the chart default is a {default}"]
    if path in UNVENDORED_SUBCHARTS.get(chart, {}) or path in OPEN_MAPS.get(chart, {}):
        return []
    if len(path) == 1 and path[0] in VENDORED_SUBCHARTS.get(chart, {}):
        sub = VENDORED_SUBCHARTS[chart][path[0]]
        sub_ctx = (f"{label} (subchart {sub})", shown)
        return _check_keys(sub, values, _union(_tree(sub, profile), tree), (), sub_ctx, profile)
    if not isinstance(values, dict) or default != "map" or tree.get("free_form"):
        return []
    if path and path[-1] in PASSTHROUGH_KEYS:
        return []
    errors: list[str] = []
    children: dict[str, Any] = tree.get("keys", {})
    for key, value in values.items():
        key = str(key)
        if key in children:
            errors += _check_keys(chart, value, children[key], (*path, key), ctx, profile)
        elif (*path, key) in COMMENTED_KEYS.get(chart, {}) or _schema_declares(chart, path, key, profile):
            continue  # real keys without a default; the schema (where shipped) checks their content
        elif not (not path and key == "global"):  # Helm always accepts `global` and hands it to subcharts
            close = difflib.get_close_matches(key, list(children), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            accepted = sorted(children)
            listing = ", ".join(accepted[:20]) + (", ..." if len(accepted) > 20 else "")
            errors.append(
                f"{label}: {_dotted((*shown, key))}: unknown key (Helm would silently ignore it); {hint}"
                f"accepted under {_dotted(shown) or 'the top level'}: {listing}"
            )
    return errors


def coalesce(defaults: Any, overrides: Any) -> Any:
    """Helm's merge: maps merge recursively, anything else replaces, and an explicit null deletes the key."""
    if not isinstance(defaults, dict) or not isinstance(overrides, dict):
        return copy.deepcopy(overrides)
    merged = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = coalesce(merged.get(key), value)
    return merged


def _check_schema(chart: str, values: dict[str, Any], label: str, prefix: str, profile: str) -> tuple[list[str], Any]:
    """Validate defaults+values against the chart's values.schema.json, as `helm template/install` does."""
    if not (facts_dir(profile) / "values" / f"{chart}.schema.json").exists():
        return [], values
    import jsonschema  # only charts that ship a values.schema.json need it (none of those CDK installs)

    merged = coalesce(load_fact(f"values/{chart}.defaults.json", profile), values)
    validator = jsonschema.Draft7Validator(load_fact(f"values/{chart}.schema.json", profile))

    def where(error: jsonschema.ValidationError) -> str:
        return ".".join([prefix] * bool(prefix) + [str(p) for p in error.absolute_path]) or "(top level)"

    errors = [
        f"{label}: values.schema.json of {chart}: {where(e)}: {e.message[:300]}"
        for e in sorted(validator.iter_errors(merged), key=lambda e: (where(e), e.message))
    ]
    return errors, merged


def check_values(chart: str, values: dict[str, Any], *, profile: str) -> list[str]:
    """Errors for Helm values `values` of chart `chart` at the release profile's pin; [] means fine."""
    if not isinstance(values, dict):
        return [f"{chart}: values must be a map, got {_kind(values)}"]
    stale = stale_pin(chart, profile)
    if stale is not None:
        return [stale]  # the key tree and schema are another version's: every other error would mislead
    errors = _check_keys(chart, values, _tree(chart, profile), (), (chart, ()), profile)
    schema_errors, merged = _check_schema(chart, values, chart, "", profile)
    errors += schema_errors
    # Helm also validates each enabled subchart's values (parent defaults + ours) against its own schema.
    for key, sub in VENDORED_SUBCHARTS.get(chart, {}).items():
        sub_values = merged.get(key) if key in merged else values.get(key)
        if isinstance(sub_values, dict) and sub_values.get("enabled", True) is not False:
            errors += _check_schema(sub, sub_values, f"{chart} (subchart {sub})", key, profile)[0]
    return list(dict.fromkeys(errors))

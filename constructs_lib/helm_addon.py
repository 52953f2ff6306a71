"""HelmAddon: one pinned chart release; user values from helm_values/<release>.yaml, then the profile's
helm_values/<profile>/<release>.yaml, merge over computed ones."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from aws_cdk import Duration
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from platform_checks.values import check_values, known_charts
from platform_config.versions import ReleaseProfile

VALUES_DIR = Path(__file__).resolve().parent.parent / "helm_values"
# The kubectl handler Lambda stops at 15 minutes; a Helm wait that outlives it leaves the release in
# pending-upgrade (aws-cdk#22257). Keep every wait well under that.
MAX_TIMEOUT = Duration.minutes(14)
DEFAULT_TIMEOUT = Duration.minutes(10)


class HelmValuesError(ValueError):
    """A values file or a release setting that cannot be installed as intended."""


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Maps merge key by key (override wins); lists and scalars are replaced, as Helm does with -f files."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def values_files(release: str, profile: str, values_dir: Path = VALUES_DIR) -> list[Path]:
    """Where a release's values come from, lowest precedence first: the values every profile shares, then the
    profile's own (only where its chart differs in kind, e.g. a key that is a list in one chart and a map in
    the other). Neither file has to exist."""
    return [values_dir / f"{release}.yaml", values_dir / profile / f"{release}.yaml"]


def _shown(path: Path, values_dir: Path) -> str:
    return f"{values_dir.name}/{path.relative_to(values_dir)}"


def load_values_file(path: Path, values_dir: Path = VALUES_DIR) -> dict[str, Any]:
    """One values file as a mapping ({} when it does not exist)."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise HelmValuesError(f"{_shown(path, values_dir)}: not valid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise HelmValuesError(
            f"{_shown(path, values_dir)}: top level is {type(data).__name__}; accepted is a mapping of chart values"
        )
    return data


def resolved_values(
    *, chart: str, release: str, computed: Mapping[str, Any], profile: str, values_dir: Path = VALUES_DIR
) -> dict[str, Any]:
    """File values (shared, then the profile's) merged over computed ones, then checked against the key tree and
    schema of the profile's pin."""
    files = values_files(release, profile, values_dir)
    values = dict(computed)
    for path in files:
        values = deep_merge(values, load_values_file(path, values_dir))
    shown = " + ".join(_shown(p, values_dir) for p in files if p.exists()) or _shown(files[0], values_dir)
    if chart not in known_charts(profile):
        # Only a chart installed with no values at all (karpenter-crd) may lack a derived key tree.
        if values:
            raise HelmValuesError(
                f"{shown}: chart {chart} has no key tree in upstream_facts/{profile}/values, so its "
                "values cannot be checked; derive one (tools/derive_upstream.py) or set no values"
            )
        return values
    errors = check_values(chart, values, profile=profile)
    if errors:
        raise HelmValuesError(f"{shown}: {profile} profile: " + "; ".join(errors))
    return values


class HelmAddon(Construct):
    """Installs `profile.charts[chart]` as `release` in `namespace`; exposes `chart` (the HelmChart) and `values`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: eks.ICluster,
        profile: ReleaseProfile,
        chart: str,
        namespace: str,
        release: str | None = None,
        computed_values: Mapping[str, Any] | None = None,
        timeout: Duration = DEFAULT_TIMEOUT,
        skip_crds: bool = False,
        values_dir: Path = VALUES_DIR,
    ) -> None:
        super().__init__(scope, id_)
        pin = profile.charts[chart]
        release = release or chart
        # Helm release names end up in label values and object names (53 leaves room for suffixes).
        if len(release) > 53:
            raise HelmValuesError(f"release '{release}' is {len(release)} characters; accepted is at most 53 (Helm)")
        if len(namespace) > 63:
            raise HelmValuesError(f"namespace '{namespace}' is {len(namespace)} characters; accepted is at most 63")
        if timeout.to_seconds() > MAX_TIMEOUT.to_seconds():
            raise HelmValuesError(
                f"release '{release}' timeout {timeout.to_minutes()} min; accepted is at most 14 min "
                "(the kubectl handler stops at 15, aws-cdk#22257)"
            )
        self.pin = pin
        self.release = release
        self.namespace = namespace
        self.values = resolved_values(
            chart=chart, release=release, computed=computed_values or {}, profile=profile.name, values_dir=values_dir
        )
        self.chart = eks.HelmChart(
            self,
            "Chart",
            cluster=cluster,
            chart=pin.chart,
            repository=pin.repository,
            version=pin.version,
            release=release,
            namespace=namespace,
            create_namespace=True,
            values=self.values,
            timeout=timeout,
            wait=True,
            skip_crds=skip_crds,
        )

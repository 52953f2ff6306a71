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
from platform_config import yaml_load
from platform_config.addons import Addon, Installer, addons
from platform_config.versions import ReleaseProfile

VALUES_DIR = Path(__file__).resolve().parent.parent / "helm_values"
# The kubectl handler Lambda stops at 15 minutes; a Helm wait that outlives it leaves the release in
# pending-upgrade (aws-cdk#22257). Keep every wait well under that.
# Plain minutes, not Durations: checking a record needs no call into the CDK's JavaScript.
MAX_TIMEOUT_MINUTES = 14


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
        data = yaml_load.safe_load(path.read_text())
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
                "values cannot be checked; run `make derive` or set no values"
            )
        return values
    errors = check_values(chart, values, profile=profile)
    if errors:
        raise HelmValuesError(f"{shown}: {profile} profile: " + "; ".join(errors))
    return values


def record_errors(record: Addon) -> list[str]:
    """What Helm or the kubectl handler cannot take in a record: one line each."""
    errors = []
    # Helm release names end up in label values and object names (53 leaves room for suffixes).
    if len(record.release) > 53:
        errors.append(f"release '{record.release}' is {len(record.release)} characters; accepted is at most 53 (Helm)")
    if len(record.namespace) > 63:
        errors.append(f"namespace '{record.namespace}' is {len(record.namespace)} characters; accepted is at most 63")
    if record.timeout_minutes > MAX_TIMEOUT_MINUTES:
        errors.append(
            f"release '{record.release}' timeout {record.timeout_minutes} min; accepted is at most 14 min "
            "(the kubectl handler stops at 15, aws-cdk#22257)"
        )
    return errors


class HelmAddon(Construct):
    """Installs one registry record (`addon`) at the profile's pin; exposes `addon`, `pin`, `chart` (the HelmChart)
    and `values`."""

    def __init__(
        self,
        scope: Construct,
        *,
        addon: Addon,
        cluster: eks.ICluster,
        profile: ReleaseProfile,
        computed_values: Mapping[str, Any] | None = None,
        values_dir: Path = VALUES_DIR,
    ) -> None:
        super().__init__(scope, addon.construct_id)
        errors = record_errors(addon)
        if errors:
            raise HelmValuesError("platform_config/addons.py: " + "; ".join(errors))
        pin = addon.pin(profile)
        self.addon = addon
        self.pin = pin
        self.release = addon.release
        self.namespace = addon.namespace
        self.values = resolved_values(
            chart=addon.chart,
            release=addon.release,
            computed=computed_values or {},
            profile=profile.files_profile(addon.chart),  # an upgrade step's chart: the profile pinning it
            values_dir=values_dir,
        )
        self.chart = eks.HelmChart(
            self,
            "Chart",
            cluster=cluster,
            chart=pin.chart,
            repository=pin.repository,
            version=pin.version,
            release=addon.release,
            namespace=addon.namespace,
            create_namespace=True,
            values=self.values,
            timeout=Duration.minutes(addon.timeout_minutes),
            wait=True,
            skip_crds=addon.skip_crds,
        )


def install_addons(
    scope: Construct,
    *,
    installer: Installer,
    cluster: eks.ICluster,
    profile: ReleaseProfile,
    computed_values: Mapping[str, Mapping[str, Any]],
    parts: Mapping[str, Construct | None],
) -> dict[str, HelmAddon]:
    """Every registry record `installer` installs for the profile, in registry order, each depending on what its
    `after` names: an earlier release of this installer or one of `parts` (None: absent in this configuration)."""
    installed: dict[str, HelmAddon] = {}
    for record in addons(profile.name, installer=installer):
        helm = HelmAddon(
            scope,
            addon=record,
            cluster=cluster,
            profile=profile,
            computed_values=computed_values.get(record.release),
        )
        for name in record.after:
            if name in installed:
                helm.node.add_dependency(installed[name])
            elif name in parts:
                part = parts[name]
                if part is not None:
                    helm.node.add_dependency(part)
            else:
                raise HelmValuesError(
                    f"platform_config/addons.py: {record.release} waits for '{name}'; accepted here: "
                    f"{sorted([*installed, *parts])}"
                )
        installed[record.release] = helm
    return installed

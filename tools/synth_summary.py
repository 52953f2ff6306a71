"""Print what `cdk synth` produced: the release profile, stacks, resources per stack (by type) and cdk-nag's result."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the repo root holds platform_config
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from platform_config.versions import PROFILES


def summarize(out: Path) -> tuple[str, bool]:
    """Return the summary text and whether cdk-nag passed with no unacknowledged finding."""
    manifest = json.loads((out / "manifest.json").read_text())
    lines = ["Stacks:"]
    built: dict[str, str] = {}  # "kubernetes" and chart name -> version, to name the profile they match
    for name, artifact in sorted(manifest["artifacts"].items()):
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        template = json.loads((out / artifact["properties"]["templateFile"]).read_text())
        types = Counter(res["Type"] for res in template.get("Resources", {}).values())
        for res in template.get("Resources", {}).values():
            if res["Type"] == "AWS::EKS::Cluster":
                built["kubernetes"] = str(res["Properties"].get("Version"))
            if res["Type"] == "Custom::AWSCDK-EKS-HelmChart":
                built[str(res["Properties"].get("Chart"))] = str(res["Properties"].get("Version"))
        lines.append(f"  {name}: {sum(types.values())} resources")
        charts = [
            res["Properties"].get("Chart")
            for res in template.get("Resources", {}).values()
            if res["Type"] == "Custom::AWSCDK-EKS-HelmChart"
        ]
        if charts:
            lines.append(f"    helm releases: {', '.join(sorted(str(c) for c in charts))}")
        manifests = [
            f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            for res in template.get("Resources", {}).values()
            if res["Type"] == "Custom::AWSCDK-EKS-KubernetesResource"
            for doc in _manifest_docs(res["Properties"].get("Manifest"))
        ]
        if manifests:
            lines.append(f"    manifests: {', '.join(sorted(manifests))}")
    profile, ok = release_profile(built)
    lines.insert(0, profile)
    if not ok:
        return "\n".join(lines), False
    report_path = out / "validation-report.json"
    if not report_path.exists():
        lines.append("cdk-nag: no validation report in the assembly (is the AwsSolutions plugin registered?)")
        return "\n".join(lines), False
    ok = True
    for plugin in json.loads(report_path.read_text())["pluginReports"]:
        violations = len(plugin.get("violations", []))
        acknowledged = len(plugin.get("suppressedViolations", []))
        ok = ok and plugin["conclusion"] == "success" and violations == 0
        lines.append(
            f"cdk-nag {plugin['pluginName']}: {plugin['conclusion']}, {violations} unacknowledged, "
            f"{acknowledged} acknowledged with reasons"
        )
    return "\n".join(lines), ok


def release_profile(built: dict[str, str]) -> tuple[str, bool]:
    """Which profile of platform_config/versions.py the templates' Kubernetes and chart versions are."""
    for name, profile in sorted(PROFILES.items()):
        pins = {"kubernetes": profile.kubernetes.version} | {c: p.version for c, p in profile.charts.items()}
        if built and all(pins.get(key) == version for key, version in built.items()):
            return (
                f"Release profile: {name} (Kubernetes {profile.kubernetes.version}, Karpenter "
                f"{profile.karpenter_version}, kubectl layer {profile.kubernetes.kubectl_layer_package})",
                True,
            )
    found = ", ".join(f"{k} {v}" for k, v in sorted(built.items()))
    return f"Release profile: none of {', '.join(sorted(PROFILES))} matches the templates ({found})", False


def token_placeholder(token: object) -> str:
    """Default stand-in for a CloudFormation token inside a JSON string: ${Ref:X}, ${GetAtt:X.Attr}, ${Import:X}."""
    if isinstance(token, dict) and set(token) == {"Ref"}:
        return f"${{Ref:{token['Ref']}}}"
    if isinstance(token, dict) and set(token) == {"Fn::GetAtt"}:
        return "${GetAtt:" + ".".join(token["Fn::GetAtt"]) + "}"
    if isinstance(token, dict) and set(token) == {"Fn::ImportValue"} and isinstance(token["Fn::ImportValue"], str):
        return f"${{Import:{token['Fn::ImportValue']}}}"
    return "${token}"


def json_property(value: object, placeholder: Callable[[object], str] = token_placeholder) -> Any:
    """Parse a JSON-string property (Helm values, manifests) that CDK turns into an Fn::Join when it embeds
    tokens. Tokens always sit inside JSON strings, so joining with a placeholder text parses."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        value = separator.join(p if isinstance(p, str) else placeholder(p) for p in parts)
    if not isinstance(value, str):
        raise ValueError(f"not a JSON property: {value!r:.80}")
    return json.loads(value)


def _manifest_docs(value: object) -> list[dict]:
    try:
        docs = json_property(value)
    except ValueError:
        return []
    return [d for d in docs if isinstance(d, dict)] if isinstance(docs, list) else []


if __name__ == "__main__":
    text, passed = summarize(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out"))
    print(text)
    sys.exit(0 if passed else 1)

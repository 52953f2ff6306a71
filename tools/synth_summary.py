"""Print what `cdk synth` produced: stacks, resources per stack (by type) and the cdk-nag result."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

# Run as a script (python tools/x.py): the repository root must be importable for the project packages.
if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from platform_checks.cfn_json import json_property, token_placeholder

__all__ = ["json_property", "summarize", "token_placeholder"]


def summarize(out: Path) -> tuple[str, bool]:
    """Return the summary text and whether cdk-nag passed with no unacknowledged finding."""
    manifest = json.loads((out / "manifest.json").read_text())
    lines = ["Stacks:"]
    for name, artifact in sorted(manifest["artifacts"].items()):
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        template = json.loads((out / artifact["properties"]["templateFile"]).read_text())
        types = Counter(res["Type"] for res in template.get("Resources", {}).values())
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

"""Print what `cdk synth` produced: stacks, resources per stack (by type) and the cdk-nag result."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path


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
    # The manifest property is a JSON string, or an Fn::Join when it embeds tokens; count what parses.
    if isinstance(value, str):
        try:
            docs = json.loads(value)
        except json.JSONDecodeError:
            return []
        return [d for d in docs if isinstance(d, dict)]
    if isinstance(value, dict) and "Fn::Join" in value:
        # Tokens (role names, ids) split the JSON; kinds and names are literal, so read them from the text.
        text = "".join(p if isinstance(p, str) else "TOKEN" for p in value["Fn::Join"][1])
        pairs = re.findall(r'"kind":"(\w+)","metadata":\{"name":"([^"]+)"', text)
        return [{"kind": kind, "metadata": {"name": name}} for kind, name in pairs]
    return []


if __name__ == "__main__":
    text, passed = summarize(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out"))
    print(text)
    sys.exit(0 if passed else 1)

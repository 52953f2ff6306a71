"""Print what `cdk synth` produced: the platform's key settings, stacks, resources, cdk-nag, then every warning."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from platform_checks.cfn_json import json_property
from platform_checks.compatibility import overdue_warnings, status_line
from platform_config.access_policies import CLUSTER_ADMIN_POLICY, VIEW_POLICY
from platform_config.git_settings import redacted
from platform_config.versions import release_names, release_profile


def _stacks(out: Path) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each stack artifact of the assembly with its template, by stack name."""
    manifest = json.loads((out / "manifest.json").read_text())
    return {
        name: (artifact, json.loads((out / artifact["properties"]["templateFile"]).read_text()))
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }


def settings(out: Path) -> list[str]:
    """What will be deployed where, read back from the templates: profile, account, region, version, NAT, endpoint."""
    found: dict[str, str] = {}
    nat = 0
    access: Counter[str] = Counter()
    for artifact, template in _stacks(out).values():
        env = artifact.get("environment", "")
        found.setdefault("account", env.removeprefix("aws://").split("/")[0])
        found.setdefault("region", env.rsplit("/", 1)[-1])
        release = template.get("Metadata", {}).get("EksPlatform", {}).get("Release")
        if release:
            found["profile"] = release
        for res in template.get("Resources", {}).values():
            nat += res["Type"] == "AWS::EC2::NatGateway"
            if res["Type"] == "AWS::EKS::AccessEntry":
                access.update(_access_kind(res["Properties"]))
            if "Manifest" in res.get("Properties", {}) and "git" not in found:
                repo = _gitops_repo(res["Properties"]["Manifest"])
                if repo:
                    found["git"] = redacted(repo)
            if res["Type"] == "AWS::EKS::Cluster":
                props = res["Properties"]
                vpc = props.get("ResourcesVpcConfig", {})
                found["kubernetes"] = str(props.get("Version"))
                public = vpc.get("EndpointPublicAccess", False)
                found["endpoint"] = (
                    f"public and private, from {', '.join(vpc.get('PublicAccessCidrs', []))}"
                    if public
                    else "private (kubectl only from inside the VPC: docs/runbook.md, Private endpoint access)"
                )
    lines = [f"Profile: {found['profile']}"] if "profile" in found else []
    entry = shop_entry(out)
    lines += [
        f"Account: {found.get('account', '?')}",
        f"Region: {found.get('region', '?')}",
        f"Kubernetes: {found.get('kubernetes', '?')}",
        f"NAT gateways: {nat}",
        f"API endpoint: {found.get('endpoint', '?')}",
        f"Shop entry: {entry}",
        f"Access: {access['admin']} admin principal(s), {access['viewer']} viewer principal(s)",
        f"Git: {found.get('git', '?')}",
    ]
    return lines


ALB = "alb.ingress.kubernetes.io/"


def shop_entry(out: Path) -> str:
    """How users reach the shop, read from the Ingress the app applies (constructs_lib/shop_ingress.py)."""
    ingresses = [
        doc
        for _, template in _stacks(out).values()
        for res in template.get("Resources", {}).values()
        if res["Type"] == "Custom::AWSCDK-EKS-KubernetesResource"
        for doc in json_property(res["Properties"]["Manifest"])
        if doc.get("kind") == "Ingress"
    ]
    if not ingresses:
        return "none (shop_ingress=off: kubectl port-forward, docs/runbook.md)"
    notes = ingresses[0]["metadata"].get("annotations", {})
    listeners = "HTTPS, HTTP redirected" if f"{ALB}certificate-arn" in notes else "HTTP only"
    waf = ", WAF" if f"{ALB}wafv2-acl-arn" in notes else ""
    return f"{notes.get(ALB + 'scheme', '?')} ALB ({listeners}{waf}) from {notes.get(ALB + 'inbound-cidrs', '?')}"


def _access_kind(props: dict[str, Any]) -> list[str]:
    """'admin' or 'viewer' for a configured principal's access entry (a literal ARN; the CDK's own kubectl role
    and the node role are roles of the template, referenced with Fn::GetAtt)."""
    if not isinstance(props.get("PrincipalArn"), str):
        return []
    arns = json.dumps([policy.get("PolicyArn") for policy in props.get("AccessPolicies", [])])
    return ["admin"] if CLUSTER_ADMIN_POLICY in arns else ["viewer"] if VIEW_POLICY in arns else []


def _gitops_repo(manifest: Any) -> str | None:
    """The repository the GitOps root AppProject allows (its only sourceRepos entry), from a manifest resource."""
    if not isinstance(manifest, str):
        return None
    try:
        documents = json.loads(manifest)
    except ValueError:
        return None
    for doc in documents if isinstance(documents, list) else []:
        if isinstance(doc, dict) and doc.get("kind") == "AppProject":
            repos = doc.get("spec", {}).get("sourceRepos") or []
            if repos:
                return str(repos[0])
    return None


def warnings(out: Path) -> list[str]:
    """Every warning annotation of the assembly ("<stack>: <message>"), in stack order."""
    found = []
    for name, (artifact, _) in sorted(_stacks(out).items()):
        metadata_file = artifact.get("additionalMetadataFile")
        entries = json.loads((out / metadata_file).read_text()) if metadata_file else artifact.get("metadata", {})
        for path_entries in entries.values():
            for entry in path_entries:
                if entry.get("type") == "aws:cdk:warning":
                    message = str(entry["data"]).split(" [ack: ", 1)[0]
                    found.append(f"{name}: {message}")
    return found


def summarize(out: Path) -> tuple[str, bool]:
    """Return the summary text and whether cdk-nag passed with no unacknowledged finding."""
    manifest = json.loads((out / "manifest.json").read_text())
    head = settings(out)
    profile = next((line.removeprefix("Profile: ") for line in head if line.startswith("Profile: ")), "")
    # The profile's compatibility status (issue 21): each component against its documented Kubernetes range.
    # An upgrade step's generated profile (step_profiles.json) gets its line too.
    compatibility = [status_line(release_profile(profile))] if profile in release_names() else []
    # Accepted risks past their revisit date by today's date: a warning (make test fails on the data's date).
    compatibility += overdue_warnings()
    lines = [*head, *compatibility, "Stacks:"]
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
            # A Manifest that is not JSON would be a synth bug: json_property raises rather than drop it.
            for doc in json_property(res["Properties"]["Manifest"])
        ]
        if manifests:
            lines.append(f"    manifests: {', '.join(sorted(manifests))}")
    report_path = out / "validation-report.json"
    if not report_path.exists():
        lines.append("cdk-nag: no validation report in the assembly (is the AwsSolutions plugin registered?)")
        return "\n".join(lines), False
    ok = True
    found_warnings = warnings(out)
    for plugin in json.loads(report_path.read_text())["pluginReports"]:
        violations = len(plugin.get("violations", []))
        acknowledged = len(plugin.get("suppressedViolations", []))
        ok = ok and plugin["conclusion"] == "success" and violations == 0
        lines.append(
            f"cdk-nag {plugin['pluginName']}: {plugin['conclusion']}, {violations} unacknowledged, "
            f"{acknowledged} acknowledged with reasons"
        )
    lines.append(f"Warnings: {len(found_warnings)}")
    lines += [f"  WARNING {w}" for w in found_warnings]
    return "\n".join(lines), ok


def cost_line(out: Path) -> str:
    """One line from the cost plan: the line `make cost` stored for exactly these templates and inputs, else a
    pointer to `make cost`. A synth never renders the platform for it (that takes longer than the synth)."""
    from platform_checks.cost_cache import cached_line

    return cached_line(out)


if __name__ == "__main__":
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")
    text, passed = summarize(out_dir)
    print(text)
    print(cost_line(out_dir))
    sys.exit(0 if passed else 1)

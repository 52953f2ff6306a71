"""What a deployed stack cannot change without replacing a resource: each resource's logical id, type and
create-only properties (CloudFormation's resource schemas, as cfn-lint ships them), per profile and stack.

`python -m tools.generate.deployed_baseline` rewrites tests/deployed_baseline.json from the reviewed template
snapshots; run it only when a replacement is intended and reviewed (tests/test_feature_flags.py compares synths with
it). `--check` fails naming each recorded resource the snapshots would replace (new resources are not replacements).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from pathlib import Path
from typing import Any

from tools._paths import ROOT

SNAPSHOTS = ROOT / "tests" / "__snapshots__" / "test_snapshots"
BASELINE = ROOT / "tests" / "deployed_baseline.json"
SNAPSHOT_NAME = re.compile(r"test_stack_template_matches_reviewed_snapshot\[(?P<key>[a-z]+-[a-z]+)\]\.json")


@functools.cache
def create_only(resource_type: str) -> tuple[str, ...] | None:
    """Top-level create-only properties of a resource type; None for types without a schema (custom resources)."""
    import cfnlint

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    provider = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    if resource_type not in provider:
        return None
    schema = json.loads((schemas / "resources" / f"{provider[resource_type]}.json").read_text())
    return tuple(p.split("/")[2] for p in schema.get("createOnlyProperties", []) if p.startswith("/properties/"))


def identity(template: dict[str, Any]) -> dict[str, Any]:
    """Logical id -> type and the values of its create-only properties (a change there replaces it)."""
    out: dict[str, Any] = {}
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        props = resource.get("Properties", {})
        entry: dict[str, Any] = {"Type": resource["Type"]}
        fixed = create_only(resource["Type"])
        if fixed:
            entry["CreateOnly"] = {name: props.get(name) for name in fixed if name in props}
        out[logical_id] = entry
    return out


def from_snapshots() -> dict[str, Any]:
    """The baseline the reviewed snapshots give, by `<profile>-<stack>`."""
    baseline = {}
    for path in sorted(SNAPSHOTS.glob("*.json")):
        match = SNAPSHOT_NAME.fullmatch(path.name)
        if match:
            baseline[match["key"]] = identity(json.loads(path.read_text()))
    return baseline


def replaced(recorded: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """Each recorded resource the fresh baseline drops or changes (type or a create-only property): a replacement."""
    return [
        f"{stack}: {logical_id} {entry['Type']}"
        for stack, resources in sorted(recorded.items())
        for logical_id, entry in sorted(resources.items())
        if fresh.get(stack, {}).get(logical_id) != entry
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the snapshots replace a recorded resource")
    args = parser.parse_args(argv)
    baseline = from_snapshots()
    if args.check:
        problems = replaced(json.loads(BASELINE.read_text()), baseline)
        for problem in problems:
            print(f"replaced since {BASELINE.relative_to(ROOT)}: {problem}", file=sys.stderr)
        if problems:
            print("if each replacement is intended and reviewed: python -m tools.generate.deployed_baseline")
            return 1
        print(f"{BASELINE.relative_to(ROOT)}: the snapshots replace none of its resources")
        return 0
    BASELINE.write_text(json.dumps(baseline, indent=1, sort_keys=True) + "\n")
    print(f"{BASELINE.relative_to(ROOT)}: {sum(map(len, baseline.values()))} resources in {len(baseline)} stacks")
    return 0


if __name__ == "__main__":
    sys.exit(main())

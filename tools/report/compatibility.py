"""Print every profile's compatibility status (each component against its documented Kubernetes range); exit 1
on an out-of-range pin with no accepted-risk entry, one line each."""

from __future__ import annotations

import sys

from platform_checks.compatibility import failures, profile_findings, status_line
from platform_config.versions import PROFILES


def main() -> int:
    for _, profile in sorted(PROFILES.items()):
        print(status_line(profile))
        for finding in profile_findings(profile):
            if finding.status != "in range":
                print(f"  {finding.line}")
    problems = failures()
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Print every profile's compatibility status (each component against its documented Kubernetes range); exit 1
on an out-of-range pin with no accepted-risk entry, or an accepted risk past its revisit date by the lifecycle
data's date, one line each; an entry past due by today's date only warns (a commit's result never changes with the
calendar alone)."""

from __future__ import annotations

import datetime as dt
import sys

from platform_checks.compatibility import (
    failures,
    overdue_failures,
    overdue_warnings,
    profile_findings,
    status_line,
)
from platform_config.versions import PROFILES


def main(today: dt.date | None = None) -> int:
    for _, profile in sorted(PROFILES.items()):
        print(status_line(profile))
        for finding in profile_findings(profile):
            if finding.status != "in range":
                print(f"  {finding.line}")
    for line in overdue_warnings(today):
        print(line)
    problems = failures() + overdue_failures()
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

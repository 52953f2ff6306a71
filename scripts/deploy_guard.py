"""deploy.yml's first job: deploy only when the OIDC role variables are set and the `production` environment
has required reviewers (or the repository says an unreviewed deploy is intended).

`roles`: writes configured=true|false to $GITHUB_OUTPUT; unset variables give one notice and a skipped deploy
instead of a failed run on every push of a fork that has not created its roles yet.
`reviewers`: reads the environment through the GitHub API (GET, which never creates it; the job has no
`environment:`, which would). A missing environment, or one without required reviewers, stops the workflow
unless the repository variable ALLOW_UNREVIEWED_DEPLOY is `true`. Standard library only: it runs before setup.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

ROLE_VARIABLES = ("AWS_DIFF_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN", "AWS_REGION")
ENVIRONMENT = "production"
ALLOW_VARIABLE = "ALLOW_UNREVIEWED_DEPLOY"


def roles(env: Mapping[str, str]) -> int:
    missing = [name for name in ROLE_VARIABLES if not env.get(name)]
    configured = "false" if missing else "true"
    with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"configured={configured}\n")
    if missing:
        print(
            f"::notice title=deploy skipped::repository variables {', '.join(missing)} are not set, so there is "
            "nothing to deploy to: create the OIDC roles (header of .github/workflows/deploy.yml) and set the "
            "variables under Settings > Secrets and variables > Actions > Variables"
        )
    return 0


def environment(api: str, repository: str, token: str) -> dict[str, Any] | None:
    """The environment's JSON, or None when it does not exist (404)."""
    request = urllib.request.Request(
        f"{api}/repos/{repository}/environments/{ENVIRONMENT}",
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # the API URL GitHub sets
            return dict(json.load(response))
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return None
        raise


def reviewer_count(env_json: dict[str, Any] | None) -> int:
    if env_json is None:
        return 0
    rules = env_json.get("protection_rules") or []
    return sum(len(rule.get("reviewers") or []) for rule in rules if rule.get("type") == "required_reviewers")


def reviewers(env: Mapping[str, str]) -> int:
    api = env.get("GITHUB_API_URL", "https://api.github.com")
    found = environment(api, env["GITHUB_REPOSITORY"], env["GH_TOKEN"])
    count = reviewer_count(found)
    if count:
        print(f"environment {ENVIRONMENT}: {count} required reviewer(s) gate the deploy job")
        return 0
    why = (
        f"environment {ENVIRONMENT} does not exist, and GitHub would create it unprotected"
        if found is None
        else f"environment {ENVIRONMENT} has no required reviewers"
    )
    if env.get(ALLOW_VARIABLE) == "true":
        print(f"::warning title=unreviewed deploy::{why}; deploying anyway because {ALLOW_VARIABLE}=true")
        return 0
    print(
        f"::error title=deploy refused::{why}, so the deploy (--require-approval never) would run with no human: "
        f"add required reviewers under Settings > Environments > {ENVIRONMENT}, or set the repository variable "
        f"{ALLOW_VARIABLE}=true if an unreviewed deploy is intended"
    )
    return 1


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("check", choices=("roles", "reviewers"))
    args = parser.parse_args(argv)
    env = os.environ if env is None else env
    return roles(env) if args.check == "roles" else reviewers(env)


if __name__ == "__main__":
    sys.exit(main())

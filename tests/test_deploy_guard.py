"""deploy.yml cannot deploy unguarded: it skips with a notice while its role variables are unset, and a job
without `environment:` refuses when `production` has no required reviewers (checked through the GitHub API,
here a stub on 127.0.0.1) unless ALLOW_UNREVIEWED_DEPLOY=true says an unreviewed deploy is intended."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from platform_config import yaml_load
from scripts.deploy_guard import ALLOW_VARIABLE, ENVIRONMENT, ROLE_VARIABLES, main

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / ".github" / "workflows" / "deploy.yml"
REVIEWED = {
    "name": ENVIRONMENT,
    "protection_rules": [
        {"type": "wait_timer", "wait_timer": 0},
        {"type": "required_reviewers", "reviewers": [{"type": "Team", "reviewer": {"slug": "platform"}}]},
    ],
}
UNREVIEWED = {"name": ENVIRONMENT, "protection_rules": [{"type": "branch_policy"}]}


class Stub:
    """The GitHub API on 127.0.0.1: answers GET .../environments/<name> with `answer` (None: 404)."""

    def __init__(self) -> None:
        self.answer: dict[str, Any] | None = None
        self.requests: list[tuple[str, str, str]] = []


@pytest.fixture
def api() -> Iterator[tuple[Stub, str]]:
    stub = Stub()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            stub.requests.append(("GET", self.path, self.headers.get("Authorization", "")))
            body = b'{"message": "Not Found"}' if stub.answer is None else json.dumps(stub.answer).encode()
            self.send_response(404 if stub.answer is None else 200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for serve_forever's next poll: the default 0.5 s interval was half a second per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield stub, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def guard_env(url: str, **extra: str) -> dict[str, str]:
    return {"GITHUB_API_URL": url, "GITHUB_REPOSITORY": "acme/eks-platform", "GH_TOKEN": "t0ken", **extra}


def test_reviewers_present_let_the_deploy_go_on(api: tuple[Stub, str], capsys: pytest.CaptureFixture[str]) -> None:
    stub, url = api
    stub.answer = REVIEWED
    assert main(["reviewers"], guard_env(url)) == 0
    assert stub.requests == [("GET", f"/repos/acme/eks-platform/environments/{ENVIRONMENT}", "Bearer t0ken")]
    assert "1 required reviewer(s)" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "why"), [(UNREVIEWED, "has no required reviewers"), (None, "does not exist")])
def test_no_reviewers_refuse_the_deploy(
    api: tuple[Stub, str], capsys: pytest.CaptureFixture[str], answer: dict[str, Any] | None, why: str
) -> None:
    stub, url = api
    stub.answer = answer
    assert main(["reviewers"], guard_env(url)) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("::error title=deploy refused::") and why in line and f"{ALLOW_VARIABLE}=true" in line
    assert [method for method, _, _ in stub.requests] == ["GET"], "the check must never create the environment"


@pytest.mark.parametrize("allow", ["", "false", "yes", "TRUE"])
def test_only_the_exact_opt_in_allows_an_unreviewed_deploy(
    api: tuple[Stub, str], capsys: pytest.CaptureFixture[str], allow: str
) -> None:
    stub, url = api
    stub.answer = UNREVIEWED
    assert main(["reviewers"], guard_env(url, **{ALLOW_VARIABLE: allow})) == 1
    assert main(["reviewers"], guard_env(url, **{ALLOW_VARIABLE: "true"})) == 0
    assert "::warning title=unreviewed deploy::" in capsys.readouterr().out


@pytest.mark.parametrize("unset", ROLE_VARIABLES)
def test_unset_role_variables_skip_with_a_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], unset: str
) -> None:
    output = tmp_path / "github_output"
    env = {name: "set" for name in ROLE_VARIABLES if name != unset} | {"GITHUB_OUTPUT": str(output), unset: ""}
    assert main(["roles"], env) == 0
    assert output.read_text() == "configured=false\n"
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("::notice title=deploy skipped::") and unset in line


def test_set_role_variables_let_the_workflow_run(tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    assert main(["roles"], dict.fromkeys(ROLE_VARIABLES, "set") | {"GITHUB_OUTPUT": str(output)}) == 0
    assert output.read_text() == "configured=true\n"


def workflow() -> dict[str, Any]:
    return dict(yaml_load.safe_load(DEPLOY.read_text()))


def test_the_guard_job_has_no_environment_and_gates_the_diff_and_the_deploy() -> None:
    jobs = workflow()["jobs"]
    guard = jobs["guard"]
    assert "environment" not in guard, "entering the environment would create it unprotected"
    assert "needs" not in guard
    for name in ("diff", "deploy"):
        needs = jobs[name]["needs"]
        assert "guard" in (needs if isinstance(needs, list) else [needs]), name
        assert jobs[name]["if"] == "needs.guard.outputs.configured == 'true'", name
    assert guard["outputs"]["configured"] == "${{ steps.roles.outputs.configured }}"


def test_the_guard_passes_the_role_variables_the_token_and_the_opt_in() -> None:
    roles_step, reviewers_step = (s for s in workflow()["jobs"]["guard"]["steps"] if "run" in s)
    assert roles_step["run"] == "python3 scripts/deploy_guard.py roles" and roles_step["id"] == "roles"
    assert roles_step["env"] == {name: f"${{{{ vars.{name} }}}}" for name in ROLE_VARIABLES}
    assert reviewers_step["run"] == "python3 scripts/deploy_guard.py reviewers"
    assert reviewers_step["if"] == "steps.roles.outputs.configured == 'true'"
    assert reviewers_step["env"] == {
        "GH_TOKEN": "${{ github.token }}",
        ALLOW_VARIABLE: f"${{{{ vars.{ALLOW_VARIABLE} }}}}",
    }
    # Every role variable the workflow reads is one the guard checks.
    text = DEPLOY.read_text()
    assert set(re.findall(r"vars\.(AWS_[A-Z_]+)", text)) == set(ROLE_VARIABLES)

"""make's interface: settings go through ARGS (lists too, as the README writes them), a context key given as a
make variable on the command line stops with the ARGS form, and `make help` lists every variable make reads."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from platform_config.config import PlatformConfig, _coerce, known_keys
from tests.conftest import ROOT
from tests.fixed_context import fixed_context
from tests.make_plan import MAKEFILE_VARIABLES, make_dry_run, make_env
from tools.setup.make_settings import setting_like

README = (ROOT / "README.md").read_text()


def make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    cmd = ["make", "--no-print-directory", "-n", *args]
    return subprocess.run(cmd, cwd=ROOT, env={**make_env(), **env}, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(("variable", "key"), [("REGION", "region"), ("CLUSTER_NAME", "cluster_name")])
def test_a_context_key_given_as_a_make_variable_stops_with_the_args_form(variable: str, key: str) -> None:
    result = make("synth", f"{variable}=acme-value")
    assert result.returncode != 0
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert f'make synth ARGS="-c {key}=acme-value"' in line
    assert line.startswith("Makefile:") and f"{variable}=acme-value is not a make variable" in line


def test_every_context_key_in_upper_case_is_refused_except_the_makefiles_own_variables() -> None:
    names = sorted(key.upper() for key in known_keys())
    assert {key for _, key in setting_like(names)} == {
        key for key in known_keys() if key.upper() not in MAKEFILE_VARIABLES
    }


def test_a_setting_exported_in_the_shell_is_not_make_s_business() -> None:
    result = make("synth", REGION="eu-west-2", CLUSTER_NAME="acme-prod")
    assert result.returncode == 0, result.stderr


def test_the_makefile_s_own_variables_and_unrelated_ones_pass_on_the_command_line() -> None:
    result = make("synth", "RELEASE=seed", "CHARTS_DIR=/nowhere")
    assert result.returncode == 0, result.stderr
    assert "-c release=seed" in result.stdout


def test_make_help_lists_every_variable_the_makefile_reads() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, env=make_env(), capture_output=True, text=True, check=True
    )
    listed = set(re.findall(r"^  ([A-Z_]+)\s", result.stdout, re.M))
    assert listed == MAKEFILE_VARIABLES
    assert {"ARGS", "RELEASE", "DEPLOY_FLAGS"} <= listed


def readme_args_examples() -> list[str]:
    return re.findall(r'ARGS="((?:-c [^"]+?)+)"', README.replace("\n", " "))


def test_the_readme_shows_a_list_through_args() -> None:
    assert any("public_access_cidrs=" in example for example in readme_args_examples())


@pytest.mark.parametrize("example", readme_args_examples())
def test_every_readme_args_example_is_accepted_after_the_shell_splits_it(example: str) -> None:
    # make pastes ARGS into the recipe; the recipe's shell splits it and removes quotes, as shlex does.
    words = shlex.split(example)
    pairs = dict(word.split("=", 1) for word in words if word != "-c")
    PlatformConfig.from_context(fixed_context(**pairs))


def test_a_json_list_in_args_survives_the_shell_dropping_its_quotes() -> None:
    plan = make("synth", """ARGS=-c public_access_cidrs=["203.0.113.0/24","198.51.100.7/32"]""").stdout
    synth = next(line for line in plan.splitlines() if " cdk synth " in line)
    value = shlex.split(synth)[-1].split("=", 1)[1]
    assert value == "[203.0.113.0/24,198.51.100.7/32]"
    assert _coerce("public_access_cidrs", value, tuple) == ("203.0.113.0/24", "198.51.100.7/32")


@pytest.mark.parametrize("value", ["[a,b", "[a,[b]]", "['a',b]"])
def test_a_list_that_is_neither_json_nor_shell_stripped_is_refused_in_one_line(value: str) -> None:
    with pytest.raises(ValueError, match=r"^config key 'public_access_cidrs' = .*accepted is a JSON list") as err:
        _coerce("public_access_cidrs", value, tuple)
    assert "\n" not in str(err.value)


def test_make_diff_prints_the_missing_credentials_line_once_and_keeps_the_cli_s_exit_code(tmp_path: Path) -> None:
    line = "Need to perform AWS calls for account 111111111111, but no credentials have been configured"
    fake = tmp_path / "cdk"
    fake.write_text(f'#!/bin/sh\necho "[~] Stack x"\necho "{line}" >&2\necho "{line}" >&2\nexit 1\n')
    fake.chmod(0o755)
    (plan,) = [cmd for cmd in make_dry_run("diff").splitlines() if " diff " in cmd]
    assert plan.startswith("npx --no-install cdk diff ")
    command = plan.replace("npx --no-install cdk", str(fake), 1)
    result = subprocess.run(["bash", "-eu", "-o", "pipefail", "-c", command], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["[~] Stack x", line]


def test_make_runs_python_with_its_bytecode_cache_even_where_the_shell_turns_it_off() -> None:
    # docs/performance.md: without it every synth, worker and tool compiles the project again.
    probe = 'import sys; print("dont_write_bytecode", sys.dont_write_bytecode)'
    result = subprocess.run(
        ["make", "--no-print-directory", "-f", "Makefile", "-f", "-", "probe"],
        cwd=ROOT,
        env={**make_env(), "PYTHONDONTWRITEBYTECODE": "1"},
        input=f"probe:\n\t@python3 -c '{probe}'\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "dont_write_bytecode False" in result.stdout.splitlines()

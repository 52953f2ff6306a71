"""One region and account rule for make, the scripts and the app: the configuration decides, an AWS_REGION naming
another region stops all three; a deploy prints account, region, AWS profile, cluster and stacks before anything
changes; zones are checked by region prefix offline and against the account's zones with credentials."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from platform_config.config import REGION_VARIABLES, ConfigError, PlatformConfig, app_config
from platform_config.target import stack_names, target_lines
from scripts.preflight import main as preflight
from tests.fixed_context import fixed_context
from tests.make_plan import make_dry_run

EU = {"region": "eu-west-1", "availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}
TODAY = dt.date(2026, 1, 1)


def cdk_json(tmp_path: Path, **context: object) -> str:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"app": "python3 app.py", "context": fixed_context(**{**EU, **context})}))
    return str(path)


@pytest.mark.parametrize("variable", REGION_VARIABLES)
def test_the_app_refuses_an_environment_region_other_than_the_configured_one(variable: str) -> None:
    with pytest.raises(ConfigError) as err:
        app_config(fixed_context(**EU), {variable: "eu-west-2"})
    assert str(err.value).startswith("config key 'region' = 'eu-west-1': your environment sets")
    assert f"{variable}=eu-west-2" in str(err.value) and "-c region=eu-west-2" in str(err.value)
    assert app_config(fixed_context(**EU), {variable: "eu-west-1"}).region == "eu-west-1"


def test_preflight_refuses_an_environment_region_other_than_the_configured_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert preflight(["--offline", "--cdk-json", cdk_json(tmp_path)], TODAY, {"AWS_REGION": "us-east-1"}) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: config key 'region' = 'eu-west-1': your environment sets AWS_REGION")


def test_preflight_prints_account_region_profile_cluster_and_stacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cdk_json(tmp_path, account="123456789012", cluster_name="acme-prod")
    assert preflight(["--offline", "--cdk-json", path], TODAY, {"AWS_PROFILE": "acme"}) == 0
    out = capsys.readouterr().out
    assert "    target: account 123456789012, region eu-west-1, AWS profile acme (AWS_PROFILE)\n" in out
    assert "    cluster: acme-prod, release profile " in out
    assert f"    stacks: {', '.join(stack_names('acme-prod').values())}\n" in out
    assert "admin_principals=" not in out, "the script-only line is for --script"


def test_the_placeholder_account_says_whose_account_is_used() -> None:
    (target, *_) = target_lines(PlatformConfig.from_context(fixed_context()), {})
    assert "111111111111 (placeholder: the account of your credentials)" in target
    assert "AWS profile default (no AWS_PROFILE)" in target


@pytest.mark.parametrize("target", ["deploy", "bootstrap"])
def test_make_prints_the_target_before_cdk_changes_anything(target: str) -> None:
    plan = make_dry_run(target).splitlines()
    preflight_at = next(i for i, line in enumerate(plan) if "scripts/preflight.py" in line)
    cdk_at = next(i for i, line in enumerate(plan) if f"cdk {target}" in line)
    assert preflight_at < cdk_at
    assert "--offline" not in plan[preflight_at], "with credentials the zones are checked against the account"


def test_offline_a_zone_of_another_region_is_refused_and_only_the_prefix_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"'availability_zones' = 'eu-west-2a': accepted are zones of region"):
        PlatformConfig.from_context(
            fixed_context(region="eu-west-1", availability_zones="eu-west-1a,eu-west-1b,eu-west-2a")
        )
    # Which zones an account sees varies by account (eu-west-1d exists for none today, but offline nobody knows).
    PlatformConfig.from_context(
        fixed_context(region="eu-west-1", availability_zones="eu-west-1a,eu-west-1b,eu-west-1d")
    )


def test_with_credentials_a_zone_the_account_does_not_see_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cdk_json(tmp_path, availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1d"])
    asked: list[str] = []

    def seen(region: str) -> list[str]:
        asked.append(region)
        return ["eu-west-1a", "eu-west-1b", "eu-west-1c"]

    assert preflight(["--cdk-json", path], TODAY, {}, seen) == 1
    assert asked == ["eu-west-1"]
    err = capsys.readouterr().err
    assert err.startswith("error: config key 'availability_zones' = 'eu-west-1d': accepted are zones account")
    assert "eu-west-1a, eu-west-1b, eu-west-1c" in err
    assert preflight(["--cdk-json", cdk_json(tmp_path)], TODAY, {}, seen) == 0
    assert "zones: all 3 seen by the account in eu-west-1" in capsys.readouterr().out


def test_without_credentials_the_zone_check_says_it_did_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_credentials(region: str) -> list[str]:
        raise RuntimeError("Unable to locate credentials")

    assert preflight(["--cdk-json", cdk_json(tmp_path)], TODAY, {}, no_credentials) == 0
    assert (
        "zones: not checked against the account (RuntimeError: Unable to locate credentials)" in capsys.readouterr().out
    )


def test_offline_preflight_makes_no_zone_lookup(tmp_path: Path) -> None:
    def forbidden(region: str) -> list[str]:
        raise AssertionError("looked up zones offline")

    assert preflight(["--offline", "--cdk-json", cdk_json(tmp_path)], TODAY, {}, forbidden) == 0


def test_the_readme_fork_example_is_a_valid_configuration() -> None:
    from tests.conftest import ROOT

    quick_start = (ROOT / "README.md").read_text().split("## Quick start on a real account", 1)[1]
    example = quick_start.split("```json\n", 1)[1].split("```", 1)[0]
    keys = json.loads("{" + example + "}")
    assert {"account", "region", "availability_zones", "git_repo_url", "admin_principal_arns"} <= set(keys)
    config = app_config(fixed_context(**keys), {"AWS_REGION": keys["region"]})
    assert (config.region, config.nat_gateways) == ("eu-west-1", 3)

"""CONTRIBUTING's recipes "Add an add-on" and "Add a config key" name what the code has, and following them in
process (a fixture record or key) gives the registry, the checks and the generated docs what they need."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing

import pytest

from platform_config import addons as registry
from platform_config import versions
from platform_config.addons import ADDONS, Addon, Installer, Placement, UpstreamRepo, check_registry
from platform_config.config import PlatformConfig, key
from tests.conftest import ROOT
from tools.generate import gen_docs
from tools.generate.diagram import ICONS

CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text()
PYTHON = "\n".join(
    p.read_text()
    for d in ("platform_config", "constructs_lib", "platform_stacks", "tools")
    for p in (ROOT / d).rglob("*.py")
)


def recipe(title: str) -> str:
    assert f"\n## {title}\n" in CONTRIBUTING, f"CONTRIBUTING.md has no recipe '{title}'"
    return CONTRIBUTING.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def step(text: str, number: int) -> str:
    return text.split(f"\n{number}. ", 1)[1].split(f"\n{number + 1}. ", 1)[0]


def tokens(text: str) -> set[str]:
    return set(re.findall(r"`([^`\s]+)`", text))


@pytest.mark.parametrize("title", ["Add an add-on", "Add a config key"])
def test_recipe_names_only_functions_classes_and_constants_that_exist(title: str) -> None:
    checked = 0
    for token in tokens(recipe(title)):
        checked += bool(re.fullmatch(r"\w+\(\)|[A-Z]\w+", token))
        if match := re.fullmatch(r"(\w+)\(\)", token):
            assert re.search(rf"^\s*def {match[1]}\(", PYTHON, re.M), f"{title}: {token} is defined nowhere"
        elif re.fullmatch(r"[A-Z][A-Z0-9_]+", token):
            assert re.search(rf"^{token}\b.*=", PYTHON, re.M), f"{title}: constant {token} is defined nowhere"
        elif re.fullmatch(r"[A-Z][a-z]\w+", token):
            assert re.search(rf"^class {token}\b", PYTHON, re.M), f"{title}: class {token} is defined nowhere"
    assert checked >= 2, f"{title}: the recipe names no function, class or constant to check"


def test_add_an_addon_recipe_names_every_field_of_the_registry_record_and_only_those() -> None:
    record_step = step(recipe("Add an add-on"), 1)
    names = {t for t in tokens(record_step) if re.fullmatch(r"[a-z_]+", t)}
    values = {*typing.get_args(Installer), *typing.get_args(Placement), *ICONS}
    fields = {f.name for f in dataclasses.fields(Addon)}
    assert fields - names == set(), "the record step of 'Add an add-on' misses fields of Addon"
    assert names - fields - values == set(), "the record step names fields Addon does not have"


def test_add_an_addon_recipe_names_the_files_it_asks_for() -> None:
    text = recipe("Add an add-on")
    for path in ("platform_config/addons.py", "platform_config/versions.py", "helm_values/<release>.yaml"):
        assert f"`{path}`" in text, path
    for target in ("derive", "charts", "docs", "diagram", "snapshot-update", "test"):
        assert f"`make {target}`" in text, target


def fixture_addon() -> Addon:
    return Addon(
        release="metrics-server",
        chart="metrics-server",
        title="Metrics Server",
        namespace="kube-system",
        pod_security="privileged",
        installer="addons-stack",
        construct_id="MetricsServer",
        after=("namespace-guards",),
        source=UpstreamRepo("github.com/kubernetes-sigs/metrics-server", "metrics-server-helm-chart-{version}"),
    )


def test_following_add_an_addon_puts_it_in_the_registry_checks_and_the_add_on_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = fixture_addon()
    monkeypatch.setattr(registry, "ADDONS", (*ADDONS, record))
    monkeypatch.setattr(gen_docs, "ADDONS", (*ADDONS, record))
    # Step 1 alone: the registry names the missing pin of every profile.
    where = "platform_config/addons.py: metrics-server"
    assert check_registry() == [
        f"{where}: chart metrics-server has no pin in the {name} profile (versions.py)" for name in versions.PROFILES
    ]
    # Step 2: the pin in every profile.
    pinned = {
        name: dataclasses.replace(
            profile,
            other_charts={**profile.other_charts, "metrics-server": ("https://example.test/charts", "3.12.2")},
        )
        for name, profile in versions.PROFILES.items()
    }
    monkeypatch.setattr(registry, "PROFILES", pinned)
    monkeypatch.setattr(versions, "PROFILES", pinned)
    assert check_registry() == []
    # Step 4 (make derive) gives the pin its derived appVersion; stand in for the derived facts.
    derived = gen_docs.app_version_of
    monkeypatch.setattr(
        gen_docs, "app_version_of", lambda r, p: "0.7.2" if r.release == "metrics-server" else derived(r, p)
    )
    (row,) = [line for line in gen_docs.addon_table().splitlines() if line.startswith("| Metrics Server |")]
    assert "`metrics-server` (https://example.test/charts)" in row and "3.12.2 (app 0.7.2)" in row


def test_add_a_config_key_recipe_names_every_type_a_key_can_have() -> None:
    text = step(recipe("Add a config key"), 1)
    hints = typing.get_type_hints(PlatformConfig)
    kinds = {str(hints[f.name]).replace("typing.", "") if hints[f.name] not in (str, int, bool) else
             hints[f.name].__name__ for f in dataclasses.fields(PlatformConfig)}  # fmt: skip
    assert {k for k in kinds if f"`{k}`" not in text} == set(), "a key type the recipe does not name"


def test_add_a_config_key_recipe_names_key_with_the_parameters_it_has() -> None:
    text = step(recipe("Add a config key"), 1)
    parameters = inspect.signature(key).parameters
    assert "`name: type = key(default, doc)`" in text and list(parameters)[:2] == ["default", "doc"]
    assert all(f"`{p}`" in text for p in list(parameters)[1:])


def test_following_add_a_config_key_documents_it_in_the_generated_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    extended = dataclasses.make_dataclass(
        "Extended",
        [("log_bucket_days", int, key(7, "days the log bucket keeps objects, 1 to 3653"))],
        bases=(PlatformConfig,),
        frozen=True,
    )
    monkeypatch.setattr(gen_docs, "PlatformConfig", extended)
    rows = gen_docs.config_reference().splitlines()
    assert "| `log_bucket_days` | `7` | days the log bucket keeps objects, 1 to 3653 |" in rows

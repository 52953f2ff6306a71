# Two commands do all set-up on a fresh machine: `make synth` and `make test` (both idempotent).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth

VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
CDK := npx --no-install cdk
# cdk.json runs `python3 app.py`: the venv's interpreter must come first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Offline and quiet: no notices, no version check, no telemetry, CDK state inside the repo.
export CDK_HOME := $(CURDIR)/.cdk-home
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1
CDK_FLAGS := --no-notices --no-version-reporting
DEPLOY_FLAGS ?= --require-approval never

.PHONY: deps synth test lint typecheck unit diff deploy destroy bench snapshot-update verify derive tools clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# System tools the checks need; installed here so CI on a fresh machine never skips a check.
.tools/.installed: tools/install_system_tools.sh $(VENV)/.installed
	bash tools/install_system_tools.sh
	$(PY) tools/layer_bin.py >/dev/null
	touch $@

deps: $(VENV)/.installed node_modules/.installed

synth: deps
	$(CDK) synth $(CDK_FLAGS) --quiet --output cdk.out
	$(PY) tools/synth_summary.py cdk.out

test: deps .tools/.installed lint typecheck unit

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: deps
	$(VENV)/bin/mypy

unit: deps .tools/.installed
	$(VENV)/bin/pytest

snapshot-update: deps
	$(VENV)/bin/pytest tests/test_snapshots.py --snapshot-update

derive: deps
	$(PY) tools/derive_upstream.py

# Real account only: credentials and region come from the environment (AWS_PROFILE, AWS_REGION, ...).
# DIFF_FLAGS=--method=template diffs with read-only credentials (no change set, no deploy role).
DIFF_FLAGS ?=
diff: deps
	$(CDK) diff $(CDK_FLAGS) --all $(DIFF_FLAGS)

deploy: deps
	$(CDK) deploy $(CDK_FLAGS) --all $(DEPLOY_FLAGS)

# Ordered teardown: ArgoCD apps and NodePools first so Karpenter terminates its nodes and releases
# instance profiles, then the stacks in reverse order (scripts/destroy.sh --dry-run lists each step).
# make destroy DESTROY_ARGS=--dry-run  (print every step), DESTROY_ARGS=--yes (run them)
DESTROY_ARGS ?= --dry-run
destroy: deps
	bash scripts/destroy.sh $(DESTROY_ARGS)

# Synth plus every offline check, with one summary table; non-zero on any failure.
verify: deps .tools/.installed
	$(PY) tools/verify.py

bench: deps .tools/.installed
	$(PY) tools/bench.py

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache

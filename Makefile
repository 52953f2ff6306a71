# Two commands do all set-up on a fresh machine: `make synth` and `make test` (both idempotent).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth

VENV := .venv
PY := $(VENV)/bin/python
#: PYTHON        the Python that creates .venv (default python3)
PYTHON ?= python3
CDK := npx --no-install cdk
# cdk.json runs `python3 app.py`: the venv's interpreter must come first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Python's default bytecode cache (__pycache__, git-ignored), even where the shell or image sets
# PYTHONDONTWRITEBYTECODE: without it every Python start (app.py on each synth, each test worker, each tool the
# suite runs) compiles the project's modules and pytest rewrites every test module again.
export PYTHONDONTWRITEBYTECODE :=
# Offline and quiet: no notices, no version check, no telemetry, CDK state inside the repo. jsii's Node
# end-of-life banner is app.py's to decode (platform_config/node_runtime.py), the same as without make.
export CDK_HOME := $(CURDIR)/.cdk-home
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Release profile (platform_config/versions.py): `make synth RELEASE=seed`; unset = cdk.json's `release`.
#: RELEASE       release profile for synth, diff, deploy, bootstrap, diagram (seed|current|seed-to-current-step-NN; default cdk.json)
RELEASE ?=
RELEASE_FLAG := $(if $(RELEASE), -c release=$(RELEASE))
CDK_FLAGS := --no-notices --no-version-reporting$(RELEASE_FLAG)
# An upgrade step at a minor between the profiles needs that minor's kubectl layer (not in requirements.txt).
RELEASE_LAYER = $(PY) -m tools.setup.release_layer$(if $(RELEASE), --release $(RELEASE))
# Context overrides for synth, diff and deploy: make deploy ARGS="-c admin_principal_arns=arn:aws:iam::...".
# Lists: ARGS="-c public_access_cidrs=203.0.113.0/24,198.51.100.7/32" (the shell keeps no quotes inside ARGS, so
# the app also reads what it leaves of a JSON list, [203.0.113.0/24,198.51.100.7/32]).
#: ARGS          context overrides for synth, diff, deploy, bootstrap: ARGS="-c key=value -c key=a,b"
ARGS ?=
# IAM and security-group widening waits for a yes; unattended CI passes DEPLOY_FLAGS explicitly.
#: DEPLOY_FLAGS  extra cdk deploy flags (default --require-approval broadening)
DEPLOY_FLAGS ?= --require-approval broadening

# A context key given as a make variable (make synth REGION=eu-west-2) would be ignored: stop and say how to pass
# it. Only the command line counts (an exported REGION in the shell is not meant for make); one python3 start,
# and only when the command line sets a variable.
COMMAND_LINE_VARIABLES := $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $v)),$v))
ifneq ($(strip $(COMMAND_LINE_VARIABLES)),)
SETTING_VARIABLE := $(shell $(PYTHON) -m tools.setup.make_settings $(COMMAND_LINE_VARIABLES))
ifneq ($(SETTING_VARIABLE),)
$(error $(word 1,$(SETTING_VARIABLE))=$($(word 1,$(SETTING_VARIABLE))) is not a make variable: settings are context \
keys, pass it as make $(or $(firstword $(MAKECMDGOALS)),synth) ARGS="-c $(word 2,$(SETTING_VARIABLE))=$($(word \
1,$(SETTING_VARIABLE)))" (or set it in cdk.json; make help lists the variables make reads))
endif
endif

.PHONY: help deps synth test lint typecheck unit diff deploy bootstrap destroy destroy-stacks drill tunnel bench \
	snapshot-update verify derive clean diagram charts capacity cost upgrade-plan

help: ## list every target with one line, then the variables they read (tools by job: tools/README.md)
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)$$/  make \1\t\2/' | expand -t 24
	@echo 'Variables (make <target> NAME=value); settings (context keys) go through ARGS="-c key=value":'
	@sed -nE 's/^#: ([A-Z_]+) +(.*)$$/  \1\t\2/p' $(MAKEFILE_LIST) | expand -t 16

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# System tools the checks need; installed here so CI on a fresh machine never skips a check.
.tools/.installed: tools/setup/install_system_tools.sh tools/setup/layer_bin.py platform_checks/layer_tools.py platform_config/versions.py $(VENV)/.installed
	bash tools/setup/install_system_tools.sh
	$(PY) -m tools.setup.layer_bin >/dev/null
	touch $@

# checkov (tests/test_checkov.py, make verify) in a venv of its own: it pins boto3/botocore and packaging below the
# project's, so it cannot share .venv. requirements-checkov.txt pins its whole tree.
CHECKOV_VENV := .tools/checkov
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

# Renovate's JSON schema, for tests/test_renovate.py. The renovate CLI wants Node 24 and a large dependency
# tree, so only its package tarball is fetched (about 3 MB; npm checks its integrity) and the schema kept.
# renovate: datasource=npm depName=renovate
RENOVATE_VERSION := 44.121.2
RENOVATE_SCHEMA := .tools/renovate-schema-$(RENOVATE_VERSION).json
$(RENOVATE_SCHEMA):
	mkdir -p .tools/renovate-pack
	cd .tools/renovate-pack && npm pack --silent --loglevel=error renovate@$(RENOVATE_VERSION) >/dev/null
	tar -xzf .tools/renovate-pack/renovate-$(RENOVATE_VERSION).tgz -C .tools/renovate-pack package/renovate-schema.json
	mv .tools/renovate-pack/package/renovate-schema.json $@
	rm -rf .tools/renovate-pack

# Optional, for maintainers editing renovate.json; not part of `make test`: it installs about 340 MB (430 packages,
# about a minute) into npm's cache on first use and wants Node 24 (runs on 20 and 22 with engine warnings;
# native re2 is skipped, so JavaScript regexes are used).
.PHONY: renovate-check
renovate-check: ## Renovate's own renovate-config-validator --strict on renovate.json (downloads ~340 MB once)
	npm_config_ignore_scripts=true npm exec --yes --package=renovate@$(RENOVATE_VERSION) -- \
		renovate-config-validator --strict

deps: $(VENV)/.installed node_modules/.installed ## create .venv and node_modules (the pinned CDK CLI)

synth: deps ## synthesize every stack offline with cdk-nag, then print a summary and the warnings
	$(RELEASE_LAYER)
	$(CDK) synth $(CDK_FLAGS) --quiet --output cdk.out $(ARGS)
	$(PY) -m tools.report.synth_summary cdk.out

# Offline: CHARTS_DIR=<dir of <chart>-<version>.tgz> (default ../shared/charts when it exists); else helm pull.
charts: deps .tools/.installed ## fill .charts/ with the pinned chart archives of every profile (render gate)
	$(PY) -m tools.setup.charts

test: deps .tools/.installed charts lint typecheck unit ## every offline check: lint, typecheck, pytest (what CI runs)

lint: deps ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: deps ## mypy
	$(VENV)/bin/mypy

unit: deps .tools/.installed charts $(RENOVATE_SCHEMA) $(CHECKOV_VENV)/.installed ## pytest only, one worker per core (pytest-xdist)
	$(VENV)/bin/pytest -n auto

snapshot-update: deps ## rewrite the template snapshots (review the diff like code)
	$(VENV)/bin/pytest tests/test_snapshots.py --snapshot-update

# Reads the upstream files locked in upstream_facts/sources.json from ../shared/upstream when it holds them, else
# fetches them at the locked commit (GitHub raw files; UPSTREAM_RAW_BASE to change) and checks each git blob id.
# A bumped pin's files are located by the registry's tag, locked and printed for review.
# DERIVE_FLAGS="--git OWNER/NAME=DIR" reads from a local clone, "--offline" never uses the network.
#: DERIVE_FLAGS  tools/generate/derive_upstream.py flags (--git OWNER/NAME=DIR, --offline)
DERIVE_FLAGS ?=
derive: deps ## regenerate upstream_facts/ (and lock a new pin's upstream files) from ../shared or upstream
	$(PY) -m tools.generate.derive_upstream --update-lock $(DERIVE_FLAGS)

.PHONY: docs
docs: deps .tools/.installed charts ## rewrite the generated tables in README.md and docs/ (keys, add-ons, versions, capacity)
	$(PY) -m tools.generate.gen_docs

# The shortest path between two platform states (docs/runbook.md, Moving a cluster between profiles).
#: FROM          make upgrade-plan: the profile (or cluster: the running state) to move from (default seed)
FROM ?= seed
#: TO            make upgrade-plan: the profile to move to (default current)
TO ?= current
upgrade-plan: deps ## print the upgrade playbook FROM=<profile> TO=<profile> (JSON in upgrade-plan.json)
	$(PY) -m tools.report.upgrade_plan --from $(FROM) --to $(TO) --json upgrade-plan.json
	$(PY) -m tools.report.plan_check upgrade-plan.json

# The committed architecture picture (docs/architecture.{dot,png,svg}) is the reference configuration's (the
# documented defaults, never cdk.json), so a fork's own settings cannot make tests/test_architecture_diagram.py
# fail. Your configuration's picture: make synth && make diagram DIAGRAM_FROM=cdk.out DIAGRAM_OUT=<dir>.
#: DIAGRAM_OUT   where make diagram writes (default docs)
DIAGRAM_OUT ?= docs
#: DIAGRAM_FROM  a cloud assembly to draw (cdk.out) instead of the reference configuration
DIAGRAM_FROM ?=
DIAGRAM_INPUT := $(if $(DIAGRAM_FROM),$(DIAGRAM_FROM),--reference$(if $(RELEASE), --release $(RELEASE)))
diagram: deps .tools/.installed ## draw docs/architecture.{png,svg,dot} (DIAGRAM_FROM=cdk.out DIAGRAM_OUT=dir: yours)
	$(if $(DIAGRAM_FROM),,$(RELEASE_LAYER))
	$(PY) -m tools.generate.diagram $(DIAGRAM_INPUT) --out $(DIAGRAM_OUT)

# Real account only: credentials and region come from the environment (AWS_PROFILE, AWS_REGION, ...).
# The pinned CLI's diff has no --all: without stack names it diffs every stack.
# DIFF_FLAGS=--method=template diffs with read-only credentials (no change set, no deploy role).
#: DIFF_FLAGS    extra cdk diff flags (--method=template: read-only credentials)
DIFF_FLAGS ?=
# Without credentials the pinned CLI prints its credentials line once per lookup (twice): keep the first.
diff: deps ## cdk diff of every stack against the account (needs credentials)
	$(RELEASE_LAYER)
	$(CDK) diff $(CDK_FLAGS) $(DIFF_FLAGS) $(ARGS) 2>&1 | awk '/^Need to perform AWS calls for account .*no credentials have been configured/ { if (seen++) next } { print; fflush() }'

# The preflight prints the target (account, region, AWS profile, cluster, stacks) and refuses a region the
# environment contradicts, a zone the account does not see and a Kubernetes version EKS no longer creates, all
# before CloudFormation is touched.
deploy: deps ## cdk deploy --all; prints the target first, asks before IAM or security-group widening (DEPLOY_FLAGS)
	$(RELEASE_LAYER)
	$(PY) scripts/preflight.py$(RELEASE_FLAG) $(ARGS)
	$(CDK) deploy $(CDK_FLAGS) --all $(DEPLOY_FLAGS) $(ARGS)

# Without an environment argument cdk bootstrap bootstraps the environment the stacks name: the configured
# account and region (the credentials' account for the placeholder), never the shell's default region.
bootstrap: deps ## cdk bootstrap of the configured account and region; prints the target first (needs credentials)
	$(RELEASE_LAYER)
	$(PY) scripts/preflight.py$(RELEASE_FLAG) $(ARGS)
	$(CDK) bootstrap $(CDK_FLAGS) $(ARGS)

# Ordered teardown: ArgoCD apps and NodePools first so Karpenter terminates its nodes and releases
# instance profiles, then the stacks in reverse order (scripts/destroy.sh --dry-run lists each step).
# make destroy DESTROY_ARGS=--dry-run  (print every step), DESTROY_ARGS=--yes (run them)
#: DESTROY_ARGS  scripts/destroy.sh flags (default --dry-run; --yes runs the teardown)
DESTROY_ARGS ?= --dry-run
destroy: deps ## ordered teardown; prints the steps unless DESTROY_ARGS=--yes
	bash scripts/destroy.sh $(DESTROY_ARGS)

# After the ordered teardown's cluster steps (or for stacks alone): cdk destroy of every stack through the
# project's venv and pinned CLI, in reverse dependency order; cdk asks before deleting.
destroy-stacks: deps ## cdk destroy --all (asks first); make destroy runs the whole ordered teardown
	$(CDK) destroy $(CDK_FLAGS) --all $(ARGS)

# Opt-in (spot_drill=true, deployed): start the FIS Spot interruption experiment and watch the queue, the node
# replacement and the shop. make drill DRILL_ARGS=--yes runs it; the default prints every command.
#: DRILL_ARGS    scripts/drill.sh flags (default --dry-run; --yes starts the experiment)
DRILL_ARGS ?= --dry-run
drill: ## Spot interruption drill (AWS FIS); prints the steps unless DRILL_ARGS=--yes
	bash scripts/drill.sh $(DRILL_ARGS)

# SSH-free kubectl to a private endpoint: an SSM port forward through a system node (scripts/ssm-tunnel.sh).
tunnel: ## SSM port forward to the private API endpoint through a system node; prints the kubectl to use
	bash scripts/ssm-tunnel.sh

# Synth plus every offline check, with one summary table; non-zero on any failure.
verify: deps .tools/.installed charts $(RENOVATE_SCHEMA) $(CHECKOV_VENV)/.installed ## synth plus every offline check, one table, then the synth warnings
	$(PY) -m tools.report.verify

capacity: synth .tools/.installed charts ## pod requests vs capacity per node pool, from the render of cdk.out
	$(PY) -m tools.report.capacity cdk.out

# make cost ARGS="-c nat_gateways=3" DATE=2027-09-01 ASSUME="nat_gb_per_month=500 alb_lcu=2" (keys: make cost's table)
#: DATE          make cost: the plan's date (default: the price data's date)
DATE ?=
#: ASSUME        make cost: assumptions overridden, ASSUME="nat_gb_per_month=500 alb_lcu=2"
ASSUME ?=
# Synthesizes without the synth summary: its cost line would render the platform a second time.
cost: deps .tools/.installed charts ## synth, then the monthly cost plan: fixed items, NodePools, Spot saving (JSON too)
	$(RELEASE_LAYER)
	$(CDK) synth $(CDK_FLAGS) --quiet --output cdk.out $(ARGS)
	$(PY) -m tools.report.cost_plan cdk.out$(if $(DATE), --date $(DATE))$(foreach a,$(ASSUME), --assume $(a))

bench: deps .tools/.installed charts ## median time of cdk synth and of the test suite, with progress
	$(PY) -m tools.report.bench

clean: ## remove cdk.out and the tool caches
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache

# DocChat: `make dev` runs the whole app locally (embedded Postgres, local models, no keys);
# `make test` runs everything CI runs.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTHON ?= python3
BENCH := $(if $(wildcard bench/*.py),../bench)
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.DEFAULT_GOAL := help
.PHONY: help dev install backend-install test-oidc-provider lint backend-lint test backend-test fmt clean docs-settings

help:
	@echo "make dev    - install everything, build the frontend, serve http://localhost:8000"
	@echo "make test   - lint, type-check, backend tests, frontend unit + e2e, deploy checks"

$(VENV)/.installed: backend/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: a looser requirement pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e 'backend[dev]'
	touch $@

backend-install: $(VENV)/.installed

# The OpenID provider (npm oidc-provider, run with node) that the single sign-on tests start.
OIDC_PROVIDER := backend/tests/oidc_provider
$(OIDC_PROVIDER)/node_modules/.package-lock.json: $(OIDC_PROVIDER)/package-lock.json
	npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund --loglevel=error
	@touch $@

test-oidc-provider: $(OIDC_PROVIDER)/node_modules/.package-lock.json

install: backend-install frontend-install test-oidc-provider

# The server's scratch files (and the runtime and torch caches) go in a directory removed when
# it stops, Ctrl-C included: `make dev` leaves nothing in /tmp either.
dev: install frontend-build
	$(in_scratch_tmp) trap 'rm -rf "$$scratch"' INT TERM && $(BIN)/docchat serve --host 127.0.0.1 --port 8000

backend-lint: backend-install
	cd backend && ../$(BIN)/ruff check app tests $(BENCH)
	cd backend && ../$(BIN)/ruff format --check app tests $(BENCH)
	cd backend && ../$(BIN)/mypy
	# The layers and no-cycle contracts in backend/pyproject.toml (docs/architecture.md).
	cd backend && ../$(BIN)/lint-imports --no-cache --no-logo

# Runs the rest of a recipe line with TMPDIR (and the runtime and compile caches that
# platformdirs and torch would otherwise put straight in /tmp) in a fresh directory, removed
# when the line ends: test runs leave nothing in /tmp, whatever a library writes there.
in_scratch_tmp = scratch=$$(mktemp -d -t docchat-run-XXXXXX) && trap 'rm -rf "$$scratch"' EXIT && \
	export TMPDIR=$$scratch XDG_RUNTIME_DIR=$$scratch TORCHINDUCTOR_CACHE_DIR=$$scratch/torchinductor &&

backend-test: backend-install test-oidc-provider
	$(in_scratch_tmp) cd backend && ../$(BIN)/pytest -q -p no:cacheprovider

lint: backend-lint frontend-lint client-check deploy-lint

test: lint backend-test frontend-unit frontend-build frontend-vercel frontend-e2e

fmt: backend-install
	cd backend && ../$(BIN)/ruff check --fix app tests $(BENCH) && ../$(BIN)/ruff format app tests $(BENCH)

# docs/settings.md from the settings classes and .env.example (a test fails when it is stale).
docs-settings: backend-install
	$(PY) tools/settings_reference.py

clean:
	rm -rf $(VENV) frontend/node_modules frontend/out frontend/.next tools/node_modules \
		tools/vercel/node_modules

-include mk/*.mk

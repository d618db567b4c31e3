#!/usr/bin/env bash
# The real stack for the browser tests: embedded Postgres in a fresh temporary DATA_DIR,
# migrations, an in-process worker, and the built frontend served by the API on one port.
# DATA_DIR is this clone's own and is wiped at every start, so runs leave at most one behind.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="$PWD/.e2e-data"
rm -rf "$DATA_DIR"
mkdir -p "$DATA_DIR"
export DATA_DIR
export ENVIRONMENT=development
export FRONTEND_DIST="$PWD/frontend/out"
export HF_HUB_OFFLINE=1
export LOG_LEVEL="${LOG_LEVEL:-WARNING}"
# The browser tests sign up and in far more often per minute than a person, all from 127.0.0.1;
# the limits themselves are tested in backend/tests/auth/test_auth.py.
export RATE_LIMIT_ENABLED=false
# "Import from URL" is tested with a page served by the test itself on 127.0.0.1.
export URL_IMPORT_ALLOW_PRIVATE=true
unset DATABASE_URL DATABASE_DIRECT_URL OPENAI_API_KEY OPENAI_BASE_URL SMTP_URL MAIL_FROM
PORT_WEB="${E2E_PORT:-8123}"
# Single sign-on against a real OpenID provider (the one the backend tests use, on the next
# port): the browser tests sign in through its HTML forms. Mail stays off, so "Forgot your
# password?" shows how an administrator resets one.
PORT_OIDC="${E2E_OIDC_PORT:-$((PORT_WEB + 1))}"
export PUBLIC_URL="http://127.0.0.1:$PORT_WEB"
export OIDC_ISSUER="http://127.0.0.1:$PORT_OIDC"
export OIDC_CLIENT_ID=docchat OIDC_CLIENT_SECRET=docchat-test-secret
export OIDC_PROVIDER_NAME="Test IdP"
node backend/tests/oidc_provider/provider.mjs "$PORT_OIDC" \
  "$PUBLIC_URL/api/v1/auth/oidc/callback" >/dev/null 2>&1 &
provider=$!
# Chat models to choose (LLM_MODELS), all served by the local fake OpenAI-wire server the
# backend tests use: one that answers at once, one that writes slowly (a reload lands while it
# writes), and one whose first answer to a question breaks off (Retry answers it). Chats without
# a model choice keep the default, extractive answers.
PORT_LLM="${E2E_LLM_PORT:-$((PORT_WEB + 2))}"
.venv/bin/python backend/tests/fakes/openai_server.py --port "$PORT_LLM" \
  --reply "The fake model says the ferries leave at dawn [1]." \
  --slow-model gpt-fake-slow=1 --flaky-model gpt-fake-flaky >/dev/null 2>&1 &
llm=$!
fake_model() { # id, label, model
  printf '{"id": "%s", "label": "%s", "model": "%s", "base_url": "http://127.0.0.1:%s/v1"}' \
    "$1" "$2" "$3" "$PORT_LLM"
}
LLM_MODELS="[$(fake_model e2e-fake "Fake model (e2e)" gpt-fake),"
LLM_MODELS+="$(fake_model e2e-slow "Slow fake model (e2e)" gpt-fake-slow),"
LLM_MODELS+="$(fake_model e2e-flaky "Flaky fake model (e2e)" gpt-fake-flaky)]"
export LLM_MODELS
.venv/bin/docchat serve --host 127.0.0.1 --port "$PORT_WEB" &
server=$!
# SIGTERM (Playwright's graceful shutdown) stops them; the server stops its embedded PostgreSQL.
trap 'kill -TERM "$server" "$provider" "$llm" 2>/dev/null || true' TERM INT
status=0
wait "$server" || status=$?
kill -TERM "$provider" "$llm" 2>/dev/null || true
wait "$server" 2>/dev/null || true
wait "$provider" 2>/dev/null || true
wait "$llm" 2>/dev/null || true
exit "$status"

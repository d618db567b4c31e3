#!/usr/bin/env bash
# Container entrypoint for the DocChat API image. The first argument picks the role:
#
#   web [UVICORN_ARGS...]   (default) apply migrations, then serve the API on $PORT
#   worker [ARGS...]        run the ingestion worker (procrastinate) without an HTTP server
#   migrate [ARGS...]       apply migrations and exit (release / pre-deploy command)
#   anything else           exec'd as is (e.g. `bash`, `docchat create-user ...`)
#
# An argument list that starts with "-" is passed to the web role, so
# `docker run IMAGE --workers 2` works.
#
# Environment:
#   PORT                 listen port (default 8000; platforms set it)
#   CLIENT_IP_HEADER,    where the client address comes from behind the platform's proxy
#   TRUSTED_PROXY_HOPS   (read by the app, docs/deploy.md "Client addresses"); uvicorn's
#                        own X-Forwarded-For handling is off: with FORWARDED_ALLOW_IPS="*"
#                        it took the left-most entry, which the client writes
#   MIGRATE_ON_START     "false" skips `docchat migrate` in the web role, for platforms
#                        that already run it as a release/pre-deploy step (default true;
#                        running it twice is harmless: it is idempotent and takes an
#                        advisory lock, so many replicas can start at once)
#   GRACEFUL_TIMEOUT_S   seconds uvicorn lets open requests finish after SIGTERM (default 20;
#                        keep it below the platform's kill timeout)
set -euo pipefail

# The image gets GIT_SHA as a build argument from CI. Platforms that build the Dockerfile
# themselves do not pass it, but expose the commit at run time: use that, so Sentry's
# release and /health's version name the deployed commit.
if [[ -z "${GIT_SHA:-}" || "${GIT_SHA}" == "unknown" ]]; then
  GIT_SHA="${RENDER_GIT_COMMIT:-${RAILWAY_GIT_COMMIT_SHA:-unknown}}"
  export GIT_SHA
fi

role="${1:-web}"
case "${role}" in
  -*)
    role="web"
    ;;
  *)
    if [[ "$#" -gt 0 ]]; then
      shift
    fi
    ;;
esac

case "${role}" in
  web)
    if [[ "${MIGRATE_ON_START:-true}" != "false" ]]; then
      docchat migrate
    fi
    # The app writes its own JSON request log (with request_id), hence --no-access-log.
    exec uvicorn app.main:app \
      --host 0.0.0.0 \
      --port "${PORT:-8000}" \
      --no-proxy-headers \
      --no-access-log \
      --timeout-graceful-shutdown "${GRACEFUL_TIMEOUT_S:-20}" \
      "$@"
    ;;
  worker)
    exec docchat worker "$@"
    ;;
  migrate)
    exec docchat migrate "$@"
    ;;
  *)
    exec "${role}" "$@"
    ;;
esac

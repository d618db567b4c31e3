#!/usr/bin/env bash
# Deploy ONE tested image, named by its digest, then wait until the API reports its commit.
# Run by CI (.github/workflows/ci.yml: `deploy` after the tests on main, `rollback` from the
# Actions tab), and usable by hand with the same variables.
#
#   DEPLOY_SHA                     the commit (40 hex); /health must end up reporting it
#   IMAGE_REF                      the image by digest: ghcr.io/<owner>/<repo>@sha256:<64 hex>
#   RENDER_DEPLOY_HOOK_URL         Render: the API's deploy hook (image-backed service)
#   RENDER_WORKER_DEPLOY_HOOK_URL  Render: the worker's deploy hook (optional)
#   FLY_API_TOKEN, FLY_APP         Fly.io: `flyctl deploy --image` (flyctl on PATH)
#   API_URL                        the API's public URL: wait for /health to report DEPLOY_SHA
#   HEALTH_TIMEOUT_S               how long to wait (default 900)
#   HEALTH_POLL_S                  between two polls (default 10)
#
# Railway deploys the commit itself once its checks pass ("Wait for CI", docs/deploy.md):
# with only API_URL set this script just waits for that commit on /health.
set -euo pipefail

die() {
  echo "::error::$*" >&2
  exit 1
}

[[ "${DEPLOY_SHA:-}" =~ ^[0-9a-f]{40}$ ]] || die "DEPLOY_SHA must be a full commit SHA"
[[ "${IMAGE_REF:-}" =~ ^[a-z0-9./_-]+@sha256:[0-9a-f]{64}$ ]] ||
  die "IMAGE_REF must name the image by digest (…@sha256:…), not by a movable tag"

urlencode() {
  python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}

# Render's hook URL already carries ?key=…: the image goes in a second parameter.
render_deploy() {
  local hook="$1" separator="?" image
  [[ "${hook}" == *"?"* ]] && separator="&"
  image="$(urlencode "${IMAGE_REF}")"
  curl --fail-with-body --silent --show-error --max-time 30 --retry 3 --retry-all-errors \
    -X POST "${hook}${separator}imgURL=${image}"
  echo
}

triggered=0
if [[ -n "${RENDER_DEPLOY_HOOK_URL:-}" ]]; then
  echo "Render: deploying ${IMAGE_REF} (API)"
  render_deploy "${RENDER_DEPLOY_HOOK_URL}"
  if [[ -n "${RENDER_WORKER_DEPLOY_HOOK_URL:-}" ]]; then
    echo "Render: deploying ${IMAGE_REF} (worker)"
    render_deploy "${RENDER_WORKER_DEPLOY_HOOK_URL}"
  fi
  triggered=1
fi
if [[ -n "${FLY_API_TOKEN:-}" ]]; then
  [[ -n "${FLY_APP:-}" ]] || die "FLY_APP is not set"
  echo "Fly.io: deploying ${IMAGE_REF} to ${FLY_APP}"
  flyctl deploy --app "${FLY_APP}" --image "${IMAGE_REF}" --strategy rolling
  triggered=1
fi
if [[ "${triggered}" == 0 && -z "${API_URL:-}" ]]; then
  echo "::warning::no platform configured (RENDER_DEPLOY_HOOK_URL, FLY_API_TOKEN or API_URL): nothing deployed (docs/deploy.md)"
  exit 0
fi

if [[ -z "${API_URL:-}" ]]; then
  echo "API_URL is not set; not waiting for ${DEPLOY_SHA} on /health"
  exit 0
fi
deadline=$((SECONDS + ${HEALTH_TIMEOUT_S:-900}))
while true; do
  body="$(curl --fail --silent --max-time 5 "${API_URL%/}/health" || true)"
  version="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get("version", ""))' \
    "${body:-null}" 2>/dev/null || true)"
  if [[ "${version}" == "${DEPLOY_SHA}" ]]; then
    echo "live: ${version}"
    exit 0
  fi
  if ((SECONDS >= deadline)); then
    die "${API_URL%/}/health reports ${version:-nothing}, not ${DEPLOY_SHA}"
  fi
  echo "serving ${version:-nothing}; waiting for ${DEPLOY_SHA}"
  sleep "${HEALTH_POLL_S:-10}"
done

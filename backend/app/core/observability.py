"""Sentry error reporting, enabled only when SENTRY_DSN is set."""

from __future__ import annotations

from typing import Any

from app.core.logging import redact
from app.core.settings import Settings


def _scrub(event: Any, _hint: Any) -> Any:
    """The last line of defence before an event leaves the process: drop request headers'
    credentials, cookies and bodies, then redact secrets by key and by pattern (bearer tokens,
    JWTs, `password=...`) everywhere else, e.g. in exception messages and log breadcrumbs."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("cookies", "data"):
            request.pop(key, None)
        if "headers" in request:
            request["headers"] = redact(request["headers"], None)
    return redact(event)


def init_sentry(settings: Settings) -> bool:
    if not settings.sentry_dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        release=settings.git_sha,
        environment=settings.environment,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        send_default_pii=False,
        # Frame locals hold ASGI scopes (raw Authorization headers), parsed bodies with
        # passwords and tokens; request bodies are credentials or users' documents. Neither
        # belongs in an error tracker.
        include_local_variables=False,
        max_request_body_size="never",
        before_send=_scrub,
        before_send_transaction=_scrub,
    )
    return True

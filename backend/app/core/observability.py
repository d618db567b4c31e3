"""Sentry error reporting, enabled only when SENTRY_DSN is set."""

from __future__ import annotations

from typing import Any

from app.core.logging import redact
from app.core.settings import Settings


def _scrub(event: Any, _hint: Any) -> Any:
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("headers", "cookies", "data"):
            if key in request:
                request[key] = redact(request[key], key if key != "data" else None)
    return event


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
        before_send=_scrub,
    )
    return True

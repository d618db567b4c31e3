"""Retrying calls to OpenAI-compatible HTTP APIs: which statuses to retry, how long to wait
(``Retry-After`` or exponential backoff with jitter), and how to name a failure.
Shared by the embeddings (app.ai.embeddings) and chat (app.ai.llm) clients."""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Mapping

import openai

RETRYABLE_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``Retry-After`` (seconds or HTTP date)."""
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            ms = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(ms) and ms >= 0:
                return ms / 1000.0
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def backoff_delay(attempt: int, *, base_s: float, max_s: float) -> float:
    """Exponential backoff with "equal jitter" for retry number ``attempt`` (1-based)."""
    ceiling = min(max_s, base_s * (2 ** (attempt - 1)))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def status_phrase(status: int) -> str:
    if status == 429:
        return f"is rate-limiting requests (HTTP {status})"
    return f"is unavailable (HTTP {status})"


def api_error_detail(err: openai.APIStatusError) -> str:
    """The server's own error message, if any, shortened for display."""
    body = err.body
    message: object = None
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, Mapping) else inner
    if not isinstance(message, str) or not message.strip():
        return ""
    message = " ".join(message.split())
    return message if len(message) <= 300 else message[:297] + "..."

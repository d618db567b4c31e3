"""Rate limits on slowapi's limiter (moving window, memory or RATE_LIMIT_STORAGE_URI).

Limits are strings in the `limits` notation from the settings ("5/minute", several separated
by ";"); docs/runbook.md lists them and how to raise them."""

from __future__ import annotations

import math
import time
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse_many
from slowapi import Limiter

from app.core.errors import AppError


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"


TOO_MANY_ATTEMPTS = "Too many attempts; try again later."
TOO_MANY_REQUESTS = "Too many requests; try again in a moment."


def client_ip(request: Request) -> str:
    # The client address as ClientAddressMiddleware resolved it (never a client-written one).
    return request.client.host if request.client else "unknown"


def create_limiter(storage_uri: str, *, enabled: bool) -> Limiter:
    return Limiter(
        key_func=client_ip, storage_uri=storage_uri, strategy="moving-window", enabled=enabled
    )


@lru_cache(maxsize=64)
def rate_items(limit: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limit))


class RateLimitGate:
    """Counts hits per key against limits; raises 429 with Retry-After when one is exceeded."""

    def __init__(self, limiter: Limiter) -> None:
        self._limiter = limiter

    @property
    def enabled(self) -> bool:
        return bool(self._limiter.enabled)

    def hit(self, limit: str, scope: str, *keys: str, message: str = TOO_MANY_ATTEMPTS) -> None:
        """One hit for each key; 429 as soon as one key is over any of the limit's windows."""
        if not self.enabled:
            return
        for key in keys:
            for item in rate_items(limit):
                if not self._limiter.limiter.hit(item, scope, key):
                    raise self._limited(item, scope, key, message)

    def record(self, limit: str, scope: str, key: str) -> None:
        """Count one event (e.g. a failed sign-in) without refusing anything."""
        if self.enabled:
            for item in rate_items(limit):
                self._limiter.limiter.hit(item, scope, key)

    def exhausted(self, limit: str, scope: str, key: str) -> bool:
        """Whether the key has used up one of the limit's windows (counts nothing)."""
        return self.enabled and any(
            not self._limiter.limiter.test(item, scope, key) for item in rate_items(limit)
        )

    def check(self, limit: str, scope: str, key: str, *, message: str = TOO_MANY_ATTEMPTS) -> None:
        """429 when the key has used up one of the limit's windows (counts nothing)."""
        if not self.enabled:
            return
        for item in rate_items(limit):
            if not self._limiter.limiter.test(item, scope, key):
                raise self._limited(item, scope, key, message)

    def _limited(self, item: RateLimitItem, scope: str, key: str, message: str) -> RateLimited:
        reset_at, _ = self._limiter.limiter.get_window_stats(item, scope, key)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        return RateLimited(message, headers={"Retry-After": str(retry_after)})


def get_rate_limit_gate(request: Request) -> RateLimitGate:
    return RateLimitGate(request.app.state.limiter)


RateLimitDep = Annotated[RateLimitGate, Depends(get_rate_limit_gate)]

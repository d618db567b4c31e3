"""Rate limits on slowapi's limiter (moving window, memory or RATE_LIMIT_STORAGE_URI)."""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import Depends, Request
from limits import parse
from slowapi import Limiter

from app.core.errors import AppError


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"


def client_ip(request: Request) -> str:
    # uvicorn rewrites the client address from X-Forwarded-For only for FORWARDED_ALLOW_IPS.
    return request.client.host if request.client else "unknown"


def create_limiter(storage_uri: str, *, enabled: bool) -> Limiter:
    return Limiter(
        key_func=client_ip, storage_uri=storage_uri, strategy="moving-window", enabled=enabled
    )


class RateLimitGate:
    """Counts one hit against `limit` for each key; raises 429 with Retry-After when exceeded."""

    def __init__(self, limiter: Limiter) -> None:
        self._limiter = limiter

    def hit(self, limit: str, scope: str, *keys: str) -> None:
        if not self._limiter.enabled:
            return
        item = parse(limit)
        for key in keys:
            if not self._limiter.limiter.hit(item, scope, key):
                reset_at, _ = self._limiter.limiter.get_window_stats(item, scope, key)
                retry_after = max(1, math.ceil(reset_at - time.time()))
                raise RateLimited(
                    "Too many attempts; try again later.",
                    headers={"Retry-After": str(retry_after)},
                )


def get_rate_limit_gate(request: Request) -> RateLimitGate:
    return RateLimitGate(request.app.state.limiter)


RateLimitDep = Annotated[RateLimitGate, Depends(get_rate_limit_gate)]

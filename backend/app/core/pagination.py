"""`limit`/`offset` query parameters, one definition for every list route."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

MAX_LIMIT = 500
# PostgreSQL's OFFSET is a bigint: a larger number was a 500 ("bigint out of range").
MAX_OFFSET = 2**63 - 1


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def page_params(*, default_limit: int) -> Callable[..., Page]:
    """A dependency reading `limit` (1..500, default `default_limit`) and `offset`."""

    def page(
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = default_limit,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Page:
        return Page(limit=limit, offset=offset)

    return page

"""A frozen snapshot of the SQL the previous release runs (see README.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Statement:
    """One statement as the previous release sent it to the database driver (psycopg).

    `columns` and `rowcount` are what it returned when the snapshot was captured; the rolling
    deploy test replays `steps` in order on a fresh database at head and expects the same.
    """

    sql: str
    params: Any  # a dict, or a list of dicts when `many`
    many: bool
    columns: tuple[str, ...] | None
    rowcount: int

"""Documents written straight into the database: a library of thousands without ingesting
(the rows are what the list, the counts and the bulk actions read)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class SeedDocument:
    filename: str
    status: str = "ready"
    kind: str = "text"
    size_bytes: int = 100
    created_at: datetime = field(default_factory=lambda: BASE_TIME)
    folder: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


CONTENT_TYPES = {"text": "text/plain", "pdf": "application/pdf", "markdown": "text/markdown"}


def seed(database_url: str, user_id: str, documents: list[SeedDocument]) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO documents (id, user_id, filename, content_type, kind, size_bytes, "
            "sha256, status, progress, created_at, updated_at, folder) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    document.id,
                    user_id,
                    document.filename,
                    CONTENT_TYPES.get(document.kind, "text/plain"),
                    document.kind,
                    document.size_bytes,
                    hashlib.sha256(document.id.bytes).hexdigest(),
                    document.status,
                    100 if document.status == "ready" else 0,
                    document.created_at,
                    document.created_at,
                    document.folder,
                )
                for document in documents
            ],
        )


def at(minutes: int) -> datetime:
    return BASE_TIME + timedelta(minutes=minutes)

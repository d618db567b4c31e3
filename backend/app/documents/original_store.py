"""What a store of uploaded originals is (app.documents.storage picks and combines them)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

PIECE_BYTES = 1024 * 1024
POSTGRES = "postgres"
S3 = "s3"


class OriginalMissing(Exception):
    def __init__(self, document_id: uuid.UUID) -> None:
        super().__init__(f"the original of document {document_id} is missing from its store")


class OriginalStore(Protocol):
    kind: str

    async def write(self, session: AsyncSession, *, document_id: uuid.UUID, data: bytes) -> None:
        """Store an original within the caller's transaction (Postgres) or before it commits
        (S3: an object left by a failed commit is an orphan, never a loss)."""

    async def write_pieces(
        self, session: AsyncSession, *, document_id: uuid.UUID, pieces: AsyncIterable[bytes]
    ) -> int:
        """Store an original that arrives in pieces; returns its size."""

    def read_pieces(self, *, document_id: uuid.UUID) -> AsyncIterator[bytes]:
        """The original in pieces of at most PIECE_BYTES; no database connection is held
        between two pieces. Raises OriginalMissing when there is none."""

    async def open(self, *, document_id: uuid.UUID) -> AsyncIterator[bytes]:
        """`read_pieces`, with what can fail before the first byte (a missing object, an
        unreachable bucket) done now, so that a download fails before its response starts.
        Takes no database connection: the caller's request may still hold one."""

    async def remove(self, *, document_id: uuid.UUID) -> None:
        """Delete an original outside any request transaction (after its row is gone)."""

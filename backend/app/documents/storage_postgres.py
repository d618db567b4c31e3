"""Originals in PostgreSQL (`document_files.data`), streamed out with `substring`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.documents.models import DocumentFile
from app.documents.original_store import PIECE_BYTES, POSTGRES, OriginalMissing


class PostgresStore:
    """Originals as `bytea` in `document_files`, read with `substring` one piece per short
    transaction: a slow client never holds a pooled connection, and 20 downloads of a 50 MB
    file cost 20 pieces of memory, not 20 files (docs/benchmarks.md, "Originals")."""

    kind = POSTGRES

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def write(self, session: AsyncSession, *, document_id: uuid.UUID, data: bytes) -> None:
        session.add(DocumentFile(document_id=document_id, data=data))
        await session.flush()

    async def write_pieces(
        self, session: AsyncSession, *, document_id: uuid.UUID, pieces: AsyncIterable[bytes]
    ) -> int:
        # One bytea value is one bind parameter: it is assembled here (bounded by the upload
        # limit); reads are the part that must stream.
        data = bytearray()
        async for piece in pieces:
            data += piece
        await self.write(session, document_id=document_id, data=bytes(data))
        return len(data)

    async def open(self, *, document_id: uuid.UUID) -> AsyncIterator[bytes]:
        # Nothing to prepare: the row exists with its document (same transaction, FK), and no
        # connection is taken before the first piece is wanted.
        return self.read_pieces(document_id=document_id)

    async def read_pieces(self, *, document_id: uuid.UUID) -> AsyncIterator[bytes]:
        offset = 0
        while True:
            async with self._sessionmaker() as session:
                piece = (
                    await session.execute(
                        text(
                            "SELECT substring(data FROM :start FOR :length) FROM document_files "
                            "WHERE document_id = :document_id"
                        ),
                        {"start": offset + 1, "length": PIECE_BYTES, "document_id": document_id},
                    )
                ).scalar_one_or_none()
            if piece is None:
                if offset == 0:
                    raise OriginalMissing(document_id)
                return  # deleted while being read: the download ends short
            if piece:
                yield piece
            if len(piece) < PIECE_BYTES:
                return
            offset += PIECE_BYTES

    async def remove(self, *, document_id: uuid.UUID) -> None:
        async with self._sessionmaker() as session:
            await session.execute(
                delete(DocumentFile).where(DocumentFile.document_id == document_id)
            )
            await session.commit()

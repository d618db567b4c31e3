"""Where uploaded originals live: the interface, and the stores this process can reach.

Providers: PostgreSQL (`storage_postgres`, the default) and any S3-compatible bucket
(`storage_s3`). Both stream: a download goes out in pieces of at most `PIECE_BYTES` and is
never held whole, and an S3 upload goes up in multipart parts. Each document records the
store that holds its original (`documents.original_storage`; NULL, from before there was a
choice, means Postgres), so ORIGINALS_STORAGE only decides where new uploads go, and
`docchat originals migrate` moves the existing ones.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.errors import ServiceUnavailable
from app.core.settings import Settings
from app.documents import repository
from app.documents.original_store import (
    PIECE_BYTES,
    POSTGRES,
    S3,
    OriginalMissing,
    OriginalStore,
)
from app.documents.storage_postgres import PostgresStore

__all__ = ["PIECE_BYTES", "POSTGRES", "S3", "OriginalMissing", "OriginalStore", "Originals"]


class Originals:
    """The store for new uploads, and the store each existing original is in."""

    def __init__(self, stores: Sequence[OriginalStore], *, default: str) -> None:
        self._stores = {store.kind: store for store in stores}
        self.default = self._stores[default]

    def store(self, kind: str | None) -> OriginalStore:
        store = self._stores.get(kind or POSTGRES)
        if store is None:
            raise ServiceUnavailable(
                "This file is kept in object storage, which this server is not configured to reach."
            )
        return store

    async def forget(self, *, kind: str | None, document_id: uuid.UUID) -> None:
        """Delete an original whose document row is gone (a Postgres one went with it)."""
        if (kind or POSTGRES) != POSTGRES:
            await self.store(kind).remove(document_id=document_id)

    async def read_all(self, *, kind: str | None, document_id: uuid.UUID) -> bytes:
        """A whole original, for parsing (which needs every byte at once anyway)."""
        data = bytearray()
        async for piece in self.store(kind).read_pieces(document_id=document_id):
            data += piece
        return bytes(data)


def postgres_originals(sessionmaker: async_sessionmaker[AsyncSession]) -> Originals:
    return Originals([PostgresStore(sessionmaker)], default=POSTGRES)


@contextlib.asynccontextmanager
async def open_originals(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Originals]:
    """This process's stores: Postgres always (older originals stay readable), plus the S3
    bucket when one is configured; its client lives as long as the context."""
    postgres = postgres_originals(sessionmaker)
    if not settings.s3_bucket:
        yield postgres
        return
    from app.documents.storage_s3 import S3Location, S3Store, s3_client  # loads aiobotocore

    async with s3_client(settings) as client:
        bucket = S3Store(client, S3Location(bucket=settings.s3_bucket, prefix=settings.s3_prefix))
        yield Originals([postgres.store(POSTGRES), bucket], default=settings.originals_storage)


async def documents_to_move(session: AsyncSession, *, target: str) -> list[uuid.UUID]:
    """Documents whose original is not in `target` yet."""
    return await repository.documents_stored_elsewhere(session, target=target, postgres=POSTGRES)


async def move_original(
    session: AsyncSession, *, originals: Originals, document_id: uuid.UUID, target: str
) -> tuple[str, int] | None:
    """Copy one original into `target`, piece by piece, and record it in the caller's
    transaction (which also drops a Postgres copy). Returns (the store it came from, size),
    or None when the document is gone. An S3 source is removed by the caller after commit."""
    source = await repository.original_storage_for_update(session, document_id=document_id)
    if source is None:
        return None
    source_kind = source[0] or POSTGRES
    size = await originals.store(target).write_pieces(
        session,
        document_id=document_id,
        pieces=originals.store(source_kind).read_pieces(document_id=document_id),
    )
    await repository.set_document_values(session, document_id=document_id, original_storage=target)
    if source_kind == POSTGRES:
        await repository.delete_postgres_original(session, document_id=document_id)
    return source_kind, size

"""The SQL of documents, their pages and passages (ORM). The write side of the search index
(chunks, postings, statistics) is in `indexing.py`; what a reader may see is decided by
app.sharing.access, which the reading queries here join."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.documents.models import (
    Chunk,
    ChunkTerm,
    Document,
    DocumentFile,
    DocumentPage,
    DocumentStatus,
)
from app.sharing import access
from app.sharing.models import Role


async def insert_document_if_new(
    session: AsyncSession, *, user_id: uuid.UUID, sha256: str, **values: Any
) -> uuid.UUID | None:
    """The new document's id, or None when the user already has these bytes."""
    inserted = await session.execute(
        pg_insert(Document)
        .values(id=uuid.uuid4(), user_id=user_id, sha256=sha256, **values)
        .on_conflict_do_nothing(index_elements=["user_id", "sha256"])
        .returning(Document.id)
    )
    return inserted.scalar_one_or_none()


async def document_id_by_hash(
    session: AsyncSession, *, user_id: uuid.UUID, sha256: str
) -> uuid.UUID:
    result = await session.execute(
        select(Document.id).where(Document.user_id == user_id, Document.sha256 == sha256)
    )
    return result.scalar_one()


@dataclass(frozen=True)
class ReadableDocument:
    document: Document
    owner: User
    role: Role


async def readable_documents(
    session: AsyncSession,
    *,
    reader_id: uuid.UUID,
    document_ids: Sequence[uuid.UUID] | None = None,
    collection_id: uuid.UUID | None = None,
    owned: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[ReadableDocument]:
    """The documents the reader can read, newest first, with their owner and the reader's
    role; narrowed to ``document_ids``, a collection's documents, or the reader's own."""
    ranks = access.document_ranks(reader_id, document_ids=document_ids)
    statement = (
        select(Document, User, ranks.c.rank)
        .join(ranks, ranks.c.document_id == Document.id)
        .join(User, User.id == Document.user_id)
        .order_by(Document.created_at.desc(), Document.id)
        .offset(offset)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if collection_id is not None:
        statement = statement.where(Document.id.in_(access.in_collection(collection_id)))
    if owned:
        statement = statement.where(Document.user_id == reader_id)
    rows = (await session.execute(statement)).all()
    return [ReadableDocument(row[0], row[1], access.role_of_rank(row[2])) for row in rows]


async def document_by_id(
    session: AsyncSession, *, document_id: uuid.UUID, for_update: bool = False
) -> Document | None:
    """A document by id alone: for a caller that has checked the access (app.sharing.access)."""
    statement = select(Document).where(Document.id == document_id)
    if for_update:
        statement = statement.with_for_update()
    result = await session.execute(statement.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def requeue_document(session: AsyncSession, *, document_id: uuid.UUID) -> None:
    await session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(status=DocumentStatus.QUEUED.value, stage="queued", progress=0, error=None)
    )


async def stored_page_count(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID
) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(DocumentPage)
        .where(DocumentPage.document_id == document_id, DocumentPage.user_id == user_id)
    )
    return int(result.scalar_one())


async def page_of(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID, number: int
) -> DocumentPage | None:
    result = await session.execute(
        select(DocumentPage).where(
            DocumentPage.document_id == document_id,
            DocumentPage.user_id == user_id,
            DocumentPage.number == number,
        )
    )
    return result.scalar_one_or_none()


async def chunk_of(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    chunk_id: int,
    document_id: uuid.UUID | None = None,
) -> Chunk | None:
    """The user's passage; with `document_id`, only if it is in that document."""
    statement = select(Chunk).where(Chunk.id == chunk_id, Chunk.user_id == user_id)
    if document_id is not None:
        statement = statement.where(Chunk.document_id == document_id)
    result = await session.execute(statement)
    return result.scalar_one_or_none()


async def chunk_by_id(session: AsyncSession, *, chunk_id: int) -> Chunk | None:
    """Any owner's passage: the caller checks that the reader may read its document."""
    return await session.get(Chunk, chunk_id)


# The ingestion job's statements: it owns its short transactions (documents/tasks.py).


async def without_wal_flush(session: AsyncSession) -> None:
    """For writes a crash may lose at no cost (progress hints): commit without waiting for
    the WAL flush."""
    await session.execute(text("SET LOCAL synchronous_commit = off"))


async def set_processing_progress(
    session: AsyncSession, *, document_id: uuid.UUID, stage: str, progress: int
) -> bool:
    """False when no processing document has that id any more (deleted)."""
    result = await session.execute(
        update(Document)
        .where(Document.id == document_id, Document.status == DocumentStatus.PROCESSING)
        .values(stage=stage, progress=progress)
    )
    return cast(CursorResult[Any], result).rowcount > 0


async def set_document_values(
    session: AsyncSession, *, document_id: uuid.UUID, **values: object
) -> None:
    await session.execute(update(Document).where(Document.id == document_id).values(**values))


async def document_for_update(session: AsyncSession, *, document_id: uuid.UUID) -> Document | None:
    result = await session.execute(
        select(Document).where(Document.id == document_id).with_for_update()
    )
    return result.scalar_one_or_none()


async def chunk_counts_for_update(
    session: AsyncSession, *, document_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The documents' chunk counts, locking them in id order (two workers never wait on each
    other in a cycle); a document that is gone is missing."""
    result = await session.execute(
        select(Document.id, Document.chunk_count)
        .where(Document.id.in_(document_ids))
        .order_by(Document.id)
        .with_for_update()
    )
    return {row.id: row.chunk_count for row in result}


async def set_values_of_documents(
    session: AsyncSession, *, values: Sequence[dict[str, object]]
) -> None:
    """Each dict's values on the document whose ``id`` it holds (one executemany)."""
    await session.execute(update(Document), list(values))


# Moving originals between stores (documents/storage.py).


async def documents_stored_elsewhere(
    session: AsyncSession, *, target: str, postgres: str
) -> list[uuid.UUID]:
    """Documents whose original is not in `target` yet (a null store means Postgres)."""
    stored = Document.original_storage
    condition = (
        stored.is_not(None) & (stored != postgres)
        if target == postgres
        else stored.is_distinct_from(target)
    )
    result = await session.execute(select(Document.id).where(condition).order_by(Document.id))
    return list(result.scalars())


async def original_storage_for_update(
    session: AsyncSession, *, document_id: uuid.UUID
) -> tuple[str | None] | None:
    """(the store of the original,) locking the document; None when the document is gone."""
    row = (
        await session.execute(
            select(Document.original_storage).where(Document.id == document_id).with_for_update()
        )
    ).one_or_none()
    return None if row is None else (row[0],)


async def delete_postgres_original(session: AsyncSession, *, document_id: uuid.UUID) -> None:
    await session.execute(delete(DocumentFile).where(DocumentFile.document_id == document_id))


async def originals_of_user_for_update(
    session: AsyncSession, *, user_id: uuid.UUID
) -> list[tuple[str | None, uuid.UUID]]:
    """(store, document id) of each of the user's documents, locked."""
    result = await session.execute(
        select(Document.original_storage, Document.id)
        .where(Document.user_id == user_id)
        .with_for_update()
    )
    return [(storage, document_id) for storage, document_id in result.all()]


async def delete_documents_of_user(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    """Postings have no foreign key; chunks, pages and Postgres originals go with each
    document row."""
    await session.execute(delete(ChunkTerm).where(ChunkTerm.user_id == user_id))
    await session.execute(delete(Document).where(Document.user_id == user_id))


@dataclass(frozen=True)
class StorageUsage:
    documents: int
    storage_bytes: int


async def lock_quota_of_user(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    """Until the transaction ends, the user's other uploads wait here."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"quota:{user_id}", 0)))
    )


async def hashes_present(
    session: AsyncSession, *, user_id: uuid.UUID, sha256s: Sequence[str]
) -> set[str]:
    result = await session.execute(
        select(Document.sha256).where(Document.user_id == user_id, Document.sha256.in_(sha256s))
    )
    return set(result.scalars())


async def usage_of_user(session: AsyncSession, *, user_id: uuid.UUID) -> StorageUsage:
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Document.size_bytes), 0)).where(
                Document.user_id == user_id
            )
        )
    ).one()
    return StorageUsage(documents=int(row[0]), storage_bytes=int(row[1]))

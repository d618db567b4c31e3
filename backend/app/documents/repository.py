"""The SQL of documents, their pages and passages (ORM). The write side of the search index
(chunks, postings, statistics) is in `indexing.py`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.documents.models import Chunk, Document, DocumentFile, DocumentPage, DocumentStatus


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


async def documents_of(
    session: AsyncSession, *, user_id: uuid.UUID, limit: int, offset: int
) -> Sequence[Document]:
    result = await session.execute(
        select(Document)
        .where(Document.user_id == user_id)
        .order_by(Document.created_at.desc(), Document.id)
        .limit(limit)
        .offset(offset)
    )
    return result.scalars().all()


async def document_of(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID, for_update: bool = False
) -> Document | None:
    statement = select(Document).where(Document.id == document_id, Document.user_id == user_id)
    if for_update:
        statement = statement.with_for_update()
    result = await session.execute(statement.execution_options(populate_existing=True))
    return result.scalar_one_or_none()


async def existing_document_ids(
    session: AsyncSession, *, user_id: uuid.UUID, document_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Those of `document_ids` that are still the user's documents."""
    result = await session.execute(
        select(Document.id).where(Document.user_id == user_id, Document.id.in_(document_ids))
    )
    return list(result.scalars())


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
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID, chunk_id: int
) -> Chunk | None:
    result = await session.execute(
        select(Chunk).where(
            Chunk.id == chunk_id, Chunk.document_id == document_id, Chunk.user_id == user_id
        )
    )
    return result.scalar_one_or_none()


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


async def chunk_count_for_update(session: AsyncSession, *, document_id: uuid.UUID) -> int | None:
    """The document's chunk count, locking it; None when it is gone."""
    result = await session.execute(
        select(Document.chunk_count).where(Document.id == document_id).with_for_update()
    )
    return result.scalar_one_or_none()


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

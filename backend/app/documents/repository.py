"""The SQL of documents, their pages and passages (ORM). The write side of the search index
(chunks, postings, statistics) is in `indexing.py`; what a reader may see is decided by
app.sharing.access, which the reading queries here join."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Select,
    delete,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.auth.models import User
from app.core.pagination import MAX_OFFSET
from app.documents.models import (
    Chunk,
    ChunkTerm,
    Document,
    DocumentFile,
    DocumentPage,
    DocumentStatus,
)
from app.sharing import access
from app.sharing.models import CollectionDocument, Role


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


class LibrarySort(StrEnum):
    DATE = "date"
    NAME = "name"
    SIZE = "size"
    STATUS = "status"


def sort_keys(sort: LibrarySort) -> list[ColumnElement[Any] | InstrumentedAttribute[Any]]:
    """The columns a sort orders by, all in one direction, ending in the id (ties page
    correctly). Each matches an index that starts with user_id (migration 0016)."""
    if sort is LibrarySort.NAME:
        return [func.lower(Document.filename), Document.id]
    if sort is LibrarySort.SIZE:
        return [Document.size_bytes, Document.id]
    if sort is LibrarySort.STATUS:
        return [Document.status, Document.created_at, Document.id]
    return [Document.created_at, Document.id]


@dataclass(frozen=True)
class LibraryFilter:
    """Which of the readable documents a listing, a count or a bulk action covers."""

    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    collection_id: uuid.UUID | None = None
    owned: bool = False
    created_from: datetime | None = None
    created_to: datetime | None = None
    query: str | None = None
    folder: str | None = None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_path() -> ColumnElement[str]:
    """lower('folder/filename'): the expression of the trigram index ix_documents_search_trgm
    (migration 0016), written with literals so that the planner matches it."""
    slash: ColumnElement[str] = literal_column("'/'")
    empty: ColumnElement[str] = literal_column("''")
    folder = func.coalesce(Document.folder.op("||")(slash), empty)
    return func.lower(folder.op("||")(Document.filename))


def _filter_conditions(wanted: LibraryFilter, *, with_status: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if with_status and wanted.statuses:
        conditions.append(Document.status.in_(wanted.statuses))
    if wanted.kinds:
        conditions.append(Document.kind.in_(wanted.kinds))
    if wanted.created_from is not None:
        conditions.append(Document.created_at >= wanted.created_from)
    if wanted.created_to is not None:
        conditions.append(Document.created_at < wanted.created_to)
    if wanted.query:
        pattern = f"%{_escape_like(wanted.query.lower())}%"
        conditions.append(search_path().like(pattern))
    if wanted.folder is not None:
        conditions.append(
            or_(
                Document.folder == wanted.folder,
                Document.folder.like(f"{_escape_like(wanted.folder)}/%"),
            )
        )
    return conditions


def _readable_branches(reader_id: uuid.UUID, wanted: LibraryFilter) -> list[ColumnElement[bool]]:
    """Disjoint conditions whose union is every document the reader can read (per
    app.sharing.access): each is answered by its own index, so a listing sorts and limits
    each branch before merging them (the reader's own documents: by the user_id indexes)."""
    if wanted.collection_id is not None:
        # Every document of a collection the reader can see is readable (checked by the
        # caller, which 404s for a collection they cannot see).
        return [Document.id.in_(access.in_collection(wanted.collection_id))]
    own = Document.user_id == reader_id
    if wanted.owned:
        return [own]
    collections = access.collection_ranks(reader_id)
    shared = (
        select(CollectionDocument.document_id)
        .join(collections, collections.c.collection_id == CollectionDocument.collection_id)
        .where(CollectionDocument.owner_id != reader_id)
    )
    return [own, Document.id.in_(shared)]


def _keyset_page(
    condition: ColumnElement[bool],
    wanted: LibraryFilter,
    *,
    sort: LibrarySort,
    descending: bool,
    after: Sequence[Any] | None,
    limit: int,
) -> Select[Any]:
    keys = sort_keys(sort)
    statement = select(*[key.label(f"k{i}") for i, key in enumerate(keys)]).where(
        condition, *_filter_conditions(wanted, with_status=True)
    )
    if after is not None:
        position = tuple_(*keys)
        bound = tuple_(*after)
        statement = statement.where(position < bound if descending else position > bound)
    return statement.order_by(*[key.desc() if descending else key for key in keys]).limit(limit)


async def library_page(
    session: AsyncSession,
    *,
    reader_id: uuid.UUID,
    wanted: LibraryFilter,
    sort: LibrarySort,
    descending: bool,
    after: Sequence[Any] | None,
    limit: int,
    offset: int = 0,
) -> list[tuple[Any, ...]]:
    """The sort keys of one page of readable documents (the last value of each is the id):
    keyset pagination after ``after`` (the previous page's last keys), or an ``offset`` for
    the callers that page that way. Each readable branch is sorted and limited by its own
    index before the branches merge."""
    # Postgres's LIMIT is a bigint: an offset near its top still answers an empty page.
    wanted_rows = min(limit + offset, MAX_OFFSET)
    branches = [
        _keyset_page(
            condition, wanted, sort=sort, descending=descending, after=after, limit=wanted_rows
        ).subquery()
        for condition in _readable_branches(reader_id, wanted)
    ]
    count = len(sort_keys(sort))
    if len(branches) == 1:
        merged = branches[0]
    else:
        merged = union_all(*[select(branch) for branch in branches]).subquery("page")
    columns = [merged.c[f"k{i}"] for i in range(count)]
    statement = (
        select(*columns)
        .order_by(*[column.desc() if descending else column for column in columns])
        .offset(offset)
        .limit(limit)
    )
    return [tuple(row) for row in (await session.execute(statement)).all()]


async def library_status_counts(
    session: AsyncSession, *, reader_id: uuid.UUID, wanted: LibraryFilter
) -> dict[str, int]:
    """How many readable documents match the filter (its status filter aside), by status."""
    branches = [
        select(Document.status).where(condition, *_filter_conditions(wanted, with_status=False))
        for condition in _readable_branches(reader_id, wanted)
    ]
    matching = (branches[0] if len(branches) == 1 else union_all(*branches)).subquery("matching")
    rows = await session.execute(
        select(matching.c.status, func.count()).group_by(matching.c.status)
    )
    return {status: int(count) for status, count in rows.all()}


async def readable_in_order(
    session: AsyncSession, *, reader_id: uuid.UUID, document_ids: Sequence[uuid.UUID]
) -> list[ReadableDocument]:
    """The readable ones of ``document_ids``, in that order."""
    found = {
        readable.document.id: readable
        for readable in await readable_documents(
            session, reader_id=reader_id, document_ids=document_ids
        )
    }
    return [found[document_id] for document_id in document_ids if document_id in found]


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


async def start_processing(
    session: AsyncSession, *, document_id: uuid.UUID, stage: str, progress: int
) -> Document | None:
    """Mark the document processing and count the attempt, in one statement; None when it
    is gone."""
    result = await session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(
            status=DocumentStatus.PROCESSING.value,
            stage=stage,
            progress=progress,
            error=None,
            attempts=Document.attempts + 1,
        )
        .returning(Document)
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


# `docchat ingest` (app.ingest_command): resuming by hash, and waiting on a run's documents.


async def database_now(session: AsyncSession) -> datetime:
    """The database's clock (documents.created_at is set by it)."""
    now: datetime = (await session.execute(select(func.now()))).scalar_one()
    return now


async def document_id_of_hash(
    session: AsyncSession, *, user_id: uuid.UUID, sha256: str
) -> uuid.UUID | None:
    result = await session.execute(
        select(Document.id).where(Document.user_id == user_id, Document.sha256 == sha256)
    )
    return result.scalar_one_or_none()


async def status_counts_since(
    session: AsyncSession, *, user_id: uuid.UUID, since: datetime
) -> dict[str, int]:
    """The user's documents created at or after ``since``, by status."""
    rows = await session.execute(
        select(Document.status, func.count())
        .where(Document.user_id == user_id, Document.created_at >= since)
        .group_by(Document.status)
    )
    return {status: int(count) for status, count in rows.all()}


async def status_counts_of(
    session: AsyncSession, *, document_ids: Sequence[uuid.UUID]
) -> dict[str, int]:
    rows = await session.execute(
        select(Document.status, func.count())
        .where(Document.id.in_(list(document_ids)))
        .group_by(Document.status)
    )
    return {status: int(count) for status, count in rows.all()}


async def failures_since(
    session: AsyncSession, *, user_id: uuid.UUID, since: datetime
) -> AsyncIterator[tuple[str, str | None]]:
    """(filename, error) of the user's failed documents created since ``since``, streamed."""
    rows = await session.stream(
        select(Document.filename, Document.error)
        .where(
            Document.user_id == user_id,
            Document.created_at >= since,
            Document.status == DocumentStatus.FAILED,
        )
        .order_by(Document.created_at)
    )
    async for filename, error in rows:
        yield filename, error


async def failures_of(
    session: AsyncSession, *, document_ids: Sequence[uuid.UUID]
) -> AsyncIterator[tuple[str, str | None]]:
    rows = await session.stream(
        select(Document.filename, Document.error).where(
            Document.id.in_(list(document_ids)), Document.status == DocumentStatus.FAILED
        )
    )
    async for filename, error in rows:
        yield filename, error

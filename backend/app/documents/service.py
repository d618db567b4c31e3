"""Documents: upload, listing, deletion and (re)indexing requests.

A user reads what app.sharing.access says they may (their own documents and those of
collections shared with them); only a document's owner deletes or reindexes it."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.core.errors import NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from app.core.jobs import cancel_jobs, defer_job
from app.documents import repository
from app.documents.detect import (
    CONTENT_TYPES,
    DocumentKind,
    UnsupportedFileType,
    detect_kind,
    sanitize_filename,
)
from app.documents.images import ImageError, image_content_type, page_png
from app.documents.indexing import remove_document_chunks
from app.documents.models import Chunk, Document, DocumentPage, DocumentStatus
from app.documents.quotas import Quota, check_quota
from app.documents.repository import (
    LibraryFilter,
    LibrarySort,
    ReadableDocument,
    readable_documents,
)
from app.documents.storage import Originals
from app.documents.tasks import ingest_document
from app.documents.url_import import (
    FetchLimits,
    TooLarge,
    UnsupportedContent,
    UrlImportError,
    fetch_document,
)
from app.sharing import access
from app.sharing.models import Role
from app.sharing.repository import add_collection_documents

if TYPE_CHECKING:
    from app.core.settings import Settings

DOCUMENT_NOT_FOUND = "Document not found."
PAGE_NOT_STORED = (
    "The text of this page is not available: the document was indexed before DocChat kept "
    "page text. Reindex it to view it here."
)
PAGE_NOT_FOUND = "This document has no page {number}."
NO_PAGE_IMAGE = "This document has no page images (only image documents have them)."
# The viewer's page image: enough for a sharp page on a large screen, small to send.
PAGE_IMAGE_MAX_SIDE = 2000
PASSAGE_NOT_FOUND = "This passage is no longer in the document; it may have been reindexed."
# A passage asked for by its id alone: it may never have been the caller's.
UNKNOWN_PASSAGE = "Passage not found; passage ids change when a document is reindexed."


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    # Set by an import from the web: the kind is known from the response, not detected.
    kind: DocumentKind | None = None
    source_url: str | None = None
    # The folder the file was picked from, relative to what was picked ("reports/2024").
    folder: str | None = None


MAX_FOLDER_CHARS = 1000


def normalize_folder(raw: str | None) -> str | None:
    """A relative folder as stored: '/'-separated, without empty, '.' or '..' parts
    (None for the top level); 422 when it is too long."""
    if raw is None:
        return None
    parts = [part.strip() for part in raw.replace("\\", "/").split("/")]
    kept = [part for part in parts if part not in ("", ".", "..")]
    folder = "/".join(kept)
    if len(folder) > MAX_FOLDER_CHARS:
        raise Unprocessable(f"A folder path has at most {MAX_FOLDER_CHARS} characters.")
    return folder or None


def document_lock(document_id: uuid.UUID) -> str:
    return f"document:{document_id}"


async def enqueue_ingestion(session: AsyncSession, *, document_id: uuid.UUID) -> None:
    """Queue the ingestion job in the SAME transaction as the document change (an outbox):
    the job exists exactly when the commit does, and a worker never sees a missing row."""
    await defer_job(
        session, ingest_document, lock=document_lock(document_id), document_id=str(document_id)
    )


async def cancel_ingestion(session: AsyncSession, *, document_id: uuid.UUID) -> None:
    """Stop the document's ingestion when the caller's transaction commits: a queued job is
    deleted, and a running one is asked to abort (its parse process is killed)."""
    await cancel_jobs(session, ingest_document, lock=document_lock(document_id))


def validate_upload(upload: Upload) -> tuple[str, str, str]:
    """(safe filename, kind, content type), or a 4xx naming the file."""
    filename = sanitize_filename(upload.filename or "document")
    if not upload.data:
        raise Unprocessable(f"{filename} is empty.")
    if upload.kind is not None:
        return filename, upload.kind.value, CONTENT_TYPES[upload.kind]
    try:
        kind = detect_kind(upload.data, filename)
    except UnsupportedFileType as exc:
        raise UnsupportedMediaType(f"{filename}: {exc.message}") from None
    if kind is DocumentKind.IMAGE:
        return filename, kind.value, image_content_type(upload.data) or CONTENT_TYPES[kind]
    return filename, kind.value, CONTENT_TYPES[kind]


async def create_documents(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    uploads: Sequence[Upload],
    originals: Originals,
    collection_id: uuid.UUID | None = None,
    quota: Quota | None = None,
) -> list[Document]:
    """Store each file (in the configured store) and queue it; the same bytes uploaded again
    return the existing record. With ``collection_id`` (editors of it only), each document
    is also added to that collection. With a `quota`, nothing is stored when the files would
    exceed it (403 quota_exceeded)."""
    if collection_id is not None:
        await access.require_collection(
            session, reader_id=user_id, collection_id=collection_id, at_least=Role.EDITOR
        )
    validated = [validate_upload(upload) for upload in uploads]
    digests = [hashlib.sha256(upload.data).hexdigest() for upload in uploads]
    if quota is not None:
        sizes = {digest: len(upload.data) for digest, upload in zip(digests, uploads, strict=True)}
        await check_quota(session, user_id=user_id, quota=quota, sizes_by_sha256=sizes)
    documents: list[Document] = []
    for upload, digest, (filename, kind, content_type) in zip(
        uploads, digests, validated, strict=True
    ):
        new_id = await repository.insert_document_if_new(
            session,
            user_id=user_id,
            sha256=digest,
            filename=filename,
            content_type=content_type,
            kind=kind,
            size_bytes=len(upload.data),
            status=DocumentStatus.QUEUED.value,
            stage="queued",
            original_storage=originals.default.kind,
            source_url=upload.source_url,
            folder=normalize_folder(upload.folder),
        )
        if new_id is not None:
            await originals.default.write(session, document_id=new_id, data=upload.data)
            await enqueue_ingestion(session, document_id=new_id)
            document_id = new_id
        else:
            document_id = await repository.document_id_by_hash(
                session, user_id=user_id, sha256=digest
            )
        documents.append(await get_document(session, user_id=user_id, document_id=document_id))
    if collection_id is not None and documents:
        await add_collection_documents(
            session,
            collection_id=collection_id,
            document_ids=[document.id for document in documents],
            added_by=user_id,
        )
    return documents


def fetch_limits(settings: Settings) -> FetchLimits:
    return FetchLimits(
        timeout_s=settings.url_import_timeout_s,
        max_bytes=settings.url_import_max_mb * 1024 * 1024,
        max_redirects=settings.url_import_max_redirects,
        allow_private=settings.url_import_allow_private,
    )


async def import_url(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    url: str,
    limits: FetchLimits,
    originals: Originals,
    quota: Quota | None = None,
) -> Document:
    """Fetch the page or PDF at ``url`` (url_import's safety rules) and queue it like an
    upload; a failed fetch is a 4xx with the reason."""
    try:
        fetched = await fetch_document(url, limits)
    except TooLarge as exc:
        raise PayloadTooLarge(exc.message) from None
    except UnsupportedContent as exc:
        raise UnsupportedMediaType(exc.message) from None
    except UrlImportError as exc:
        raise Unprocessable(exc.message) from None
    upload = Upload(
        filename=fetched.filename, data=fetched.data, kind=fetched.kind, source_url=fetched.url
    )
    [document] = await create_documents(
        session, user_id=user_id, uploads=[upload], originals=originals, quota=quota
    )
    return document


INVALID_CURSOR = "This page cursor is not valid for this sort; start again from the first page."


def encode_cursor(sort: LibrarySort, *, descending: bool, keys: Sequence[Any]) -> str:
    """An opaque cursor: the last row's sort keys, with the sort they belong to."""
    values = [value.isoformat() if isinstance(value, datetime) else value for value in keys]
    values[-1] = str(values[-1])
    raw = json.dumps({"s": sort.value, "d": descending, "k": values}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: LibrarySort, *, descending: bool) -> list[Any]:
    """The sort keys a cursor holds (422 for one that is not of this sort and order)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if raw["s"] != sort.value or raw["d"] is not descending:
            raise ValueError
        keys = list(raw["k"])
        expected = len(repository.sort_keys(sort))
        if len(keys) != expected:
            raise ValueError
        keys[-1] = uuid.UUID(keys[-1])
        if sort is LibrarySort.DATE:
            keys[0] = datetime.fromisoformat(keys[0])
        elif sort is LibrarySort.STATUS:
            keys[0], keys[1] = str(keys[0]), datetime.fromisoformat(keys[1])
        elif sort is LibrarySort.SIZE:
            if not isinstance(keys[0], int):
                raise ValueError
        elif not isinstance(keys[0], str):
            raise ValueError
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise Unprocessable(INVALID_CURSOR) from None
    return keys


@dataclass(frozen=True)
class LibraryPage:
    documents: list[ReadableDocument]
    # Where the next page starts; None on the last page.
    next_cursor: str | None


async def _require_filter_collection(
    session: AsyncSession, *, user_id: uuid.UUID, wanted: LibraryFilter
) -> None:
    if wanted.collection_id is not None:
        await access.require_collection(
            session, reader_id=user_id, collection_id=wanted.collection_id, at_least=Role.VIEWER
        )


async def list_library(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    wanted: LibraryFilter,
    sort: LibrarySort = LibrarySort.DATE,
    descending: bool = True,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
) -> LibraryPage:
    """One page of the documents the user can read that match ``wanted`` (404 for a
    collection they cannot see), sorted, after ``cursor`` (keyset) or at ``offset``."""
    if cursor is not None and offset:
        raise Unprocessable("Give either a cursor or an offset, not both.")
    await _require_filter_collection(session, user_id=user_id, wanted=wanted)
    after = decode_cursor(cursor, sort, descending=descending) if cursor is not None else None
    rows = await repository.library_page(
        session,
        reader_id=user_id,
        wanted=wanted,
        sort=sort,
        descending=descending,
        after=after,
        limit=limit,
        offset=offset,
    )
    documents = await repository.readable_in_order(
        session, reader_id=user_id, document_ids=[row[-1] for row in rows]
    )
    next_cursor = (
        encode_cursor(sort, descending=descending, keys=rows[-1]) if len(rows) == limit else None
    )
    return LibraryPage(documents=documents, next_cursor=next_cursor)


async def count_library(
    session: AsyncSession, *, user_id: uuid.UUID, wanted: LibraryFilter
) -> dict[str, int]:
    """Matching documents by status (the filter's status aside)."""
    await _require_filter_collection(session, user_id=user_id, wanted=wanted)
    return await repository.library_status_counts(session, reader_id=user_id, wanted=wanted)


async def list_documents(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    limit: int,
    offset: int,
    collection_id: uuid.UUID | None = None,
    owned: bool = False,
) -> list[ReadableDocument]:
    """Everything the user can read, newest first, or only their own (``owned``), or only a
    collection's documents (404 for a collection they cannot see)."""
    page = await list_library(
        session,
        user_id=user_id,
        wanted=LibraryFilter(collection_id=collection_id, owned=owned),
        limit=limit,
        offset=offset,
    )
    return page.documents


async def describe(
    session: AsyncSession, *, user_id: uuid.UUID, documents: Sequence[Document]
) -> list[ReadableDocument]:
    """The documents (which the user can read) with their owner and the user's role."""
    found = {
        readable.document.id: readable
        for readable in await readable_documents(
            session, reader_id=user_id, document_ids=[document.id for document in documents]
        )
    }
    return [found[document.id] for document in documents]


async def get_readable(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID
) -> ReadableDocument:
    found = await readable_documents(session, reader_id=user_id, document_ids=[document_id])
    if not found:
        raise NotFound(DOCUMENT_NOT_FOUND)
    return found[0]


async def get_document(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    document_id: uuid.UUID,
    for_update: bool = False,
    at_least: Role = Role.VIEWER,
) -> Document:
    """A document the user can read (404), with at least the role ``at_least`` (403)."""
    await access.require_document(
        session, reader_id=user_id, document_id=document_id, at_least=at_least
    )
    document = await repository.document_by_id(
        session, document_id=document_id, for_update=for_update
    )
    if document is None:
        raise NotFound(DOCUMENT_NOT_FOUND)
    return document


async def get_document_file(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID, originals: Originals
) -> tuple[Document, AsyncIterator[bytes]]:
    """The document and its original in pieces, read after the request's transaction ends
    (Postgres: one short transaction per piece; S3: the object's body, opened here so that a
    missing or unreachable object fails the request before its response starts)."""
    document = await get_document(session, user_id=user_id, document_id=document_id)
    pieces = await originals.store(document.original_storage).open(document_id=document.id)
    return document, pieces


async def delete_document(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID
) -> Document:
    """File (in Postgres), chunks, vectors, postings and the ingestion job go in the caller's
    single transaction; a job already running writes nothing after it
    (tasks.publish_documents). An
    original in object storage is the caller's to forget once that commits."""
    document = await get_document(
        session, user_id=user_id, document_id=document_id, for_update=True, at_least=Role.OWNER
    )
    await cancel_ingestion(session, document_id=document.id)
    await remove_document_chunks(session, user_id=document.user_id, document_id=document.id)
    await session.delete(document)
    await session.flush()
    # The id only: the audit log is read by admins, who do not see users' content.
    await audit.record(
        session,
        action=audit.DOCUMENT_DELETE,
        actor_id=user_id,
        target_type="document",
        target_id=str(document.id),
    )
    return document


async def delete_all_documents(
    session: AsyncSession, *, user_id: uuid.UUID
) -> list[tuple[str | None, uuid.UUID]]:
    """Every document of the user, with its chunks, vectors, postings, pages, Postgres-held
    original and ingestion job, in the caller's transaction. Returns (store, document id) of
    each original, for the caller to forget once that commits (as delete_document)."""
    originals = await repository.originals_of_user_for_update(session, user_id=user_id)
    for _, document_id in originals:
        await cancel_ingestion(session, document_id=document_id)
    await repository.delete_documents_of_user(session, user_id=user_id)
    return originals


async def request_reindex(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID
) -> Document:
    document = await get_document(
        session, user_id=user_id, document_id=document_id, for_update=True, at_least=Role.OWNER
    )
    if document.status in (DocumentStatus.QUEUED, DocumentStatus.PROCESSING):
        return document  # a job is already on its way
    await repository.requeue_document(session, document_id=document.id)
    await enqueue_ingestion(session, document_id=document.id)
    return await get_document(session, user_id=user_id, document_id=document.id)


async def get_page(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID, number: int
) -> tuple[Document, DocumentPage, int]:
    """A page of a document the user can read, with the number of pages stored (404
    otherwise)."""
    document = await get_document(session, user_id=user_id, document_id=document_id)
    stored = await repository.stored_page_count(
        session, user_id=document.user_id, document_id=document.id
    )
    if stored == 0:
        raise NotFound(PAGE_NOT_STORED)
    page = await repository.page_of(
        session, user_id=document.user_id, document_id=document.id, number=number
    )
    if page is None:
        raise NotFound(PAGE_NOT_FOUND.format(number=number))
    return document, page, stored


async def get_page_image(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    document_id: uuid.UUID,
    number: int,
    originals: Originals,
    max_pixels: int,
) -> bytes:
    """Page ``number`` of an image document as a PNG for the viewer (404 for other kinds)."""
    document = await get_document(session, user_id=user_id, document_id=document_id)
    if document.kind != DocumentKind.IMAGE or document.status != DocumentStatus.READY:
        raise NotFound(NO_PAGE_IMAGE)
    data = await originals.read_all(kind=document.original_storage, document_id=document.id)
    try:
        png = await to_thread.run_sync(
            functools.partial(
                page_png, data, number, max_pixels=max_pixels, max_side=PAGE_IMAGE_MAX_SIDE
            )
        )
    except ImageError as error:
        raise Unprocessable(error.message) from error
    if png is None:
        raise NotFound(PAGE_NOT_FOUND.format(number=number))
    return png


async def find_chunk(session: AsyncSession, *, user_id: uuid.UUID, chunk_id: int) -> Chunk:
    """A passage of a document the user can read, by its id alone (404 otherwise)."""
    chunk = await repository.chunk_by_id(session, chunk_id=chunk_id)
    if chunk is None or not await access.document_roles(
        session, reader_id=user_id, document_ids=[chunk.document_id]
    ):
        raise NotFound(UNKNOWN_PASSAGE)
    return chunk


async def get_chunk(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID, chunk_id: int
) -> Chunk:
    """A passage of a document the user can read (404 for a missing document or passage)."""
    document = await get_document(session, user_id=user_id, document_id=document_id)
    chunk = await repository.chunk_of(
        session, user_id=document.user_id, document_id=document.id, chunk_id=chunk_id
    )
    if chunk is None:
        raise NotFound(PASSAGE_NOT_FOUND)
    return chunk

"""Documents: upload, listing, deletion and (re)indexing requests, always scoped to a user."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound, Unprocessable, UnsupportedMediaType
from app.documents.detect import CONTENT_TYPES, UnsupportedFileType, detect_kind, sanitize_filename
from app.documents.models import Document, DocumentFile, DocumentStatus
from app.search.indexing import remove_document_chunks

INGEST_TASK = "documents:ingest_document"
DOCUMENT_NOT_FOUND = "Document not found."


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def document_lock(document_id: uuid.UUID) -> str:
    return f"document:{document_id}"


async def enqueue_ingestion(session: AsyncSession, *, document_id: uuid.UUID) -> None:
    """Queue the ingestion job in the SAME transaction as the document change (an outbox):
    the job exists exactly when the commit does, and a worker never sees a missing row."""
    await session.execute(
        text(
            "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', :task, 0, :lock, NULL, "
            "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
        ),
        {
            "task": INGEST_TASK,
            "lock": document_lock(document_id),
            "args": json.dumps({"document_id": str(document_id)}),
        },
    )


async def cancel_ingestion(session: AsyncSession, *, document_id: uuid.UUID) -> None:
    """Stop the document's ingestion when the caller's transaction commits: a queued job is
    deleted, and a running one is asked to abort (the worker hears of it at once through
    LISTEN/NOTIFY, or when it polls, and cancels the job: its parse process is killed)."""
    await session.execute(
        text(
            "SELECT procrastinate_cancel_job_v1(id, true, true) FROM procrastinate_jobs "
            "WHERE lock = :lock AND task_name = :task AND status IN ('todo', 'doing')"
        ),
        {"lock": document_lock(document_id), "task": INGEST_TASK},
    )


def validate_upload(upload: Upload) -> tuple[str, str, str]:
    """(safe filename, kind, content type), or a 4xx naming the file."""
    filename = sanitize_filename(upload.filename or "document")
    if not upload.data:
        raise Unprocessable(f"{filename} is empty.")
    try:
        kind = detect_kind(upload.data, filename)
    except UnsupportedFileType as exc:
        raise UnsupportedMediaType(f"{filename}: {exc.message}") from None
    return filename, kind.value, CONTENT_TYPES[kind]


async def create_documents(
    session: AsyncSession, *, user_id: uuid.UUID, uploads: Sequence[Upload]
) -> list[Document]:
    """Store each file and queue it; the same bytes uploaded again return the existing record."""
    validated = [validate_upload(upload) for upload in uploads]
    documents: list[Document] = []
    for upload, (filename, kind, content_type) in zip(uploads, validated, strict=True):
        digest = hashlib.sha256(upload.data).hexdigest()
        inserted = await session.execute(
            pg_insert(Document)
            .values(
                id=uuid.uuid4(),
                user_id=user_id,
                filename=filename,
                content_type=content_type,
                kind=kind,
                size_bytes=len(upload.data),
                sha256=digest,
                status=DocumentStatus.QUEUED.value,
                stage="queued",
            )
            .on_conflict_do_nothing(index_elements=["user_id", "sha256"])
            .returning(Document.id)
        )
        new_id = inserted.scalar_one_or_none()
        if new_id is not None:
            session.add(DocumentFile(document_id=new_id, data=upload.data))
            await session.flush()
            await enqueue_ingestion(session, document_id=new_id)
            document_id = new_id
        else:
            existing = await session.execute(
                select(Document.id).where(Document.user_id == user_id, Document.sha256 == digest)
            )
            document_id = existing.scalar_one()
        documents.append(await get_document(session, user_id=user_id, document_id=document_id))
    return documents


async def list_documents(
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


async def get_document(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID, for_update: bool = False
) -> Document:
    statement = select(Document).where(Document.id == document_id, Document.user_id == user_id)
    if for_update:
        statement = statement.with_for_update()
    result = await session.execute(statement.execution_options(populate_existing=True))
    document = result.scalar_one_or_none()
    if document is None:
        raise NotFound(DOCUMENT_NOT_FOUND)
    return document


async def get_document_file(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID
) -> tuple[Document, bytes]:
    document = await get_document(session, user_id=user_id, document_id=document_id)
    result = await session.execute(
        select(DocumentFile.data).where(DocumentFile.document_id == document.id)
    )
    return document, result.scalar_one()


async def delete_document(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID
) -> None:
    """File, chunks, vectors, postings and the ingestion job go in the caller's single
    transaction; a job already running writes nothing after it (tasks._finish)."""
    document = await get_document(
        session, user_id=user_id, document_id=document_id, for_update=True
    )
    await cancel_ingestion(session, document_id=document.id)
    await remove_document_chunks(session, user_id=user_id, document_id=document.id)
    await session.delete(document)
    await session.flush()


async def request_reindex(
    session: AsyncSession, *, user_id: uuid.UUID, document_id: uuid.UUID
) -> Document:
    document = await get_document(
        session, user_id=user_id, document_id=document_id, for_update=True
    )
    if document.status in (DocumentStatus.QUEUED, DocumentStatus.PROCESSING):
        return document  # a job is already on its way
    await session.execute(
        update(Document)
        .where(Document.id == document.id)
        .values(status=DocumentStatus.QUEUED.value, stage="queued", progress=0, error=None)
    )
    await enqueue_ingestion(session, document_id=document.id)
    return await get_document(session, user_id=user_id, document_id=document.id)

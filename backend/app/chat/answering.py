"""Answering a message: standalone query → retrieval → grounded generation, streamed.

The question and its answer's row ('streaming', empty) are stored before the answer is
written; the answer's text is saved as it grows (every SAVE_EVERY_S, a heartbeat at least
every HEARTBEAT_S), and its end is stored when the stream ends: 'done', or 'failed' with a
reason when the model fails or the process stops it (then marked partial). A regenerated
answer is a new answer to the same question: a version of the same turn.
"""

from __future__ import annotations

import asyncio
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
from app.chat import prompting, repository, service, stream
from app.chat.models import Chat, ChatMessage
from app.chat.schemas import Citation, MessageIn
from app.core.errors import NotFound, is_database_unavailable
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
ANSWER_INTERRUPTED = "The server stopped while writing this answer. Regenerate it to try again."
SAVE_EVERY_S = 0.5
HEARTBEAT_S = 5.0
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


def _cited_sources(prepared: PreparedAnswer, cited: Sequence[int]) -> list[Citation]:
    """The sources an answer cites, numbered as its markers are: the source shown to it as
    ``cited[i]`` is ``[i + 1]`` (see app.ai.citations)."""
    by_number = {c.n: c for c in prepared.citations}
    return [by_number[shown].model_copy(update={"n": n}) for n, shown in enumerate(cited, 1)]


def _answer_citations(
    prepared: PreparedAnswer, answer: str, cited: Sequence[int]
) -> list[Citation]:
    """The cited sources as numbered in the answer, each highlighting what the answer took
    from it: the sentences an extractive answer quoted, or those that best support the
    answer's sentences that carry its marker."""
    passages = {
        c.n: passage for c, passage in zip(prepared.citations, prepared.passages, strict=True)
    }
    statements = [answer[start:end] for start, end in sentence_spans(answer)]
    citations = []
    for citation, shown in zip(_cited_sources(prepared, cited), cited, strict=True):
        n, passage = citation.n, passages[shown]
        if prepared.quotes:
            location = cite(passage, [(q.start, q.end) for q in prepared.quotes if q.n == shown])
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


async def _retrieve(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: uuid.UUID,
    chat: Chat,
    question: str,
    history_rows: Sequence[ChatMessage],
    body: MessageIn | None,
) -> tuple[str, list[Passage]]:
    """What to search for the question (rewritten when it refers back), and the relevant
    passages the user can read now, within the message's scope or else the chat's."""
    history = [(m.role, m.content) for m in history_rows]
    previous_question = next((m.content for m in reversed(history_rows) if m.role == "user"), None)
    llm = get_llm(settings, chat.model)
    search_query = question
    if previous_question and prompting.refers_back(question):
        if llm is not None:
            search_query = await prompting.llm_standalone_query(llm, question, history) or question
        else:
            search_query = prompting.heuristic_standalone_query(question, previous_question)
    asked_for = body.document_ids if body is not None else None
    document_ids = asked_for if asked_for is not None else chat.document_ids
    collection_id = body.collection_id if body is not None else None
    # A collection the message names must be visible (404); the chat's stored one may have
    # been unshared since, and then reads nothing.
    scope = await read_scope(
        session,
        reader_id=user_id,
        collection_id=collection_id or chat.collection_id,
        document_ids=document_ids or None,
        require_collection=collection_id is not None,
    )
    relevant = await _search_relevant(session, settings=settings, scope=scope, query=search_query)
    if not relevant and search_query != question:
        # The rewrite found nothing: the question may not have been a follow-up after all.
        search_query = question
        relevant = await _search_relevant(session, settings=settings, scope=scope, query=question)
    return search_query, relevant


def _retrieved_reference(passage: Passage) -> dict[str, Any]:
    """A retrieved passage as the answer keeps it (its text stays in the document)."""
    return {
        "chunk_id": passage.chunk_id,
        "document_id": str(passage.document_id),
        "filename": passage.filename,
        "page_start": passage.page_start,
        "page_end": passage.page_end,
        "char_start": passage.char_start,
        "char_end": passage.char_end,
        "score": passage.score,
    }


async def _answer_row(
    session: AsyncSession,
    *,
    question: ChatMessage,
    history_rows: Sequence[ChatMessage],
    search_query: str,
    relevant: list[Passage],
    model: str | None,
) -> PreparedAnswer:
    """Store the answer's row ('streaming', empty) under ``question``, to be written by
    ``model`` (an LLM_MODELS id; None: the default)."""
    answer = await service.add_message(
        session,
        user_id=question.user_id,
        chat_id=question.chat_id,
        role="assistant",
        content="",
        parent_id=question.id,
        search_query=search_query,
        status="streaming",
        retrieved=[_retrieved_reference(passage) for passage in relevant],
    )
    prepared = PreparedAnswer(
        user_id=question.user_id,
        chat_id=question.chat_id,
        user_message_id=question.id,
        answer_id=answer.id,
        question=question.content,
        search_query=search_query,
        history=[(m.role, m.content) for m in history_rows],
        passages=relevant,
        model=model,
    )
    prepared.citations = _citations(relevant, search_query)
    return prepared


async def prepare_answer(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: uuid.UUID,
    chat_id: uuid.UUID,
    body: MessageIn,
) -> PreparedAnswer:
    """Store the question (after the conversation as shown, or as a new version of the
    question ``body.replaces``) and its answer's row, and retrieve its sources (404 for
    someone else's chat, or for a collection named in the message that the user cannot
    see)."""
    chat = await service.get_chat(session, user_id=user_id, chat_id=chat_id)
    messages = await service.all_messages(session, user_id=user_id, chat_id=chat_id)
    if body.replaces is not None:
        edited = await service.question_to_edit(
            session, user_id=user_id, chat_id=chat_id, message_id=body.replaces
        )
        parent_id = edited.parent_id
    else:
        shown = service.shown_path(messages)
        parent_id = shown[-1].message.id if shown else None
    history_rows = service.history_of(service.lineage(messages, parent_id))
    question = body.content.strip()
    search_query, relevant = await _retrieve(
        session,
        settings=settings,
        user_id=user_id,
        chat=chat,
        question=question,
        history_rows=history_rows,
        body=body,
    )
    user_message = await service.add_message(
        session,
        user_id=user_id,
        chat_id=chat_id,
        role="user",
        content=question,
        parent_id=parent_id,
        search_query=search_query,
    )
    return await _answer_row(
        session,
        question=user_message,
        history_rows=history_rows,
        search_query=search_query,
        relevant=relevant,
        model=chat.model,
    )


async def prepare_regeneration(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: uuid.UUID,
    chat_id: uuid.UUID,
    message_id: uuid.UUID,
) -> PreparedAnswer:
    """A new answer to the question of answer ``message_id`` (or to question ``message_id``),
    its sources retrieved again within the chat's scope; it becomes the version shown."""
    chat = await service.get_chat(session, user_id=user_id, chat_id=chat_id)
    messages = await service.all_messages(session, user_id=user_id, chat_id=chat_id)
    target = next((m for m in messages if m.id == message_id), None)
    if target is None:
        raise NotFound(service.MESSAGE_NOT_FOUND)
    question_id = target.parent_id if target.role == "assistant" else target.id
    question = next((m for m in messages if m.id == question_id and m.role == "user"), None)
    if question is None:
        raise NotFound(service.MESSAGE_NOT_FOUND)
    await service.show(session, messages=messages, message_id=question.id)
    history_rows = service.history_of(service.lineage(messages, question.parent_id))
    search_query, relevant = await _retrieve(
        session,
        settings=settings,
        user_id=user_id,
        chat=chat,
        question=question.content,
        history_rows=history_rows,
        body=None,
    )
    return await _answer_row(
        session,
        question=question,
        history_rows=history_rows,
        search_query=search_query,
        relevant=relevant,
        model=chat.model,
    )


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
    """Store the end of the answer, waiting and retrying while the database is unavailable or
    its pool is exhausted (up to `timeout_s`); False when it could not be stored."""
    values: dict[str, Any] = {
        "content": content,
        "citations": [c.model_dump(mode="json") for c in citations],
        "extractive": extractive,
        "partial": partial,
        "error": error,
        "status": "failed" if error is not None else "done",
    }
    deadline = time.monotonic() + timeout_s
    delay = STORE_RETRY_FIRST_S
    with anyio.CancelScope(shield=True):  # persist even when the process is stopping
        while True:
            try:
                async with sessionmaker() as session:
                    stored = await repository.finish_answer(
                        session, message_id=prepared.answer_id, values=values
                    )
                    await session.commit()
                if not stored:
                    logger.error("answer_not_stored", extra={"chat_id": str(prepared.chat_id)})
                return stored
            except Exception as exc:
                log_extra = {"chat_id": str(prepared.chat_id), "error": type(exc).__name__}
                if not is_database_unavailable(exc) or time.monotonic() + delay > deadline:
                    logger.error("answer_not_stored", exc_info=exc, extra=log_extra)
                    return False
                logger.warning("answer_store_retry", extra=log_extra)
                await anyio.sleep(delay)
                delay = min(delay * 2, STORE_RETRY_MAX_S)
    return False  # reached only if the shielded scope itself had been cancelled


def _sources_event(prepared: PreparedAnswer, cited: Sequence[int] | None) -> bytes:
    """The sources the answer's markers point to: all those shown to the model (``cited`` is
    None) before it cites any, then, each time it cites a new one, those it has cited so far
    as numbered in its text; each event replaces the previous one (same id)."""
    sources = prepared.citations if cited is None else _cited_sources(prepared, cited)
    return stream.data(
        "sources",
        {
            "sources": [c.model_dump(mode="json") for c in sources],
            "search_query": prepared.search_query,
            "message_id": str(prepared.answer_id),
            "user_message_id": str(prepared.user_message_id),
        },
        part_id="sources",
    )


async def _save_progress(
    sessionmaker: async_sessionmaker[AsyncSession],
    prepared: PreparedAnswer,
    text_parts: list[str],
    *,
    ended: anyio.Event,
    stopped: anyio.Event,
) -> None:
    """Save the answer's text as it grows, and beat while it does not, until ``ended``; set
    ``stopped`` once the answer is no longer wanted (stopped by its user, or its chat
    deleted). It is never cancelled mid-write: a transaction cut off while it holds the
    answer's row could leave the row locked for the final store."""
    saved = ""  # as the row was stored
    saved_at = time.monotonic()
    while True:
        with anyio.move_on_after(SAVE_EVERY_S):
            await ended.wait()
        if ended.is_set():
            return
        content = "".join(text_parts)
        if content == saved and time.monotonic() - saved_at < HEARTBEAT_S:
            continue
        try:
            async with sessionmaker() as session:
                writing = await repository.save_progress(
                    session, message_id=prepared.answer_id, content=content
                )
                await session.commit()
        except Exception as exc:  # the next save tries again; the end is stored with retries
            logger.warning(
                "answer_progress_not_saved",
                extra={"chat_id": str(prepared.chat_id), "error": type(exc).__name__},
            )
            continue
        if not writing:
            stopped.set()
            return
        saved, saved_at = content, time.monotonic()


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
    ended = anyio.Event()
    stopped = anyio.Event()
    saver = asyncio.create_task(
        _save_progress(sessionmaker, prepared, text_parts, ended=ended, stopped=stopped)
    )
    try:
        yield stream.start(str(prepared.answer_id))
        yield _sources_event(prepared, None)
        announced = 0
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
                    if len(citation_filter.cited) > announced:
                        announced = len(citation_filter.cited)
                        yield _sources_event(prepared, citation_filter.cited)
                    yield stream.text_delta(cleaned)
                if budget <= 0 or stopped.is_set():
                    break  # closes the upstream stream
        stopped_early = stopped.is_set()
        tail = citation_filter.flush()[: max(budget, 0)]
        if tail:
            text_parts.append(tail)
            if len(citation_filter.cited) > announced:
                yield _sources_event(prepared, citation_filter.cited)
            yield stream.text_delta(tail)
        yield stream.text_end()
        finished = not stopped_early
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
    except anyio.get_cancelled_exc_class():
        error = ANSWER_INTERRUPTED
        raise
    finally:
        ended.set()
        with anyio.CancelScope(shield=True):
            await asyncio.gather(saver, return_exceptions=True)
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
            "partial": not finished,
        },
    )
    yield stream.finish()


async def _single(text: str) -> AsyncIterator[str]:
    yield text


__all__ = ["PreparedAnswer", "prepare_answer", "prepare_regeneration", "stream_answer"]

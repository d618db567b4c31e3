"""Questions to start a chat about a ready document: written by the language model when one
is configured, else made from the document's headings, its title and the key terms of its
opening text (``app.suggestions.topics``)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.factory import get_llm
from app.ai.llm import LLM, ChatMessage, LLMError
from app.core.settings import Settings
from app.documents.models import Document, DocumentStatus
from app.documents.repository import LibraryFilter, readable_documents
from app.documents.service import get_readable, list_library
from app.suggestions import repository
from app.suggestions.topics import key_terms, stitched, title_of

logger = logging.getLogger(__name__)

MAX_QUESTIONS = 4
# A chat's scope is offered the questions of this many of its ready documents.
SCOPE_DOCUMENTS = 2
OPENING_CHUNKS = 40
OPENING_CHARS = 2000
# More text than the model is sent: a term must be said twice to count.
TERMS_CHARS = 4000
HEADING_CHARS = (3, 80)
# Sections a question about would not help anyone start.
SKIPPED_HEADINGS = frozenset(
    {
        "abstract",
        "acknowledgements",
        "acknowledgments",
        "appendix",
        "bibliography",
        "contents",
        "index",
        "notes",
        "references",
        "table of contents",
    }
)
_NUMBERING = re.compile(r"^\s*(?:(?:chapter|section|part)\s+)?[\dIVXivx]+(?:\.\d+)*[.):]?\s+")
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
SUGGEST_PROMPT = """Write {n} short questions a reader could ask about this document, each \
answerable from its text. One question per line, no numbering, nothing else."""


def _clean_heading(heading: str) -> str | None:
    heading = _NUMBERING.sub("", " ".join(heading.split())).strip(" :.-\u2013\u2014")
    low, high = HEADING_CHARS
    if not low <= len(heading) <= high or heading.lower() in SKIPPED_HEADINGS:
        return None
    return heading


def questions_from_outline(
    chunks: Sequence[tuple[Sequence[str], str]], *, limit: int = MAX_QUESTIONS
) -> list[str]:
    """Questions from the section headings in reading order (the top one, usually the title,
    asks what the document is about; without headings, a first line that reads as a title
    does), topped up with the key terms of its opening text. None when the text has neither
    (a sentence or two): a question about its file's name would help nobody."""
    headings: list[str] = []
    for heading_path, _ in chunks:
        for heading in heading_path:
            cleaned = _clean_heading(heading)
            if cleaned and cleaned.lower() not in {h.lower() for h in headings}:
                headings.append(cleaned)
    opening = stitched((text for _, text in chunks), limit=TERMS_CHARS)
    title = headings[0] if headings else _clean_heading(title_of(opening) or "")
    questions: list[str] = []
    if title:
        questions.append(f"What is “{title}” about?")
    questions += [f"What does the document say about {h}?" for h in headings[1:]]
    if len(questions) < limit:
        asked = [*headings, *([title] if title else [])]
        terms = key_terms(opening, count=limit - len(questions), exclude=asked)
        questions += [f"What does the document say about {term}?" for term in terms]
    return questions[:limit]


async def _llm_questions(
    llm: LLM, filename: str, chunks: Sequence[tuple[Sequence[str], str]]
) -> list[str]:
    outline = "\n".join(dict.fromkeys(" / ".join(path) for path, _ in chunks if path))
    opening = stitched((text for _, text in chunks), limit=OPENING_CHARS)
    messages = [
        ChatMessage("system", SUGGEST_PROMPT.format(n=MAX_QUESTIONS)),
        ChatMessage(
            "user", f"Document: {filename}\n\nSections:\n{outline}\n\nOpening text:\n{opening}"
        ),
    ]
    reply = await llm.complete(messages, max_tokens=200, temperature=0.2)
    lines = (_LIST_MARK.sub("", line).strip().strip('"') for line in reply.splitlines())
    return [line for line in lines if line.endswith("?") and len(line) <= 200][:MAX_QUESTIONS]


async def _questions_of(
    session: AsyncSession, *, settings: Settings, document: Document
) -> tuple[list[str], str]:
    """(questions, source) of a ready document: the kept ones, else made now (and kept)."""
    kept = await repository.stored(session, document_id=document.id)
    if kept is not None:
        return list(kept.questions), kept.source
    chunks = await repository.opening_chunks(session, document_id=document.id, limit=OPENING_CHUNKS)
    filename = document.filename
    llm = get_llm(settings)
    if llm is not None and chunks:
        try:
            questions = await _llm_questions(llm, filename, chunks)
        except LLMError as exc:
            logger.warning("suggestions_llm_failed", extra={"error": exc.message})
            return questions_from_outline(chunks), "headings"
        if questions:
            await repository.store(
                session, document_id=document.id, questions=questions, source="llm"
            )
            return questions, "llm"
    questions = questions_from_outline(chunks)
    await repository.store(session, document_id=document.id, questions=questions, source="headings")
    return questions, "headings"


async def suggested_questions(
    session: AsyncSession, *, settings: Settings, user_id: uuid.UUID, document_id: uuid.UUID
) -> tuple[list[str], str]:
    """(questions, source) for a document the user can read (404 otherwise); none until it
    is ready. Made once per document and kept; when the language model fails, the questions
    from its headings are returned (and not kept, so the model is asked again next time)."""
    readable = await get_readable(session, user_id=user_id, document_id=document_id)
    if readable.document.status != DocumentStatus.READY:
        return [], "none"
    return await _questions_of(session, settings=settings, document=readable.document)


def interleave(per_document: Sequence[Sequence[str]], *, limit: int = MAX_QUESTIONS) -> list[str]:
    """The documents' questions taken in turns (each document gets a say), without repeats."""
    mixed: list[str] = []
    for index in range(max((len(questions) for questions in per_document), default=0)):
        for questions in per_document:
            if index < len(questions) and questions[index] not in mixed:
                mixed.append(questions[index])
    return mixed[:limit]


@dataclass(frozen=True)
class ScopeSuggestions:
    questions: list[str]
    # The ready documents the questions were made for; empty: nothing in the scope is ready.
    document_ids: list[uuid.UUID]


async def _ready_in_scope(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    collection_id: uuid.UUID | None,
    document_ids: Sequence[uuid.UUID],
) -> list[Document]:
    """The first SCOPE_DOCUMENTS ready documents the user can read among ``document_ids`` (in
    their order), or the newest ones of the collection (404 if the user cannot see it), or of
    everything the user can read."""
    if document_ids:
        wanted = list(dict.fromkeys(document_ids))
        found = {
            readable.document.id: readable.document
            for readable in await readable_documents(
                session, reader_id=user_id, document_ids=wanted
            )
        }
        ready = [found[i] for i in wanted if i in found and found[i].status == DocumentStatus.READY]
        return ready[:SCOPE_DOCUMENTS]
    page = await list_library(
        session,
        user_id=user_id,
        wanted=LibraryFilter(collection_id=collection_id, statuses=(DocumentStatus.READY.value,)),
        limit=SCOPE_DOCUMENTS,
    )
    return [readable.document for readable in page.documents]


async def scope_suggestions(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: uuid.UUID,
    collection_id: uuid.UUID | None = None,
    document_ids: Sequence[uuid.UUID] = (),
) -> ScopeSuggestions:
    """Questions to start a chat with a scope: chosen documents, a collection, or everything
    the user can read (neither): those of its first (or newest) ready documents, in turns."""
    documents = await _ready_in_scope(
        session, user_id=user_id, collection_id=collection_id, document_ids=document_ids
    )
    per_document = [
        (await _questions_of(session, settings=settings, document=document))[0]
        for document in documents
    ]
    return ScopeSuggestions(
        questions=interleave(per_document), document_ids=[document.id for document in documents]
    )

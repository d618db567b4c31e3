"""Chats and messages, scoped to their owner; a chat's sources are what its owner can read
(app.sharing.access)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from app.chat import repository
from app.chat.models import Chat, ChatMessage, MessageFeedback
from app.chat.queries import ANGLE_STAND_INS, MATCH_END, MATCH_START
from app.chat.repository import UNTITLED, ChatHit
from app.core.errors import BadRequest, NotFound, Unprocessable
from app.core.settings import Settings
from app.sharing import access
from app.sharing.models import Role

CHAT_NOT_FOUND = "Chat not found."
MESSAGE_NOT_FOUND = "Message not found."
NOT_A_QUESTION = "Only a question can be edited and sent again."
ONLY_ANSWERS_RATED = "Only answers can be rated, not questions."
UNKNOWN_MODEL = "There is no model {model!r}: choose one that GET /api/v1/models lists."
ELLIPSIS = "…"
TITLE_CHARS = 60
HISTORY_MESSAGES = 6
# An answer whose writer has not saved (nor sent a heartbeat) for this long is failed: the
# process writing it went away. The writer beats every few seconds (app.chat.answering).
STALLED_AFTER = timedelta(seconds=60)
ANSWER_STALLED = "The server stopped while writing this answer. Regenerate it to try again."
# A citation of a deleted document, or of one no longer shared with the reader, keeps its
# number and says so; nothing of the document (name, text) outlives the delete or the share.
DELETED_SOURCE = {
    "source_deleted": True,
    "filename": "",
    "snippet": "",
    "snippet_highlights": [],
    "highlights": [],
}


@dataclass(frozen=True)
class Snippet:
    message_id: uuid.UUID | None
    role: str
    text: str
    highlights: list[tuple[int, int]]


def _require_model(settings: Settings | None, model: str | None) -> None:
    if model is None:
        return
    if settings is None or settings.llm_model_config(model) is None:
        raise Unprocessable(UNKNOWN_MODEL.format(model=model))


async def create_chat(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    title: str | None,
    document_ids: Sequence[uuid.UUID] | None,
    collection_id: uuid.UUID | None = None,
    model: str | None = None,
    settings: Settings | None = None,
) -> Chat:
    """A chat that answers from ``collection_id`` (404 if the user cannot see it) and/or
    ``document_ids``, or from everything the user can read; with ``model`` (an LLM_MODELS
    id of ``settings``, 422 otherwise) answered by that model."""
    _require_model(settings, model)
    if collection_id is not None:
        await access.require_collection(
            session, reader_id=user_id, collection_id=collection_id, at_least=Role.VIEWER
        )
    return await repository.add_chat(
        session,
        user_id=user_id,
        title=(title or "").strip() or UNTITLED,
        document_ids=list(document_ids) if document_ids else None,
        collection_id=collection_id,
        model=model,
    )


async def list_chats(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    archived: bool | None = False,
    limit: int,
    offset: int,
) -> Sequence[Chat]:
    """Active chats (only archived ones with ``archived``, all with None), pinned first,
    then by latest activity."""
    return await repository.chats_of(
        session, user_id=user_id, archived=archived, limit=limit, offset=offset
    )


async def search_chats(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    q: str,
    archived: bool = False,
    limit: int,
    offset: int,
) -> list[tuple[Chat, Snippet]]:
    """The user's chats whose title, questions or answers match ``q`` (web search syntax),
    best match first, each with its best match highlighted."""
    hits = await repository.search_chats(
        session, user_id=user_id, q=q, archived=archived, limit=limit, offset=offset
    )
    chats = await repository.chats_by_id(
        session, user_id=user_id, chat_ids=[hit.chat_id for hit in hits]
    )
    return [(chats[hit.chat_id], _snippet(hit)) for hit in hits if hit.chat_id in chats]


def _snippet(hit: ChatHit) -> Snippet:
    """The headline as plain text with the ranges ts_headline marked, and an ellipsis where
    it starts or ends inside the text."""
    parts: list[str] = []
    highlights: list[tuple[int, int]] = []
    length = 0
    start: int | None = None
    for char in hit.headline:
        if char == MATCH_START:
            start = length
        elif char == MATCH_END:
            if start is not None and length > start:
                highlights.append((start, length))
            start = None
        else:
            parts.append(ANGLE_STAND_INS.get(char, char))
            length += 1
    text = "".join(parts)
    body = "".join(c for c in hit.body if c not in (MATCH_START, MATCH_END, *ANGLE_STAND_INS))
    if text.strip() and not body.startswith(text):
        text = ELLIPSIS + text
        highlights = [(begin + 1, end + 1) for begin, end in highlights]
    if text.strip() and not body.endswith(text.lstrip(ELLIPSIS)):
        text += ELLIPSIS
    return Snippet(message_id=hit.message_id, role=hit.role, text=text, highlights=highlights)


async def get_chat(session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID) -> Chat:
    chat = await repository.chat_of(session, user_id=user_id, chat_id=chat_id)
    if chat is None:
        raise NotFound(CHAT_NOT_FOUND)
    return chat


async def update_chat(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    chat_id: uuid.UUID,
    changes: dict[str, Any],
    settings: Settings | None = None,
) -> Chat:
    """Apply ``changes`` (ChatUpdate's fields that were sent): title, scope, model, and
    pinned / archived (each stamps or clears its time)."""
    chat = await get_chat(session, user_id=user_id, chat_id=chat_id)
    if changes.get("title"):
        chat.title = changes["title"].strip()
    if "model" in changes:
        _require_model(settings, changes["model"])
        chat.model = changes["model"]
    now = datetime.now(UTC)
    if changes.keys() <= {"pinned", "archived"}:
        # Pinning and archiving are not activity: the chat keeps its place by last activity.
        flag_modified(chat, "updated_at")
    if changes.get("pinned") is not None:
        chat.pinned_at = (chat.pinned_at or now) if changes["pinned"] else None
    if changes.get("archived") is not None:
        chat.archived_at = (chat.archived_at or now) if changes["archived"] else None
    if "document_ids" in changes:
        ids = changes["document_ids"]
        chat.document_ids = list(ids) if ids else None
    if "collection_id" in changes:
        collection_id = changes["collection_id"]
        if collection_id is not None:
            await access.require_collection(
                session, reader_id=user_id, collection_id=collection_id, at_least=Role.VIEWER
            )
        chat.collection_id = collection_id
    await session.flush()
    await session.refresh(chat)
    return chat


async def delete_chat(session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID) -> None:
    chat = await get_chat(session, user_id=user_id, chat_id=chat_id)
    await repository.delete_chat(session, user_id=user_id, chat_id=chat.id)


@dataclass(frozen=True)
class ShownMessage:
    """A message of the conversation as shown, with the versions of its turn (oldest first,
    itself included)."""

    message: ChatMessage
    version_ids: list[uuid.UUID]


def _children(messages: Sequence[ChatMessage]) -> dict[uuid.UUID | None, list[ChatMessage]]:
    children: dict[uuid.UUID | None, list[ChatMessage]] = defaultdict(list)
    for message in sorted(messages, key=lambda m: (m.created_at, m.id)):
        children[message.parent_id].append(message)
    return children


def shown_path(messages: Sequence[ChatMessage]) -> list[ShownMessage]:
    """The conversation as shown: from the first question down, the version of each turn
    selected last."""
    children = _children(messages)
    path: list[ShownMessage] = []
    parent: uuid.UUID | None = None
    while (versions := children.get(parent)) and len(path) < len(messages):
        chosen = max(versions, key=lambda m: (m.selected_at, m.created_at))
        path.append(ShownMessage(chosen, [m.id for m in versions]))
        parent = chosen.id
    return path


def every_version(messages: Sequence[ChatMessage]) -> list[ShownMessage]:
    """Every message with the versions of its turn, oldest first."""
    children = _children(messages)
    return [
        ShownMessage(m, [v.id for v in children[m.parent_id]])
        for m in sorted(messages, key=lambda m: (m.created_at, m.id))
    ]


def lineage(messages: Sequence[ChatMessage], last_id: uuid.UUID | None) -> list[ChatMessage]:
    """The messages leading to ``last_id`` (itself included), oldest first."""
    by_id = {m.id: m for m in messages}
    chain: list[ChatMessage] = []
    current = by_id.get(last_id) if last_id is not None else None
    while current is not None and len(chain) < len(by_id):
        chain.append(current)
        current = by_id.get(current.parent_id) if current.parent_id is not None else None
    return list(reversed(chain))


def history_of(chain: Sequence[ChatMessage]) -> list[ChatMessage]:
    """What a new answer is given as the conversation so far: the last few messages."""
    return [m for m in chain if m.content][-HISTORY_MESSAGES:]


async def all_messages(
    session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID
) -> list[ChatMessage]:
    """Every message of the chat, every version, oldest first; answers whose writer went
    away fail first (no answer stays 'being written' forever). Citations of documents
    deleted since, or no longer shared with the user, say so and keep nothing of the
    passage (set on the loaded objects only: reading never rewrites a stored answer)."""
    await repository.fail_stalled_answers(
        session,
        user_id=user_id,
        chat_id=chat_id,
        stalled_after=STALLED_AFTER,
        reason=ANSWER_STALLED,
    )
    messages = await repository.messages_of(session, user_id=user_id, chat_id=chat_id)
    cited = {c["document_id"] for m in messages for c in m.citations}
    if cited:
        readable = await access.document_roles(
            session, reader_id=user_id, document_ids=[uuid.UUID(d) for d in cited]
        )
        existing = {str(document_id) for document_id in readable}
        for message in messages:
            citations = [
                c if c["document_id"] in existing else {**c, **DELETED_SOURCE}
                for c in message.citations
            ]
            set_committed_value(message, "citations", citations)
    return messages


def title_of_question(question: str) -> str:
    """A chat's title from its first question: whole words, with an ellipsis when cut."""
    text = " ".join(question.split())
    if len(text) <= TITLE_CHARS:
        return text
    cut = text[: TITLE_CHARS - 1]
    space = cut.rfind(" ")
    if space > TITLE_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:!?-") + ELLIPSIS


async def list_messages(
    session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID
) -> list[ShownMessage]:
    """The conversation as shown (see `shown_path`)."""
    return shown_path(await all_messages(session, user_id=user_id, chat_id=chat_id))


async def get_message(
    session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID, message_id: uuid.UUID
) -> ShownMessage:
    messages = await all_messages(session, user_id=user_id, chat_id=chat_id)
    message = next((m for m in messages if m.id == message_id), None)
    if message is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    versions = _children(messages)[message.parent_id]
    return ShownMessage(message, [m.id for m in versions])


async def select_version(
    session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID, message_id: uuid.UUID
) -> list[ShownMessage]:
    """Show ``message_id`` as its turn's version (the turns after it show the versions
    selected last under it); the conversation as now shown."""
    await get_chat(session, user_id=user_id, chat_id=chat_id)
    message = await repository.message_of(
        session, user_id=user_id, chat_id=chat_id, message_id=message_id
    )
    if message is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    await show(
        session,
        messages=await repository.messages_of(session, user_id=user_id, chat_id=chat_id),
        message_id=message.id,
    )
    return await list_messages(session, user_id=user_id, chat_id=chat_id)


async def show(
    session: AsyncSession, *, messages: Sequence[ChatMessage], message_id: uuid.UUID
) -> None:
    """Select ``message_id`` and the versions leading to it, so the conversation shows it."""
    for message in lineage(messages, message_id):
        await repository.select_message(session, message=message)


async def stop_answer(
    session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID, message_id: uuid.UUID
) -> None:
    """Stop an answer being written (a no-op once it is done); the writer, whichever
    process runs it, ends it within a moment and keeps what it wrote."""
    await get_chat(session, user_id=user_id, chat_id=chat_id)
    if (
        await repository.message_of(
            session, user_id=user_id, chat_id=chat_id, message_id=message_id
        )
        is None
    ):
        raise NotFound(MESSAGE_NOT_FOUND)
    await repository.stop_answer(session, user_id=user_id, message_id=message_id)


async def question_to_edit(
    session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID, message_id: uuid.UUID
) -> ChatMessage:
    message = await repository.message_of(
        session, user_id=user_id, chat_id=chat_id, message_id=message_id
    )
    if message is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    if message.role != "user":
        raise BadRequest(NOT_A_QUESTION)
    return message


async def add_message(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    chat_id: uuid.UUID,
    role: str,
    content: str,
    message_id: uuid.UUID | None = None,
    **fields: Any,
) -> ChatMessage:
    message = ChatMessage(
        id=message_id or uuid.uuid4(),
        chat_id=chat_id,
        user_id=user_id,
        role=role,
        content=content,
        **fields,
    )
    # The first question names an untitled chat.
    title = (title_of_question(content) or UNTITLED) if role == "user" else None
    await repository.add_message(session, message, title=title)
    return message


async def _answer(
    session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID, message_id: uuid.UUID
) -> ChatMessage:
    await get_chat(session, user_id=user_id, chat_id=chat_id)
    message = await repository.message_of(
        session, user_id=user_id, chat_id=chat_id, message_id=message_id
    )
    if message is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    if message.role != "assistant":
        raise BadRequest(ONLY_ANSWERS_RATED)
    return message


async def _passages_as_they_are(
    session: AsyncSession, *, user_id: uuid.UUID, citations: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The answer's sources (its citations, or the passages it retrieved) with their full
    text now: what the rating is about. A source the user can no longer read keeps its number
    and says so, nothing else."""
    if not citations:
        return []
    document_ids = {uuid.UUID(c["document_id"]) for c in citations}
    readable = set(
        await access.document_roles(session, reader_id=user_id, document_ids=list(document_ids))
    )
    texts = await repository.chunk_texts(
        session,
        chunk_ids=[c["chunk_id"] for c in citations if uuid.UUID(c["document_id"]) in readable],
        document_ids=list(readable),
    )
    passages = []
    for citation in citations:
        if uuid.UUID(citation["document_id"]) not in readable:
            passages.append({key: citation[key] for key in ("n",) if key in citation})
            passages[-1]["source_deleted"] = True
            continue
        text, heading_path = texts.get(citation["chunk_id"], (None, []))
        passages.append(
            {key: citation[key] for key in _PASSAGE_FIELDS if key in citation}
            | {"text": text, "heading_path": heading_path}
        )
    return passages


_PASSAGE_FIELDS = (
    "n",
    "chunk_id",
    "document_id",
    "filename",
    "page_start",
    "page_end",
    "char_start",
    "char_end",
    "score",
    "snippet",
)


async def set_feedback(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    chat_id: uuid.UUID,
    message_id: uuid.UUID,
    rating: int,
    comment: str | None,
) -> MessageFeedback:
    """Rate an answer of the user's chat (404 for another's chat or message, 400 for a
    question), keeping what it was made of: question, search, answer, passages, scope."""
    answer = await _answer(session, user_id=user_id, chat_id=chat_id, message_id=message_id)
    chat = await get_chat(session, user_id=user_id, chat_id=chat_id)
    question = (
        await repository.message_of(
            session, user_id=user_id, chat_id=chat_id, message_id=answer.parent_id
        )
        if answer.parent_id is not None
        else None
    )
    passages = await _passages_as_they_are(session, user_id=user_id, citations=answer.citations)
    return await repository.upsert_feedback(
        session,
        {
            "id": uuid.uuid4(),
            "message_id": answer.id,
            "chat_id": chat.id,
            "user_id": user_id,
            "rating": rating,
            "comment": (comment or "").strip() or None,
            "question": question.content if question else "",
            "search_query": answer.search_query,
            "answer": answer.content,
            "model": chat.model,
            "scope": {
                "document_ids": [str(d) for d in chat.document_ids or []] or None,
                "collection_id": str(chat.collection_id) if chat.collection_id else None,
            },
            "passages": passages,
            "retrieved": (
                None
                if answer.retrieved is None
                else await _passages_as_they_are(
                    session, user_id=user_id, citations=answer.retrieved
                )
            ),
        },
    )


async def clear_feedback(
    session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID, message_id: uuid.UUID
) -> None:
    answer = await _answer(session, user_id=user_id, chat_id=chat_id, message_id=message_id)
    await repository.delete_feedback(session, user_id=user_id, message_id=answer.id)

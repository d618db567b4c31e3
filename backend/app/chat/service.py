"""Chats and messages, scoped to their owner; a chat's sources are what its owner can read
(app.sharing.access)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.chat import repository
from app.chat.models import Chat, ChatMessage
from app.chat.repository import UNTITLED
from app.core.errors import BadRequest, NotFound
from app.sharing import access
from app.sharing.models import Role

CHAT_NOT_FOUND = "Chat not found."
MESSAGE_NOT_FOUND = "Message not found."
NOT_A_QUESTION = "Only a question can be edited and sent again."
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


async def create_chat(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    title: str | None,
    document_ids: Sequence[uuid.UUID] | None,
    collection_id: uuid.UUID | None = None,
) -> Chat:
    """A chat that answers from ``collection_id`` (404 if the user cannot see it) and/or
    ``document_ids``, or from everything the user can read."""
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
    )


async def list_chats(
    session: AsyncSession, *, user_id: uuid.UUID, limit: int, offset: int
) -> Sequence[Chat]:
    return await repository.chats_of(session, user_id=user_id, limit=limit, offset=offset)


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
) -> Chat:
    chat = await get_chat(session, user_id=user_id, chat_id=chat_id)
    if changes.get("title"):
        chat.title = changes["title"].strip()
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
    title = (
        (content.strip().replace("\n", " ")[:TITLE_CHARS] or UNTITLED) if role == "user" else None
    )
    await repository.add_message(session, message, title=title)
    return message

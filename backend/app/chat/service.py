"""Chats and messages, scoped to their owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.chat import repository
from app.chat.models import Chat, ChatMessage
from app.chat.repository import UNTITLED
from app.core.errors import NotFound
from app.documents import repository as documents

CHAT_NOT_FOUND = "Chat not found."
TITLE_CHARS = 60
HISTORY_MESSAGES = 6
# A citation of a deleted document keeps its number and says so; nothing of the document
# (name, text) outlives the delete.
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
) -> Chat:
    return await repository.add_chat(
        session,
        user_id=user_id,
        title=(title or "").strip() or UNTITLED,
        document_ids=list(document_ids) if document_ids else None,
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
    await session.flush()
    await session.refresh(chat)
    return chat


async def delete_chat(session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID) -> None:
    chat = await get_chat(session, user_id=user_id, chat_id=chat_id)
    await repository.delete_chat(session, user_id=user_id, chat_id=chat.id)


async def list_messages(
    session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID
) -> list[ChatMessage]:
    """Messages oldest first. Citations of documents deleted since say so and keep nothing
    of the passage (set on the loaded objects only: reading never rewrites a stored answer)."""
    messages = await repository.messages_of(session, user_id=user_id, chat_id=chat_id)
    cited = {c["document_id"] for m in messages for c in m.citations}
    if cited:
        existing = {
            str(doc_id)
            for doc_id in await documents.existing_document_ids(
                session, user_id=user_id, document_ids=[uuid.UUID(d) for d in cited]
            )
        }
        for message in messages:
            citations = [
                c if c["document_id"] in existing else {**c, **DELETED_SOURCE}
                for c in message.citations
            ]
            set_committed_value(message, "citations", citations)
    return messages


async def recent_history(
    session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID
) -> list[ChatMessage]:
    return await repository.messages_of(
        session, user_id=user_id, chat_id=chat_id, newest=HISTORY_MESSAGES
    )


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

"""The SQL of chats and their messages, always narrowed to the chat's owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.chat.models import Chat, ChatMessage

UNTITLED = "New chat"


async def add_chat(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    title: str,
    document_ids: list[uuid.UUID] | None,
) -> Chat:
    chat = Chat(user_id=user_id, title=title, document_ids=document_ids)
    session.add(chat)
    await session.flush()
    await session.refresh(chat)
    return chat


async def chats_of(
    session: AsyncSession, *, user_id: uuid.UUID, limit: int, offset: int
) -> Sequence[Chat]:
    result = await session.execute(
        select(Chat)
        .where(Chat.user_id == user_id)
        .order_by(Chat.updated_at.desc(), Chat.id)
        .limit(limit)
        .offset(offset)
    )
    return result.scalars().all()


async def chat_of(session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID) -> Chat | None:
    result = await session.execute(select(Chat).where(Chat.id == chat_id, Chat.user_id == user_id))
    return result.scalar_one_or_none()


async def delete_chat(session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID) -> None:
    await session.execute(delete(Chat).where(Chat.id == chat_id, Chat.user_id == user_id))


async def messages_of(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    chat_id: uuid.UUID,
    newest: int | None = None,
) -> list[ChatMessage]:
    """Oldest first; with `newest`, only that many of the latest."""
    statement = select(ChatMessage).where(
        ChatMessage.chat_id == chat_id, ChatMessage.user_id == user_id
    )
    if newest is None:
        statement = statement.order_by(ChatMessage.created_at, ChatMessage.id)
        return list((await session.execute(statement)).scalars().all())
    statement = statement.order_by(ChatMessage.created_at.desc(), ChatMessage.id.desc())
    rows = (await session.execute(statement.limit(newest))).scalars().all()
    return list(reversed(rows))


async def add_message(session: AsyncSession, message: ChatMessage, *, title: str | None) -> None:
    """Store the message and touch its chat; `title` names the chat if it is still untitled."""
    session.add(message)
    values: dict[str, Any] = {"updated_at": func.now()}
    if title is not None:
        values["title"] = func.coalesce(
            select(Chat.title)
            .where(Chat.id == message.chat_id, Chat.title != UNTITLED)
            .scalar_subquery(),
            title,
        )
    await session.execute(
        update(Chat)
        .where(Chat.id == message.chat_id, Chat.user_id == message.user_id)
        .values(**values)
    )
    await session.flush()

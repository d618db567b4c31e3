"""The SQL of chats and their messages, always narrowed to the chat's owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from app.chat.models import Chat, ChatMessage

UNTITLED = "New chat"


async def add_chat(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    title: str,
    document_ids: list[uuid.UUID] | None,
    collection_id: uuid.UUID | None,
) -> Chat:
    chat = Chat(
        user_id=user_id, title=title, document_ids=document_ids, collection_id=collection_id
    )
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
    session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID
) -> list[ChatMessage]:
    """Every message of the chat (every version), oldest first."""
    statement = (
        select(ChatMessage)
        .where(ChatMessage.chat_id == chat_id, ChatMessage.user_id == user_id)
        .order_by(ChatMessage.created_at, ChatMessage.id)
    )
    return list((await session.execute(statement)).scalars().all())


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


async def message_of(
    session: AsyncSession, *, user_id: uuid.UUID, chat_id: uuid.UUID, message_id: uuid.UUID
) -> ChatMessage | None:
    result = await session.execute(
        select(ChatMessage).where(
            ChatMessage.id == message_id,
            ChatMessage.chat_id == chat_id,
            ChatMessage.user_id == user_id,
        )
    )
    return result.scalar_one_or_none()


async def select_message(session: AsyncSession, *, message: ChatMessage) -> None:
    """Make ``message`` the version shown of its turn."""
    await session.execute(
        update(ChatMessage)
        .where(ChatMessage.id == message.id, ChatMessage.user_id == message.user_id)
        .values(selected_at=func.clock_timestamp())
    )
    await session.refresh(message, ["selected_at"])


async def _updated_rows(session: AsyncSession, statement: Any) -> int:
    result: CursorResult[Any] = await session.execute(statement)  # type: ignore[assignment]
    return int(result.rowcount)


async def save_progress(session: AsyncSession, *, message_id: uuid.UUID, content: str) -> bool:
    """The text of an answer being written, and the writer's heartbeat; False when the answer
    is no longer being written (stopped, or its chat deleted)."""
    return (
        await _updated_rows(
            session,
            update(ChatMessage)
            .where(ChatMessage.id == message_id, ChatMessage.status == "streaming")
            .values(content=content, updated_at=func.clock_timestamp()),
        )
        == 1
    )


async def finish_answer(
    session: AsyncSession, *, message_id: uuid.UUID, values: dict[str, Any]
) -> bool:
    """Store the end of an answer (`values` has its status); False when it no longer exists."""
    return (
        await _updated_rows(
            session,
            update(ChatMessage)
            .where(ChatMessage.id == message_id)
            .values(**values, updated_at=func.clock_timestamp()),
        )
        == 1
    )


async def stop_answer(session: AsyncSession, *, user_id: uuid.UUID, message_id: uuid.UUID) -> bool:
    """Mark an answer being written as stopped (its writer sees it and ends it)."""
    return (
        await _updated_rows(
            session,
            update(ChatMessage)
            .where(
                ChatMessage.id == message_id,
                ChatMessage.user_id == user_id,
                ChatMessage.status == "streaming",
            )
            .values(status="done", partial=True, updated_at=func.clock_timestamp()),
        )
        == 1
    )


async def fail_stalled_answers(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    chat_id: uuid.UUID,
    stalled_after: timedelta,
    reason: str,
) -> None:
    """Answers still 'streaming' whose writer stopped beating (a crashed process) fail."""
    await session.execute(
        update(ChatMessage)
        .where(
            ChatMessage.chat_id == chat_id,
            ChatMessage.user_id == user_id,
            ChatMessage.status == "streaming",
            ChatMessage.updated_at < func.clock_timestamp() - stalled_after,
        )
        .values(status="failed", partial=True, error=reason, updated_at=func.clock_timestamp())
    )

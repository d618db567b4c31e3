"""The SQL of chats and their messages, always narrowed to the chat's owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.chat import queries
from app.chat.models import Chat, ChatMessage, MessageFeedback
from app.documents.models import Chunk

UNTITLED = "New chat"


@dataclass(frozen=True)
class ChatHit:
    chat_id: uuid.UUID
    message_id: uuid.UUID | None
    role: str
    headline: str
    body: str


async def add_chat(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    title: str,
    document_ids: list[uuid.UUID] | None,
    collection_id: uuid.UUID | None,
    model: str | None = None,
) -> Chat:
    chat = Chat(
        user_id=user_id,
        title=title,
        document_ids=document_ids,
        collection_id=collection_id,
        model=model,
    )
    session.add(chat)
    await session.flush()
    await session.refresh(chat)
    return chat


async def chats_of(
    session: AsyncSession, *, user_id: uuid.UUID, archived: bool | None, limit: int, offset: int
) -> Sequence[Chat]:
    """Pinned chats first (last pinned on top), then by latest activity; only archived ones
    (``archived``), only the others (not ``archived``), or all (None)."""
    statement = select(Chat).where(Chat.user_id == user_id)
    if archived is not None:
        statement = statement.where(
            Chat.archived_at.is_not(None) if archived else Chat.archived_at.is_(None)
        )
    result = await session.execute(
        statement.order_by(
            Chat.pinned_at.is_(None), Chat.pinned_at.desc(), Chat.updated_at.desc(), Chat.id
        )
        .limit(limit)
        .offset(offset)
    )
    return result.scalars().all()


async def search_chats(
    session: AsyncSession, *, user_id: uuid.UUID, q: str, archived: bool, limit: int, offset: int
) -> list[ChatHit]:
    rows = await session.execute(
        queries.search_chats(),
        {"user_id": user_id, "q": q, "archived": archived, "limit": limit, "offset": offset},
    )
    return [
        ChatHit(
            chat_id=row.chat_id,
            message_id=row.message_id,
            role=row.role,
            headline=row.headline,
            body=row.body,
        )
        for row in rows
    ]


async def chats_by_id(
    session: AsyncSession, *, user_id: uuid.UUID, chat_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Chat]:
    result = await session.execute(
        select(Chat).where(Chat.user_id == user_id, Chat.id.in_(chat_ids))
    )
    return {chat.id: chat for chat in result.scalars()}


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


async def chunk_texts(
    session: AsyncSession, *, chunk_ids: Sequence[int], document_ids: Sequence[uuid.UUID]
) -> dict[int, tuple[str, list[str]]]:
    """Text and heading path of the chunks that still exist in these documents."""
    if not chunk_ids:
        return {}
    result = await session.execute(
        select(Chunk.id, Chunk.text, Chunk.heading_path).where(
            Chunk.id.in_(chunk_ids), Chunk.document_id.in_(document_ids)
        )
    )
    return {row.id: (row.text, list(row.heading_path)) for row in result}


async def upsert_feedback(session: AsyncSession, values: dict[str, Any]) -> MessageFeedback:
    """One rating per (message, user): a second rating replaces the first, snapshot included."""
    statement = insert(MessageFeedback).values(**values)
    changed = {key: statement.excluded[key] for key in values if key not in ("id", "message_id")}
    upsert = statement.on_conflict_do_update(
        constraint="uq_message_feedback_message_id_user_id",
        set_={**changed, "updated_at": func.now()},
    ).returning(MessageFeedback)
    result = await session.execute(upsert, execution_options={"populate_existing": True})
    feedback: MessageFeedback = result.scalar_one()
    await session.flush()
    return feedback


async def delete_feedback(
    session: AsyncSession, *, user_id: uuid.UUID, message_id: uuid.UUID
) -> None:
    await session.execute(
        delete(MessageFeedback).where(
            MessageFeedback.message_id == message_id, MessageFeedback.user_id == user_id
        )
    )


async def ratings(
    session: AsyncSession,
    *,
    rating: int,
    user_id: uuid.UUID | None = None,
    since: datetime | None = None,
) -> list[tuple[MessageFeedback, str]]:
    """Ratings of every user (or one), oldest first, with the rater's email: for an operator
    (`docchat eval feedback`), never for a request."""
    statement = (
        select(MessageFeedback, User.email)
        .join(User, User.id == MessageFeedback.user_id)
        .where(MessageFeedback.rating == rating)
        .order_by(MessageFeedback.updated_at, MessageFeedback.id)
    )
    if user_id is not None:
        statement = statement.where(MessageFeedback.user_id == user_id)
    if since is not None:
        statement = statement.where(MessageFeedback.updated_at >= since)
    return [(row[0], row[1]) for row in (await session.execute(statement)).all()]

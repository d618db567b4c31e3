"""The admin console's queries over accounts and their usage (counts only, never content)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import LateralFromClause, ScalarSelect

from app.auth.models import Role, User
from app.chat.models import Chat, ChatMessage
from app.documents.models import Document, UserCorpusStats

# Any constant, distinct from auth's first-account lock.
ADMINS_LOCK = 0x646F6363_61646D6E


@dataclass(frozen=True)
class UserUsage:
    documents: int
    storage_bytes: int
    chunks: int
    messages: int


def _usage_columns() -> tuple[LateralFromClause, LateralFromClause, ScalarSelect[Any]]:
    documents = (
        select(
            func.count().label("documents"),
            func.coalesce(func.sum(Document.size_bytes), 0).label("storage_bytes"),
        )
        .where(Document.user_id == User.id)
        .lateral("documents")
    )
    # Questions the user asked (their chats' user messages), through the chats index.
    messages = (
        select(func.count().label("messages"))
        .select_from(ChatMessage)
        .join(Chat, Chat.id == ChatMessage.chat_id)
        .where(Chat.user_id == User.id, ChatMessage.role == "user")
        .lateral("messages")
    )
    chunks = (
        select(UserCorpusStats.chunk_count)
        .where(UserCorpusStats.user_id == User.id)
        .scalar_subquery()
    )
    return documents, messages, chunks


async def list_users_with_usage(
    session: AsyncSession, *, query: str | None, limit: int, offset: int
) -> list[tuple[User, UserUsage]]:
    """Oldest account first; `query` matches part of the email or the name."""
    documents, messages, chunks = _usage_columns()
    statement = (
        select(
            User,
            documents.c.documents,
            documents.c.storage_bytes,
            func.coalesce(chunks, 0),
            messages.c.messages,
        )
        .select_from(User)
        .join(documents, true())
        .join(messages, true())
        .order_by(User.created_at, User.id)
        .limit(limit)
        .offset(offset)
    )
    if query:
        statement = statement.where(
            or_(
                User.email.icontains(query, autoescape=True),
                User.full_name.icontains(query, autoescape=True),
            )
        )
    rows = (await session.execute(statement)).all()
    return [
        (user, UserUsage(int(n_docs), int(n_bytes), int(n_chunks), int(n_messages)))
        for user, n_docs, n_bytes, n_chunks, n_messages in rows
    ]


async def usage_of_user(session: AsyncSession, *, user_id: uuid.UUID) -> UserUsage:
    documents, messages, chunks = _usage_columns()
    row = (
        await session.execute(
            select(
                documents.c.documents,
                documents.c.storage_bytes,
                func.coalesce(chunks, 0),
                messages.c.messages,
            )
            .select_from(User)
            .join(documents, true())
            .join(messages, true())
            .where(User.id == user_id)
        )
    ).one()
    return UserUsage(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


async def get_user_for_update(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    result = await session.execute(
        select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def active_admins_locked(session: AsyncSession) -> Sequence[uuid.UUID]:
    """The active admins' ids, read after taking a lock held until the transaction ends:
    every change that can remove an admin reads this first, so two admins demoting each
    other (or themselves) at once are decided one after the other, without a deadlock."""
    await session.execute(select(func.pg_advisory_xact_lock(ADMINS_LOCK)))
    result = await session.execute(
        select(User.id).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
    )
    return result.scalars().all()

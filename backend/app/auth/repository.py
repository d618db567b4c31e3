"""The SQL of accounts and sessions: users and refresh-token families."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import RefreshToken, User


async def user_by_normal_email(session: AsyncSession, *, normal_email: str) -> User | None:
    """`uq_users_email_lower` answers it."""
    result = await session.execute(select(User).where(func.lower(User.email) == normal_email))
    return result.scalar_one_or_none()


async def add_user(
    session: AsyncSession, *, email: str, full_name: str, password_hash: str
) -> User | None:
    """The new account, or None when the address was registered at the same moment."""
    user = User(email=email, full_name=full_name, password_hash=password_hash)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        return None
    return user


async def user_by_id(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def set_password_hash(
    session: AsyncSession, *, user_id: uuid.UUID, password_hash: str
) -> None:
    await session.execute(
        update(User).where(User.id == user_id).values(password_hash=password_hash)
    )


# Built once: every authenticated request runs it, and building and keying a new statement
# costs more than the query (bench/api_overhead.py, docs/benchmarks.md "Hardening").
_SESSION_USER = select(User).where(
    User.id == bindparam("user_id"),
    User.is_active.is_(True),
    ~exists().where(
        RefreshToken.family_id == bindparam("session_id"), RefreshToken.revoked_at.is_not(None)
    ),
)


async def active_session_user(
    session: AsyncSession, *, user_id: uuid.UUID, session_id: uuid.UUID
) -> User | None:
    """The active user, unless the sign-in `session_id` has been revoked: one indexed query."""
    result = await session.execute(_SESSION_USER, {"user_id": user_id, "session_id": session_id})
    return result.scalar_one_or_none()


async def add_refresh_token(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    family_id: uuid.UUID,
    token_hash: bytes,
    expires_at: datetime,
) -> None:
    session.add(
        RefreshToken(
            user_id=user_id, family_id=family_id, token_hash=token_hash, expires_at=expires_at
        )
    )
    await session.flush()


async def refresh_token_for_update(
    session: AsyncSession, *, token_hash: bytes
) -> RefreshToken | None:
    result = await session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
    )
    return result.scalar_one_or_none()


async def family_of_refresh_token(session: AsyncSession, *, token_hash: bytes) -> uuid.UUID | None:
    result = await session.execute(
        select(RefreshToken.family_id).where(RefreshToken.token_hash == token_hash)
    )
    return result.scalar_one_or_none()


async def revoke_family(session: AsyncSession, *, family_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )

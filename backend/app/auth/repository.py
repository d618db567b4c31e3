"""Queries of the accounts side of auth: sessions (refresh-token families), emailed single-use
tokens, and single sign-on identities."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import AccountToken, OidcIdentity, RefreshToken, User


@dataclass(frozen=True)
class SessionRow:
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    ip: str | None
    user_agent: str | None


async def active_sessions(session: AsyncSession, *, user_id: uuid.UUID) -> list[SessionRow]:
    """A user's sign-ins that can still refresh: each refresh-token family with no revoked
    token and an unexpired latest one, newest activity first. A refresh is the last sign of
    use (access tokens are not recorded per request)."""
    latest = func.max(RefreshToken.created_at)
    newest_first = RefreshToken.created_at.desc()
    result = await session.execute(
        select(
            RefreshToken.family_id,
            func.min(RefreshToken.created_at),
            latest,
            func.array_agg(aggregate_order_by(RefreshToken.ip, newest_first))[1],
            func.array_agg(aggregate_order_by(RefreshToken.user_agent, newest_first))[1],
        )
        .where(RefreshToken.user_id == user_id)
        .group_by(RefreshToken.family_id)
        .having(
            func.bool_and(RefreshToken.revoked_at.is_(None)),
            func.max(RefreshToken.expires_at) > func.now(),
        )
        .order_by(latest.desc())
    )
    return [SessionRow(*row) for row in result.all()]


async def revoke_sessions(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    family_id: uuid.UUID | None = None,
    except_family_id: uuid.UUID | None = None,
) -> int:
    """Revoke one of a user's sessions (`family_id`), or all of them but `except_family_id`;
    the number of refresh tokens revoked."""
    statement = update(RefreshToken).where(
        RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)
    )
    if family_id is not None:
        statement = statement.where(RefreshToken.family_id == family_id)
    if except_family_id is not None:
        statement = statement.where(RefreshToken.family_id != except_family_id)
    result = await session.execute(statement.values(revoked_at=func.now()))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def session_exists(
    session: AsyncSession, *, user_id: uuid.UUID, family_id: uuid.UUID
) -> bool:
    result = await session.execute(
        select(RefreshToken.id)
        .where(RefreshToken.user_id == user_id, RefreshToken.family_id == family_id)
        .limit(1)
    )
    return result.first() is not None


async def claim_account_token(
    session: AsyncSession, *, token_hash: bytes, purpose: str
) -> AccountToken | None:
    """The unused, unexpired token with this hash, locked and marked used (single use)."""
    result = await session.execute(
        select(AccountToken)
        .where(
            AccountToken.token_hash == token_hash,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > func.now(),
        )
        .with_for_update()
    )
    token = result.scalar_one_or_none()
    if token is not None:
        token.used_at = func.now()
        await session.flush()
    return token


async def expire_account_tokens(session: AsyncSession, *, user_id: uuid.UUID, purpose: str) -> None:
    """End a user's outstanding tokens of one purpose (after a reset, the other links die)."""
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=func.now())
    )


async def user_of_identity(session: AsyncSession, *, issuer: str, subject: str) -> User | None:
    result = await session.execute(
        select(User)
        .join(OidcIdentity, OidcIdentity.user_id == User.id)
        .where(OidcIdentity.issuer == issuer, OidcIdentity.subject == subject)
    )
    return result.scalar_one_or_none()

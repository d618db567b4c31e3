"""The SQL of accounts and sessions: users, refresh-token families (the sessions list), emailed
single-use tokens, and single sign-on identities."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import (
    AccountToken,
    ApiKey,
    InstanceSettings,
    Invite,
    OidcIdentity,
    RefreshToken,
    Role,
    User,
)

# Any constant: the lock that makes one of two simultaneous first sign-ups the admin.
FIRST_ACCOUNT_LOCK = 0x646F6363_68617431


async def user_by_normal_email(session: AsyncSession, *, normal_email: str) -> User | None:
    """`uq_users_email_lower` answers it."""
    result = await session.execute(select(User).where(func.lower(User.email) == normal_email))
    return result.scalar_one_or_none()


async def is_first_account(session: AsyncSession) -> bool:
    """No account exists. On an empty install the check waits for (and then sees) any other
    first sign-up's transaction: the lock is held until the caller's commit."""
    if await session.scalar(select(exists().select_from(User))):
        return False
    await session.execute(select(func.pg_advisory_xact_lock(FIRST_ACCOUNT_LOCK)))
    return not await session.scalar(select(exists().select_from(User)))


async def add_user(
    session: AsyncSession, *, email: str, full_name: str, password_hash: str | None, role: Role
) -> User | None:
    """The new account, or None when the address was registered at the same moment."""
    user = User(email=email, full_name=full_name, password_hash=password_hash, role=role.value)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        return None
    return user


async def save_users(session: AsyncSession) -> bool:
    """Write the changes made to loaded accounts; False when an email address they take was
    registered at the same moment (`uq_users_email_lower`)."""
    try:
        await session.flush()
    except IntegrityError:
        return False
    return True


async def user_by_id(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def set_password_hash(
    session: AsyncSession, *, user_id: uuid.UUID, password_hash: str
) -> None:
    await session.execute(
        update(User).where(User.id == user_id).values(password_hash=password_hash)
    )


# Whether a user may use the app at all: every credential (access token, API key) checks it on
# every request, so an account that stops being active is refused at its next request.
USER_CAN_SIGN_IN = User.is_active.is_(True)

# Built once: every authenticated request runs it, and building and keying a new statement
# costs more than the query (bench/api_overhead.py, docs/benchmarks.md "Hardening").
_SESSION_USER = select(User).where(
    User.id == bindparam("user_id"),
    USER_CAN_SIGN_IN,
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
    ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family_id,
            token_hash=token_hash,
            expires_at=expires_at,
            ip=ip,
            user_agent=user_agent,
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


async def family_of_refresh_token(
    session: AsyncSession, *, token_hash: bytes
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(family id, user id) of the token."""
    result = await session.execute(
        select(RefreshToken.family_id, RefreshToken.user_id).where(
            RefreshToken.token_hash == token_hash
        )
    )
    row = result.one_or_none()
    return None if row is None else (row.family_id, row.user_id)


async def revoke_family(session: AsyncSession, *, family_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def delete_user(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    """Its foreign keys cascade to every row that references the user."""
    await session.execute(delete(User).where(User.id == user_id))


_API_KEY_USER = (
    select(User, ApiKey)
    .join(ApiKey, ApiKey.user_id == User.id)
    .where(
        ApiKey.key_hash == bindparam("key_hash"),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > func.now()),
        USER_CAN_SIGN_IN,
    )
)


async def active_api_key_user(
    session: AsyncSession, *, key_hash: bytes
) -> tuple[User, ApiKey] | None:
    """The user of an unexpired key, if that user may sign in: one indexed query."""
    row = (await session.execute(_API_KEY_USER, {"key_hash": key_hash})).one_or_none()
    return None if row is None else (row[0], row[1])


async def set_api_key_use(
    session: AsyncSession, *, api_key_id: uuid.UUID, at: datetime, ip: str
) -> None:
    """A request that finds the key's row locked by another request with the same key skips
    the write rather than wait for that request's transaction."""
    unlocked = (
        select(ApiKey.id).where(ApiKey.id == api_key_id).with_for_update(skip_locked=True)
    ).scalar_subquery()
    await session.execute(
        update(ApiKey).where(ApiKey.id == unlocked).values(last_used_at=at, last_used_ip=ip)
    )


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


async def add_account_token(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    purpose: str,
    token_hash: bytes,
    new_email: str | None,
    expires_at: datetime,
) -> None:
    session.add(
        AccountToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=token_hash,
            new_email=new_email,
            expires_at=expires_at,
        )
    )
    await session.flush()


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
        token.used_at = datetime.now(UTC)
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


async def link_identity(
    session: AsyncSession, *, user_id: uuid.UUID, issuer: str, subject: str
) -> None:
    session.add(OidcIdentity(user_id=user_id, issuer=issuer, subject=subject))
    await session.flush()


async def revoke_user_refresh_tokens(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def touch_last_active(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    """Now, without counting as a change of the account (updated_at stays)."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(last_active_at=func.now(), updated_at=User.updated_at)
        .execution_options(synchronize_session=False)
    )


async def stored_registration_mode(session: AsyncSession) -> str | None:
    return await session.scalar(select(InstanceSettings.registration_mode))


async def store_registration_mode(session: AsyncSession, *, mode: str) -> None:
    statement = pg_insert(InstanceSettings).values(id=1, registration_mode=mode)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[InstanceSettings.id],
            set_={"registration_mode": mode, "updated_at": statement.excluded.updated_at},
        )
    )


async def add_invite(session: AsyncSession, *, invite: Invite) -> None:
    session.add(invite)
    await session.flush()
    await session.refresh(invite)


async def invites_page(session: AsyncSession, *, limit: int, offset: int) -> Sequence[Invite]:
    """Newest first."""
    result = await session.execute(
        select(Invite).order_by(Invite.created_at.desc(), Invite.id).limit(limit).offset(offset)
    )
    return result.scalars().all()


async def delete_invite(session: AsyncSession, *, invite_id: uuid.UUID) -> Invite | None:
    invite = await session.get(Invite, invite_id)
    if invite is not None:
        await session.delete(invite)
        await session.flush()
    return invite


async def invite_for_update(session: AsyncSession, *, token_hash: bytes) -> Invite | None:
    result = await session.execute(
        select(Invite).where(Invite.token_hash == token_hash).with_for_update()
    )
    return result.scalar_one_or_none()

"""The SQL of accounts and sessions: users and refresh-token families."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import InstanceSettings, Invite, RefreshToken, Role, User

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
    session: AsyncSession, *, email: str, full_name: str, password_hash: str, role: Role
) -> User | None:
    """The new account, or None when the address was registered at the same moment."""
    user = User(email=email, full_name=full_name, password_hash=password_hash, role=role.value)
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

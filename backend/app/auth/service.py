"""Accounts and sessions. Services flush but never commit: the request scope does."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.auth.emails import normalize_email
from app.auth.models import User
from app.core import security
from app.core.errors import Conflict, Unauthorized
from app.core.settings import Settings

INVALID_CREDENTIALS = "Incorrect email or password."


def _yield_to_requests() -> None:
    """Lower this thread's CPU priority (Linux threads have their own nice value): when the
    CPUs are busy, searches and chats go first and a sign-in takes a little longer."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


# One hash at a time per process, in one low-priority thread: Argon2 costs ~140 ms of CPU and
# 64 MB, and a burst of sign-ins would otherwise take every core.
_HASHING = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="password-hashing", initializer=_yield_to_requests
)
T = TypeVar("T")
INVALID_REFRESH = "The session has expired or was revoked; sign in again."


ACCOUNT_EXISTS = "An account with this email already exists."


async def get_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    """The account of an address in any spelling that normalizes to it (app.auth.emails);
    `uq_users_email_lower` answers the query."""
    return await repository.user_by_normal_email(session, normal_email=normalize_email(email))


async def create_user(session: AsyncSession, *, email: str, password: str, full_name: str) -> User:
    """Stores `email` in its normal form (app.auth.emails)."""
    password_hash = await _hash_off_loop(security.hash_password, password)
    if await get_user_by_email(session, email=email) is not None:
        raise Conflict(ACCOUNT_EXISTS)
    user = await repository.add_user(
        session,
        email=normalize_email(email),
        full_name=full_name.strip(),
        password_hash=password_hash,
    )
    if user is None:  # the same address registered at the same moment
        raise Conflict(ACCOUNT_EXISTS)
    return user


async def get_session_user(
    session: AsyncSession, *, user_id: uuid.UUID, session_id: uuid.UUID
) -> User | None:
    """The active user of an access token, unless its sign-in was logged out (or its
    refresh-token family revoked after a replay): one indexed query, like the plain lookup."""
    return await repository.active_session_user(session, user_id=user_id, session_id=session_id)


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User:
    user = await get_user_by_email(session, email=email)
    if user is not None:
        session.expunge(user)
    # Argon2 costs ~100 ms of CPU and 64 MB: end the read-only transaction first, so a burst of
    # sign-ins cannot hold every pooled connection while it hashes.
    await session.rollback()
    if user is None:
        await _hash_off_loop(security.verify_password, password, security.DUMMY_PASSWORD_HASH)
        raise Unauthorized(INVALID_CREDENTIALS)
    valid, updated_hash = await _hash_off_loop(
        security.verify_password, password, user.password_hash
    )
    if not valid or not user.is_active:
        raise Unauthorized(INVALID_CREDENTIALS)
    if updated_hash is not None:
        await repository.set_password_hash(session, user_id=user.id, password_hash=updated_hash)
        user.password_hash = updated_hash
    return user


async def _hash_off_loop(function: Callable[..., T], *args: object) -> T:
    return await asyncio.wrap_future(_HASHING.submit(function, *args))


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


async def issue_tokens(
    session: AsyncSession, *, user: User, settings: Settings, family_id: uuid.UUID | None = None
) -> IssuedTokens:
    refresh_token = security.new_refresh_token()
    family_id = family_id or uuid.uuid4()
    await repository.add_refresh_token(
        session,
        user_id=user.id,
        family_id=family_id,
        token_hash=security.hash_refresh_token(refresh_token),
        expires_at=datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_s),
    )
    access_token = security.create_access_token(
        user.id,
        session_id=family_id,
        secret=settings.signing_secret,
        ttl_s=settings.access_token_ttl_s,
    )
    return IssuedTokens(access_token, refresh_token, settings.access_token_ttl_s)


class RefreshReplayed(Unauthorized):
    """A used refresh token came back: its family has been revoked, and stays revoked."""

    keeps_changes = True


async def rotate_refresh_token(
    session: AsyncSession, *, refresh_token: str, settings: Settings
) -> IssuedTokens:
    now = datetime.now(UTC)
    stored = await repository.refresh_token_for_update(
        session, token_hash=security.hash_refresh_token(refresh_token)
    )
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        raise Unauthorized(INVALID_REFRESH)
    if stored.used_at is not None:
        await repository.revoke_family(session, family_id=stored.family_id)
        raise RefreshReplayed(INVALID_REFRESH)
    user = await repository.user_by_id(session, user_id=stored.user_id)
    if user is None or not user.is_active:
        raise Unauthorized(INVALID_REFRESH)
    stored.used_at = now
    return await issue_tokens(session, user=user, settings=settings, family_id=stored.family_id)


async def revoke_refresh_token(session: AsyncSession, *, refresh_token: str) -> None:
    """Log out: the token's whole family ends, so no rotated descendant survives, and the
    access tokens of that sign-in stop working at once (get_session_user)."""
    family_id = await repository.family_of_refresh_token(
        session, token_hash=security.hash_refresh_token(refresh_token)
    )
    if family_id is not None:
        await repository.revoke_family(session, family_id=family_id)

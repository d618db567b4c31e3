"""Who may create an account: the registration mode (stored in the database, default from
REGISTRATION_MODE) and invite links. Admins change both through app.admin."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.auth.emails import normalize_email
from app.auth.models import Invite
from app.core import security
from app.core.errors import Forbidden, NotFound
from app.core.settings import Settings

RegistrationMode = Literal["open", "invite", "closed"]

REGISTRATION_CLOSED = (
    "Registration is closed on this server: ask an administrator to create your account."
)
INVITE_REQUIRED = (
    "Registration on this server is by invitation: open the invite link an administrator gave you."
)
INVITE_UNKNOWN = "This invite link is not valid: it may have been revoked. Ask for a new one."
INVITE_EXPIRED = "This invite link has expired. Ask an administrator for a new one."
INVITE_USED = "This invite link has already been used. Ask an administrator for a new one."
INVITE_OTHER_EMAIL = "This invite link is for another email address."
INVITE_NOT_FOUND = "Invite not found."


async def registration_mode(session: AsyncSession, *, settings: Settings) -> RegistrationMode:
    stored = await repository.stored_registration_mode(session)
    return cast(RegistrationMode, stored or settings.registration_mode)


async def set_registration_mode(session: AsyncSession, *, mode: RegistrationMode) -> None:
    await repository.store_registration_mode(session, mode=mode)


async def create_invite(
    session: AsyncSession, *, created_by: uuid.UUID, email: str | None, expires_in_hours: int
) -> tuple[Invite, str]:
    """The invite and its token (kept only hashed: this is the one time it is seen)."""
    token = security.new_opaque_token()
    invite = Invite(
        token_hash=security.hash_opaque_token(token),
        email=normalize_email(email) if email else None,
        created_by=created_by,
        expires_at=datetime.now(UTC) + timedelta(hours=expires_in_hours),
    )
    await repository.add_invite(session, invite=invite)
    return invite, token


async def list_invites(session: AsyncSession, *, limit: int, offset: int) -> Sequence[Invite]:
    return await repository.invites_page(session, limit=limit, offset=offset)


async def delete_invite(session: AsyncSession, *, invite_id: uuid.UUID) -> Invite:
    invite = await repository.delete_invite(session, invite_id=invite_id)
    if invite is None:
        raise NotFound(INVITE_NOT_FOUND)
    return invite


async def claim_invite(session: AsyncSession, *, token: str, email: str) -> Invite:
    """The unused, unexpired invite of `token` for `email`, locked until the caller's
    transaction ends (two sign-ups with one link: the second finds it used)."""
    invite = await repository.invite_for_update(
        session, token_hash=security.hash_opaque_token(token)
    )
    if invite is None:
        raise Forbidden(INVITE_UNKNOWN)
    if invite.used_at is not None:
        raise Forbidden(INVITE_USED)
    if invite.expires_at <= datetime.now(UTC):
        raise Forbidden(INVITE_EXPIRED)
    if invite.email is not None and invite.email != normalize_email(email):
        raise Forbidden(INVITE_OTHER_EMAIL)
    return invite


async def use_invite(session: AsyncSession, *, invite: Invite, user_id: uuid.UUID) -> None:
    invite.used_at = datetime.now(UTC)
    invite.used_by = user_id
    await session.flush()


async def admit(
    session: AsyncSession, *, settings: Settings, email: str, invite_token: str | None
) -> Invite | None:
    """Whether a new account may be made now, and with which invite (None: without one).
    An invite, when given, must be valid in any mode but closed."""
    mode = await registration_mode(session, settings=settings)
    if mode == "closed":
        raise Forbidden(REGISTRATION_CLOSED)
    invite = None
    if invite_token is not None:
        invite = await claim_invite(session, token=invite_token, email=email)
    if mode == "invite" and invite is None:
        raise Forbidden(INVITE_REQUIRED)
    return invite

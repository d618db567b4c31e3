"""Account administration. Every change is audited in the same transaction. Services flush,
never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.admin import repository
from app.admin.repository import UserUsage
from app.audit import service as audit
from app.auth import registration
from app.auth import service as auth
from app.auth.models import Invite, Role, User
from app.auth.registration import RegistrationMode
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.settings import Settings
from app.documents.quotas import Quota, quota_of
from app.documents.service import delete_all_documents

USER_NOT_FOUND = "User not found."
LAST_ADMIN = (
    "You are the last administrator: make another account an administrator first, so that "
    "somebody can still manage this server."
)
INVITE_TOO_LONG = "An invite may last at most {hours} hours (INVITE_MAX_HOURS)."


@dataclass(frozen=True)
class AdminUserView:
    user: User
    usage: UserUsage
    quota: Quota


@dataclass(frozen=True)
class UserChanges:
    """What a PATCH asked for: only the fields in `fields` change (None: the default quota)."""

    fields: frozenset[str]
    role: Role | None = None
    disabled: bool | None = None
    quota_storage_mb: int | None = None
    quota_documents: int | None = None


async def list_users(
    session: AsyncSession, *, settings: Settings, query: str | None, limit: int, offset: int
) -> list[AdminUserView]:
    rows = await repository.list_users_with_usage(session, query=query, limit=limit, offset=offset)
    return [AdminUserView(user, usage, quota_of(user, settings)) for user, usage in rows]


async def _view(session: AsyncSession, *, user: User, settings: Settings) -> AdminUserView:
    usage = await repository.usage_of_user(session, user_id=user.id)
    return AdminUserView(user, usage, quota_of(user, settings))


async def _locked_user(session: AsyncSession, *, user_id: uuid.UUID) -> User:
    user = await repository.get_user_for_update(session, user_id=user_id)
    if user is None:
        raise NotFound(USER_NOT_FOUND)
    return user


async def _keep_an_admin(session: AsyncSession, *, user: User) -> None:
    """Refuse to demote, disable or delete the last active admin."""
    if user.role != Role.ADMIN or not user.is_active:
        return
    if list(await repository.active_admins_locked(session)) == [user.id]:
        raise Conflict(LAST_ADMIN)


async def update_user(
    session: AsyncSession,
    *,
    actor: User,
    user_id: uuid.UUID,
    changes: UserChanges,
    settings: Settings,
) -> AdminUserView:
    user = await _locked_user(session, user_id=user_id)
    target_id = str(user.id)
    demoted = "role" in changes.fields and changes.role == Role.MEMBER
    disabled = "disabled" in changes.fields and changes.disabled is True
    if demoted or disabled:
        await _keep_an_admin(session, user=user)
    if changes.role is not None and changes.role != user.role:
        previous = user.role
        user.role = changes.role.value
        await session.flush()
        await audit.record(
            session,
            action=audit.ROLE_CHANGE,
            actor_id=actor.id,
            details={"from": previous, "to": user.role},
            target_type="user",
            target_id=target_id,
        )
    if changes.disabled is not None and changes.disabled != (user.disabled_at is not None):
        await auth.set_disabled(session, user=user, disabled=changes.disabled)
        action = audit.USER_DISABLE if changes.disabled else audit.USER_ENABLE
        await audit.record(
            session, action=action, actor_id=actor.id, target_type="user", target_id=target_id
        )
    quota_changes: dict[str, Any] = {}
    for name in ("quota_storage_mb", "quota_documents"):
        new = getattr(changes, name)
        if name in changes.fields and new != getattr(user, name):
            quota_changes[name] = {"from": getattr(user, name), "to": new}
            setattr(user, name, new)
    if quota_changes:
        await session.flush()
        await audit.record(
            session,
            action=audit.QUOTA_CHANGE,
            actor_id=actor.id,
            details=quota_changes,
            target_type="user",
            target_id=target_id,
        )
    return await _view(session, user=user, settings=settings)


async def delete_user(
    session: AsyncSession, *, actor: User, user_id: uuid.UUID
) -> list[tuple[str | None, uuid.UUID]]:
    """The account and everything it owns (documents, originals held in Postgres, chunks,
    vectors, postings, pages, chats, sessions, queued jobs). Returns the originals held
    elsewhere, for the caller to forget once the transaction commits."""
    user = await _locked_user(session, user_id=user_id)
    await _keep_an_admin(session, user=user)
    originals = await delete_all_documents(session, user_id=user.id)
    # Before the row goes: an admin deleting their own account is still named as the actor.
    await audit.record(
        session,
        action=audit.USER_DELETE,
        actor_id=actor.id,
        target_type="user",
        target_id=str(user.id),
        details={"email": user.email, "documents": len(originals)},
    )
    session.expunge(user)
    await auth.delete_user(session, user_id=user_id)
    return originals


async def get_registration_mode(session: AsyncSession, *, settings: Settings) -> RegistrationMode:
    return await registration.registration_mode(session, settings=settings)


async def set_registration_mode(
    session: AsyncSession, *, actor: User, mode: RegistrationMode, settings: Settings
) -> RegistrationMode:
    previous = await registration.registration_mode(session, settings=settings)
    await registration.set_registration_mode(session, mode=mode)
    await audit.record(
        session,
        action=audit.REGISTRATION_MODE_CHANGE,
        actor_id=actor.id,
        details={"from": previous, "to": mode},
    )
    return mode


async def create_invite(
    session: AsyncSession,
    *,
    actor: User,
    email: str | None,
    expires_in_hours: int | None,
    settings: Settings,
) -> tuple[Invite, str]:
    hours = expires_in_hours or settings.invite_default_hours
    if hours > settings.invite_max_hours:
        raise Unprocessable(INVITE_TOO_LONG.format(hours=settings.invite_max_hours))
    invite, token = await registration.create_invite(
        session, created_by=actor.id, email=email, expires_in_hours=hours
    )
    await audit.record(
        session,
        action=audit.INVITE_CREATE,
        actor_id=actor.id,
        target_type="invite",
        target_id=str(invite.id),
        details={"email": invite.email, "expires_at": invite.expires_at.isoformat()},
    )
    return invite, token


def invite_status(invite: Invite) -> str:
    if invite.used_at is not None:
        return "used"
    return "expired" if invite.expires_at <= datetime.now(UTC) else "pending"


async def list_invites(session: AsyncSession, *, limit: int, offset: int) -> Sequence[Invite]:
    return await registration.list_invites(session, limit=limit, offset=offset)


async def revoke_invite(session: AsyncSession, *, actor: User, invite_id: uuid.UUID) -> None:
    invite = await registration.delete_invite(session, invite_id=invite_id)
    await audit.record(
        session,
        action=audit.INVITE_REVOKE,
        actor_id=actor.id,
        target_type="invite",
        target_id=str(invite.id),
        details={"email": invite.email},
    )

"""The audit log's queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import column, insert, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent

# The accounts table, seen from below the auth package: only what the log reads.
_users = table("users", column("id"), column("email"))


@dataclass(frozen=True)
class EventFilter:
    action: str | None = None
    # An account id, or (part of) the address the actor had when they acted.
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def insert_event(
    session: AsyncSession,
    *,
    action: str,
    actor_id: uuid.UUID | None,
    target_type: str | None,
    target_id: str | None,
    details: dict[str, Any],
    ip: str | None,
    request_id: str | None,
) -> None:
    actor_email = (
        select(_users.c.email).where(_users.c.id == actor_id).scalar_subquery()
        if actor_id is not None
        else None
    )
    await session.execute(
        insert(AuditEvent).values(
            action=action,
            actor_id=actor_id,
            actor_email=actor_email,
            target_type=target_type,
            target_id=target_id,
            details=details,
            ip=ip,
            request_id=request_id,
        )
    )


async def list_events(
    session: AsyncSession, *, where: EventFilter, limit: int, offset: int
) -> Sequence[AuditEvent]:
    """Newest first."""
    statement = select(AuditEvent)
    if where.action:
        statement = statement.where(AuditEvent.action == where.action)
    if where.actor:
        try:
            statement = statement.where(AuditEvent.actor_id == uuid.UUID(where.actor))
        except ValueError:
            statement = statement.where(
                AuditEvent.actor_email.icontains(where.actor, autoescape=True)
            )
    if where.since is not None:
        statement = statement.where(AuditEvent.at >= where.since)
    if where.until is not None:
        statement = statement.where(AuditEvent.at < where.until)
    result = await session.execute(
        statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    )
    return result.scalars().all()

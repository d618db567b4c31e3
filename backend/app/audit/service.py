"""Recording and reading the audit log. `record` is what every domain calls: it writes in the
caller's transaction (an action rolled back leaves no record), and reads the client address
and request id from the request context."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository
from app.audit.models import AuditEvent
from app.audit.repository import EventFilter
from app.core.logging import client_ip_var, request_id_var

__all__ = ["EventFilter", "csv_rows", "list_events", "record"]

# Actions recorded by this release (docs/admin.md lists what each one's details hold).
SIGN_IN = "auth.sign_in"
SIGN_IN_FAILED = "auth.sign_in_failed"
SIGN_OUT = "auth.sign_out"
REGISTER = "auth.register"
PASSWORD_CHANGE = "auth.password_change"  # noqa: S105
ROLE_CHANGE = "user.role_change"
USER_DISABLE = "user.disable"
USER_ENABLE = "user.enable"
USER_DELETE = "user.delete"
QUOTA_CHANGE = "user.quota_change"
REGISTRATION_MODE_CHANGE = "settings.registration_mode"
INVITE_CREATE = "invite.create"
INVITE_REVOKE = "invite.revoke"
DOCUMENT_DELETE = "document.delete"
AUDIT_EXPORT = "audit.export"
COLLECTION_SHARE = "collection.share"
COLLECTION_UNSHARE = "collection.unshare"
COLLECTION_TRANSFER = "collection.transfer"
COLLECTION_DELETE = "collection.delete"
GROUP_MEMBER_ADD = "group.member_add"
GROUP_MEMBER_REMOVE = "group.member_remove"
GROUP_DELETE = "group.delete"
API_KEY_CREATE = "api_key.create"
API_KEY_REVOKE = "api_key.revoke"
ACCOUNT_DELETE = "account.delete"
SESSION_REVOKE = "auth.session_revoke"
PASSWORD_RESET = "auth.password_reset"  # noqa: S105

CSV_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_email",
    "action",
    "target_type",
    "target_id",
    "ip",
    "request_id",
    "details",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


async def record(
    session: AsyncSession,
    *,
    action: str,
    actor_id: uuid.UUID | None,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await repository.insert_event(
        session,
        action=action,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        details=details or {},
        ip=client_ip_var.get(),
        request_id=request_id_var.get(),
    )


async def list_events(
    session: AsyncSession, *, where: EventFilter, limit: int, offset: int
) -> Sequence[AuditEvent]:
    return await repository.list_events(session, where=where, limit=limit, offset=offset)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_rows(events: Iterable[AuditEvent]) -> str:
    """The events as CSV (a header line first), safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        writer.writerow(
            _cell(value)
            for value in (
                event.id,
                event.at.isoformat(),
                event.actor_id,
                event.actor_email,
                event.action,
                event.target_type,
                event.target_id,
                event.ip,
                event.request_id,
                orjson.dumps(event.details, option=orjson.OPT_SORT_KEYS).decode(),
            )
        )
    return out.getvalue()

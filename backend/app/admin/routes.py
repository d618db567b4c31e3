"""/api/v1/admin: accounts, registration, invites and the audit log (admins only)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Query, Response, status

from app.admin import service
from app.admin.schemas import (
    ActorOut,
    AdminSettingsIn,
    AdminSettingsOut,
    AdminUserOut,
    AdminUserPatch,
    AuditEventOut,
    InviteCreatedOut,
    InviteIn,
    InviteOut,
    QuotaOut,
    UsageOut,
)
from app.admin.service import AdminUserView, UserChanges
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.auth.deps import AdminUser
from app.auth.models import Invite, Role
from app.core.db import SessionDep
from app.core.openapi import ERROR_RESPONSE
from app.core.pagination import Page, page_params
from app.core.routing import API_PREFIX, api_router
from app.core.settings import SettingsDep
from app.documents.routes import OriginalsDep

router = api_router(
    prefix=f"{API_PREFIX}/admin",
    tags=["admin"],
    responses={
        400: ERROR_RESPONSE,
        401: ERROR_RESPONSE,
        403: ERROR_RESPONSE,
        422: ERROR_RESPONSE,
        503: ERROR_RESPONSE,
    },
)

# The CSV export holds at most this many events (newest first); narrow the dates for more.
AUDIT_CSV_MAX_ROWS = 100_000


def _user_out(view: AdminUserView) -> AdminUserOut:
    user = view.user
    return AdminUserOut(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=Role(user.role).value,
        disabled=user.disabled_at is not None,
        created_at=user.created_at,
        last_active_at=user.last_active_at,
        usage=UsageOut(**vars(view.usage)),
        quota=QuotaOut(
            storage_mb=view.quota.storage_mb,
            documents=view.quota.documents,
            storage_mb_is_default=user.quota_storage_mb is None,
            documents_is_default=user.quota_documents is None,
        ),
    )


@router.get("/users", response_model=list[AdminUserOut])
async def list_users(
    admin: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    page: Annotated[Page, Depends(page_params(default_limit=100))],
    q: Annotated[str | None, Query(max_length=320, description="Part of an email or name")] = None,
) -> list[AdminUserOut]:
    views = await service.list_users(
        session, settings=settings, query=q or None, limit=page.limit, offset=page.offset
    )
    return [_user_out(view) for view in views]


@router.patch(
    "/users/{user_id}",
    response_model=AdminUserOut,
    responses={404: ERROR_RESPONSE, 409: ERROR_RESPONSE},
)
async def update_user(
    user_id: uuid.UUID,
    body: AdminUserPatch,
    admin: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
) -> AdminUserOut:
    changes = UserChanges(
        fields=frozenset(body.model_fields_set),
        role=Role(body.role) if body.role is not None else None,
        disabled=body.disabled,
        quota_storage_mb=body.quota_storage_mb,
        quota_documents=body.quota_documents,
    )
    view = await service.update_user(
        session, actor=admin, user_id=user_id, changes=changes, settings=settings
    )
    return _user_out(view)


@router.delete(
    "/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: ERROR_RESPONSE, 409: ERROR_RESPONSE},
)
async def delete_user(
    user_id: uuid.UUID,
    admin: AdminUser,
    session: SessionDep,
    originals: OriginalsDep,
    background: BackgroundTasks,
) -> Response:
    """The account and all its data."""
    removed = await service.delete_user(session, actor=admin, user_id=user_id)
    # After the response, i.e. after the commit: a failed delete never loses an original.
    for kind, document_id in removed:
        background.add_task(originals.forget, kind=kind, document_id=document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/settings", response_model=AdminSettingsOut)
async def get_settings(
    admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> AdminSettingsOut:
    mode = await service.get_registration_mode(session, settings=settings)
    return AdminSettingsOut(registration_mode=mode)


@router.put("/settings", response_model=AdminSettingsOut)
async def put_settings(
    body: AdminSettingsIn, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> AdminSettingsOut:
    mode = await service.set_registration_mode(
        session, actor=admin, mode=body.registration_mode, settings=settings
    )
    return AdminSettingsOut(registration_mode=mode)


def _invite_out(invite: Invite) -> InviteOut:
    return InviteOut(
        id=invite.id,
        email=invite.email,
        created_at=invite.created_at,
        expires_at=invite.expires_at,
        used_at=invite.used_at,
        status=service.invite_status(invite),
    )


@router.post("/invites", status_code=status.HTTP_201_CREATED, response_model=InviteCreatedOut)
async def create_invite(
    body: InviteIn, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> InviteCreatedOut:
    """A sign-up link. Its token is shown here only (it is stored hashed)."""
    invite, token = await service.create_invite(
        session,
        actor=admin,
        email=body.email,
        expires_in_hours=body.expires_in_hours,
        settings=settings,
    )
    return InviteCreatedOut(
        id=invite.id,
        token=token,
        url_path=f"/register?invite={token}",
        email=invite.email,
        expires_at=invite.expires_at,
    )


@router.get("/invites", response_model=list[InviteOut])
async def list_invites(
    admin: AdminUser,
    session: SessionDep,
    page: Annotated[Page, Depends(page_params(default_limit=100))],
) -> list[InviteOut]:
    invites = await service.list_invites(session, limit=page.limit, offset=page.offset)
    return [_invite_out(invite) for invite in invites]


@router.delete(
    "/invites/{invite_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: ERROR_RESPONSE}
)
async def revoke_invite(invite_id: uuid.UUID, admin: AdminUser, session: SessionDep) -> Response:
    await service.revoke_invite(session, actor=admin, invite_id=invite_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def audit_filter(
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[
        str | None, Query(max_length=320, description="An account id, or part of an email")
    ] = None,
    since: Annotated[datetime | None, Query(description="From this time (inclusive)")] = None,
    until: Annotated[datetime | None, Query(description="Before this time")] = None,
) -> audit.EventFilter:
    return audit.EventFilter(action=action or None, actor=actor or None, since=since, until=until)


AuditFilterDep = Annotated[audit.EventFilter, Depends(audit_filter)]


def _event_out(event: AuditEvent) -> AuditEventOut:
    actor = (
        ActorOut(id=event.actor_id, email=event.actor_email) if event.actor_id is not None else None
    )
    return AuditEventOut(
        id=event.id,
        at=event.at,
        actor=actor,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        ip=event.ip,
        request_id=event.request_id,
        details=event.details,
    )


@router.get("/audit", response_model=list[AuditEventOut])
async def list_audit_events(
    admin: AdminUser,
    session: SessionDep,
    where: AuditFilterDep,
    page: Annotated[Page, Depends(page_params(default_limit=100))],
) -> list[AuditEventOut]:
    """Newest first."""
    events = await audit.list_events(session, where=where, limit=page.limit, offset=page.offset)
    return [_event_out(event) for event in events]


@router.get(
    "/audit.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The events, newest first"}},
)
async def export_audit_events(
    admin: AdminUser, session: SessionDep, where: AuditFilterDep
) -> Response:
    """The filtered events as CSV (at most 100,000, newest first)."""
    events = await audit.list_events(session, where=where, limit=AUDIT_CSV_MAX_ROWS, offset=0)
    await audit.record(
        session,
        action=audit.AUDIT_EXPORT,
        actor_id=admin.id,
        details={
            "rows": len(events),
            **{key: str(value) for key, value in vars(where).items() if value is not None},
        },
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        audit.csv_rows(events),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="docchat-audit-{stamp}.csv"'},
    )

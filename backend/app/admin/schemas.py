from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.auth.schemas import EmailIn

RegistrationMode = Literal["open", "invite", "closed"]


class UsageOut(BaseModel):
    documents: int
    storage_bytes: int
    chunks: int
    messages: int


class QuotaOut(BaseModel):
    """The limits in force (null: no limit), and whether each is the configured default."""

    storage_mb: int | None
    documents: int | None
    storage_mb_is_default: bool
    documents_is_default: bool


class AdminUserOut(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    role: Literal["admin", "member"]
    disabled: bool
    created_at: datetime
    last_active_at: datetime | None
    usage: UsageOut
    quota: QuotaOut


class AdminUserPatch(BaseModel):
    """Only the fields sent change. A quota of null returns to the configured default;
    0 means no limit."""

    role: Literal["admin", "member"] | None = None
    disabled: bool | None = None
    quota_storage_mb: int | None = Field(default=None, ge=0, le=2**31 - 1)
    quota_documents: int | None = Field(default=None, ge=0, le=2**31 - 1)


class AdminSettingsOut(BaseModel):
    registration_mode: RegistrationMode


class AdminSettingsIn(BaseModel):
    registration_mode: RegistrationMode


class InviteIn(BaseModel):
    # Only this address may use the invite; empty: anyone with the link.
    email: EmailIn | None = None
    # Default INVITE_DEFAULT_HOURS; at most INVITE_MAX_HOURS.
    expires_in_hours: int | None = Field(default=None, ge=1)


class InviteCreatedOut(BaseModel):
    id: uuid.UUID
    token: str
    url_path: str
    email: str | None
    expires_at: datetime


class InviteOut(BaseModel):
    id: uuid.UUID
    email: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    status: Literal["pending", "used", "expired"]


class ActorOut(BaseModel):
    id: uuid.UUID
    email: str | None


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: ActorOut | None
    action: str
    target_type: str | None
    target_id: str | None
    ip: str | None
    request_id: str | None
    details: dict[str, Any]

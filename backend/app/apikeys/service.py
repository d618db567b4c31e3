"""Personal API keys: created (the key shown once, its hash kept), listed, revoked."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.apikeys import repository
from app.audit import service as audit
from app.auth.models import ApiKey
from app.core import security
from app.core.errors import NotFound

API_KEY_NOT_FOUND = "API key not found."


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    key: str


async def create_api_key(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    name: str,
    scopes: Sequence[str],
    expires_at: datetime | None,
) -> CreatedKey:
    key = security.new_api_key()
    api_key = ApiKey(
        user_id=user_id,
        name=name,
        prefix=key[: security.API_KEY_PREFIX_CHARS],
        key_hash=security.hash_opaque_token(key),
        scopes=list(scopes),
        expires_at=expires_at,
    )
    session.add(api_key)
    await session.flush()
    await session.refresh(api_key)
    await audit.record(
        session,
        action=audit.API_KEY_CREATE,
        actor_id=user_id,
        target_type="api_key",
        target_id=str(api_key.id),
        details={"scopes": list(scopes)},
    )
    return CreatedKey(api_key=api_key, key=key)


async def list_api_keys(
    session: AsyncSession, *, user_id: uuid.UUID, limit: int, offset: int
) -> Sequence[ApiKey]:
    return await repository.list_for_user(session, user_id=user_id, limit=limit, offset=offset)


async def revoke_api_key(session: AsyncSession, *, user_id: uuid.UUID, key_id: uuid.UUID) -> None:
    """The key stops working at its next request (the hash is gone, so nothing can match)."""
    if not await repository.delete_for_user(session, user_id=user_id, key_id=key_id):
        raise NotFound(API_KEY_NOT_FOUND)
    await audit.record(
        session,
        action=audit.API_KEY_REVOKE,
        actor_id=user_id,
        target_type="api_key",
        target_id=str(key_id),
    )

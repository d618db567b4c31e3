"""The SQL of bulk actions (ORM)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.library.models import DocumentBulkAction


async def insert_bulk_action(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    action: str,
    selection: dict[str, Any],
    collection_id: uuid.UUID | None,
    total: int,
) -> DocumentBulkAction:
    bulk = DocumentBulkAction(
        id=uuid.uuid4(),
        user_id=user_id,
        action=action,
        selection=selection,
        collection_id=collection_id,
        total=total,
    )
    session.add(bulk)
    await session.flush()
    await session.refresh(bulk)
    return bulk


async def bulk_action_of(
    session: AsyncSession, *, user_id: uuid.UUID, bulk_id: uuid.UUID
) -> DocumentBulkAction | None:
    result = await session.execute(
        select(DocumentBulkAction).where(
            DocumentBulkAction.id == bulk_id, DocumentBulkAction.user_id == user_id
        )
    )
    return result.scalar_one_or_none()


async def bulk_action_for_update(
    session: AsyncSession, *, bulk_id: uuid.UUID
) -> DocumentBulkAction | None:
    result = await session.execute(
        select(DocumentBulkAction)
        .where(DocumentBulkAction.id == bulk_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def set_bulk_values(session: AsyncSession, *, bulk_id: uuid.UUID, **values: Any) -> None:
    await session.execute(
        update(DocumentBulkAction).where(DocumentBulkAction.id == bulk_id).values(**values)
    )

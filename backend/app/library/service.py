"""Select-all actions on the library (delete, add to a collection, reindex), run as a job
(app.library.bulk walks the selection)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.jobs import defer_job
from app.documents import service as documents
from app.library import repository
from app.library.bulk import library_filter_of
from app.library.models import DocumentBulkAction
from app.library.schemas import BulkActionIn
from app.library.tasks import run_bulk_action
from app.sharing import access
from app.sharing.models import Role

BULK_NOT_FOUND = "Bulk action not found."


async def start_bulk_action(
    session: AsyncSession, *, user_id: uuid.UUID, request: BulkActionIn
) -> DocumentBulkAction:
    """Record the action and queue its job (in the caller's transaction). A collection to
    add to that the user cannot edit is refused now (404/403), not document by document."""
    if request.collection_id is not None:
        await access.require_collection(
            session, reader_id=user_id, collection_id=request.collection_id, at_least=Role.EDITOR
        )
    selection: dict[str, Any]
    if request.filter is not None:
        as_of = datetime.now(UTC)
        wanted = library_filter_of(request.filter, as_of=as_of)
        counts = await documents.count_library(session, user_id=user_id, wanted=wanted)
        total = sum(
            count
            for status, count in counts.items()
            if not wanted.statuses or status in wanted.statuses
        )
        selection = {"filter": request.filter.model_dump(mode="json"), "as_of": as_of.isoformat()}
    else:
        ids = list(dict.fromkeys(request.document_ids or ()))
        total = len(ids)
        selection = {"document_ids": [str(document_id) for document_id in ids]}
    bulk = await repository.insert_bulk_action(
        session,
        user_id=user_id,
        action=request.action.value,
        selection=selection,
        collection_id=request.collection_id,
        total=total,
    )
    await defer_job(session, run_bulk_action, bulk_id=str(bulk.id))
    return bulk


async def get_bulk_action(
    session: AsyncSession, *, user_id: uuid.UUID, bulk_id: uuid.UUID
) -> DocumentBulkAction:
    """One of the user's own bulk actions (404 for anyone else's)."""
    bulk = await repository.bulk_action_of(session, user_id=user_id, bulk_id=bulk_id)
    if bulk is None:
        raise NotFound(BULK_NOT_FOUND)
    return bulk

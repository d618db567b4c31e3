from __future__ import annotations

import uuid

from fastapi import status

from app.auth.deps import CurrentUser, WritingUser
from app.core.db import SessionDep
from app.core.openapi import ERROR_RESPONSE
from app.core.routing import API_PREFIX, api_router
from app.library import service
from app.library.models import DocumentBulkAction
from app.library.schemas import BulkActionIn, BulkActionOut

ERRORS = {401: ERROR_RESPONSE, 404: ERROR_RESPONSE, 422: ERROR_RESPONSE, 503: ERROR_RESPONSE}
router = api_router(prefix=f"{API_PREFIX}/documents/bulk", tags=["documents"], responses=ERRORS)


def bulk_out(bulk: DocumentBulkAction) -> BulkActionOut:
    return BulkActionOut.model_validate(bulk, from_attributes=True)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BulkActionOut,
    responses={403: ERROR_RESPONSE},
)
async def start_bulk_action(
    body: BulkActionIn, user: WritingUser, session: SessionDep
) -> BulkActionOut:
    """Delete, reindex or add to a collection every document of a selection (all those
    matching a filter, or a list), as a job: poll `GET /documents/bulk/{bulk_id}` for its
    progress. Each document's own permissions apply (see `denied`)."""
    bulk = await service.start_bulk_action(session, user_id=user.id, request=body)
    return bulk_out(bulk)


@router.get("/{bulk_id}", response_model=BulkActionOut)
async def get_bulk_action(
    bulk_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> BulkActionOut:
    """A bulk action you asked for, with its progress."""
    return bulk_out(await service.get_bulk_action(session, user_id=user.id, bulk_id=bulk_id))

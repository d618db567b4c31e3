from __future__ import annotations

import uuid

from app.auth.deps import CurrentUser
from app.core.db import SessionDep
from app.core.openapi import ERROR_RESPONSE
from app.core.routing import API_PREFIX, api_router
from app.core.settings import SettingsDep
from app.suggestions import service
from app.suggestions.schemas import SuggestionsOut

router = api_router(
    prefix=f"{API_PREFIX}/documents",
    tags=["documents"],
    responses={401: ERROR_RESPONSE, 404: ERROR_RESPONSE, 422: ERROR_RESPONSE, 503: ERROR_RESPONSE},
)


@router.get("/{document_id}/suggested-questions", response_model=SuggestionsOut)
async def suggested_questions(
    document_id: uuid.UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> SuggestionsOut:
    """Questions to start a chat about a document you can read (none until it is ready)."""
    questions, source = await service.suggested_questions(
        session, settings=settings, user_id=user.id, document_id=document_id
    )
    return SuggestionsOut(document_id=document_id, questions=questions, source=source)

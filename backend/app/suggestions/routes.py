from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from app.auth.deps import CurrentUser
from app.core.db import SessionDep
from app.core.errors import Unprocessable
from app.core.openapi import ERROR_RESPONSE
from app.core.routing import API_PREFIX, api_router
from app.core.settings import SettingsDep
from app.suggestions import service
from app.suggestions.schemas import ScopeSuggestionsOut, SuggestionsOut

ERRORS = {401: ERROR_RESPONSE, 404: ERROR_RESPONSE, 422: ERROR_RESPONSE, 503: ERROR_RESPONSE}
router = api_router(prefix=f"{API_PREFIX}/documents", tags=["documents"], responses=ERRORS)
scope_router = api_router(
    prefix=f"{API_PREFIX}/suggested-questions", tags=["chats"], responses=ERRORS
)
MAX_SCOPE_DOCUMENTS = 200


@router.get("/{document_id}/suggested-questions", response_model=SuggestionsOut)
async def suggested_questions(
    document_id: uuid.UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> SuggestionsOut:
    """Questions to start a chat about a document you can read (none until it is ready)."""
    questions, source = await service.suggested_questions(
        session, settings=settings, user_id=user.id, document_id=document_id
    )
    return SuggestionsOut(document_id=document_id, questions=questions, source=source)


def _document_ids(raw: str | None) -> list[uuid.UUID]:
    parts = list(dict.fromkeys(part.strip() for part in (raw or "").split(",") if part.strip()))
    if len(parts) > MAX_SCOPE_DOCUMENTS:
        raise Unprocessable(f"document_ids: give at most {MAX_SCOPE_DOCUMENTS} documents.")
    try:
        return [uuid.UUID(part) for part in parts]
    except ValueError:
        raise Unprocessable("document_ids: give document ids, comma-separated.") from None


@scope_router.get("", response_model=ScopeSuggestionsOut)
async def scope_suggested_questions(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    collection_id: Annotated[
        uuid.UUID | None,
        Query(description="A collection you can see (404 otherwise): its newest ready documents"),
    ] = None,
    document_ids: Annotated[
        str | None,
        Query(
            max_length=MAX_SCOPE_DOCUMENTS * 37,
            description="The chat's chosen documents, comma-separated (those you cannot read "
            "are left out): its first ready ones",
        ),
    ] = None,
) -> ScopeSuggestionsOut:
    """Questions to start a chat with its scope: the chosen documents, a collection, or
    (neither) everything you can read, made from its first or newest ready documents."""
    found = await service.scope_suggestions(
        session,
        settings=settings,
        user_id=user.id,
        collection_id=collection_id,
        document_ids=_document_ids(document_ids),
    )
    return ScopeSuggestionsOut(questions=found.questions, document_ids=found.document_ids)

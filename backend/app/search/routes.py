from __future__ import annotations

from app.auth.deps import CurrentUser, per_user_limit
from app.core.db import SessionDep
from app.core.openapi import ERROR_RESPONSE
from app.core.routing import API_PREFIX, api_router
from app.core.settings import SettingsDep
from app.search import service
from app.search.highlights import cite_for_query, excerpt
from app.search.schemas import SearchHitOut, SearchIn, SearchOut

router = api_router(
    prefix=f"{API_PREFIX}/search",
    tags=["search"],
    responses={400: ERROR_RESPONSE, 401: ERROR_RESPONSE, 422: ERROR_RESPONSE, 503: ERROR_RESPONSE},
)


@router.post(
    "",
    response_model=SearchOut,
    responses={429: ERROR_RESPONSE},
    dependencies=[per_user_limit("search", lambda settings: settings.search_rate_limit)],
)
async def search(
    body: SearchIn, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> SearchOut:
    passages = await service.search(
        session,
        settings=settings,
        user_id=user.id,
        query=body.query,
        k=body.k,
        document_ids=body.document_ids,
    )
    return SearchOut(
        results=[
            SearchHitOut.of(passage, excerpt(passage, cite_for_query(passage, body.query)))
            for passage in passages
        ]
    )

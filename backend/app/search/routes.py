from __future__ import annotations

from app.auth.deps import CurrentUser, per_user_limit
from app.core.db import SessionDep
from app.core.openapi import ERROR_RESPONSE
from app.core.routing import API_PREFIX, api_router
from app.core.settings import SettingsDep
from app.search.highlights import cite_for_query, excerpt
from app.search.readable import search_readable
from app.search.schemas import SearchHitOut, SearchIn, SearchOut
from app.sharing import access

router = api_router(
    prefix=f"{API_PREFIX}/search",
    tags=["search"],
    responses={400: ERROR_RESPONSE, 401: ERROR_RESPONSE, 422: ERROR_RESPONSE, 503: ERROR_RESPONSE},
)


@router.post(
    "",
    response_model=SearchOut,
    responses={404: ERROR_RESPONSE, 429: ERROR_RESPONSE},
    dependencies=[per_user_limit("search", lambda settings: settings.search_rate_limit)],
)
async def search(
    body: SearchIn, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> SearchOut:
    """Everything you can read, or a collection's documents (404 for a collection you
    cannot see), or documents among those you can read."""
    scope = await access.read_scope(
        session,
        reader_id=user.id,
        collection_id=body.collection_id,
        document_ids=body.document_ids or None,
    )
    passages = await search_readable(
        session, settings=settings, scope=scope, query=body.query, k=body.k
    )
    return SearchOut(
        results=[
            SearchHitOut.of(passage, excerpt(passage, cite_for_query(passage, body.query)))
            for passage in passages
        ]
    )

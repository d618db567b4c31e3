from __future__ import annotations

from app.auth.deps import CurrentUser, SettingsDep
from app.core.db import SessionDep
from app.core.routing import API_PREFIX, api_router
from app.search import service
from app.search.schemas import SearchHitOut, SearchIn, SearchOut
from app.search.snippets import make_snippet

router = api_router(prefix=f"{API_PREFIX}/search", tags=["search"])


@router.post("", response_model=SearchOut)
async def search(
    body: SearchIn, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> SearchOut:
    hits = await service.search(
        session,
        settings=settings,
        user_id=user.id,
        query=body.query,
        k=body.k,
        document_ids=body.document_ids,
    )
    return SearchOut(
        results=[
            SearchHitOut(
                chunk_id=hit.chunk_id,
                document_id=hit.document_id,
                filename=hit.filename,
                content_type=hit.content_type,
                page_start=hit.page_start,
                page_end=hit.page_end,
                heading_path=hit.heading_path,
                snippet=make_snippet(hit.text, body.query),
                text=hit.text,
                char_start=hit.char_start,
                char_end=hit.char_end,
                score=round(hit.score, 6),
            )
            for hit in hits
        ]
    )

from __future__ import annotations

from typing import Any

from app.auth.deps import CurrentUser, SettingsDep
from app.core.db import SessionDep
from app.core.routing import API_PREFIX, api_router
from app.search import service
from app.search.schemas import SearchHitOut, SearchIn, SearchOut, passage_fields

# OpenAPI metadata: every error leaves as {"error": {"code", "message", "request_id"}}.
_ERROR: dict[str, Any] = {
    "description": "Error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message", "request_id"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "request_id": {"type": "string"},
                            "details": {"type": "array", "items": {"type": "object"}},
                        },
                    }
                },
            }
        }
    },
}

router = api_router(
    prefix=f"{API_PREFIX}/search",
    tags=["search"],
    responses={400: _ERROR, 401: _ERROR, 422: _ERROR, 503: _ERROR},
)


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
                **passage_fields(hit, body.query), heading_path=hit.heading_path, text=hit.text
            )
            for hit in hits
        ]
    )

"""The signed-in user's own account: delete it with all its data, or export that data."""

from __future__ import annotations

from fastapi import BackgroundTasks, Response, status
from fastapi.responses import StreamingResponse

from app.account import export, service
from app.account.schemas import DeleteAccountIn
from app.auth.deps import SignedInUser
from app.core.db import SessionDep, SessionmakerDep
from app.core.openapi import ERROR_RESPONSE
from app.core.ratelimit import RateLimitDep
from app.core.routing import API_PREFIX, api_router
from app.documents.routes import OriginalsDep

router = api_router(
    prefix=f"{API_PREFIX}/auth/me",
    tags=["auth"],
    responses={
        400: ERROR_RESPONSE,
        401: ERROR_RESPONSE,
        403: ERROR_RESPONSE,
        422: ERROR_RESPONSE,
        503: ERROR_RESPONSE,
    },
)

# Password guesses from a session that is not its owner's.
DELETE_LIMIT = "5/minute;20/day"
EXPORT_LIMIT = "5/hour"


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, responses={429: ERROR_RESPONSE})
async def delete_account(
    body: DeleteAccountIn,
    user: SignedInUser,
    session: SessionDep,
    originals: OriginalsDep,
    gate: RateLimitDep,
    background: BackgroundTasks,
) -> Response:
    """Delete the account and all its data: documents, originals, passages, chats, sign-ins
    and API keys. Confirmed with the account's password."""
    gate.hit(DELETE_LIMIT, "delete-account", str(user.id))
    removed = await service.delete_account(session, user=user, password=body.password)
    # After the response, i.e. after the commit: a failed delete never loses an original.
    for kind, document_id in removed:
        background.add_task(originals.forget, kind=kind, document_id=document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "Originals and chats"},
        429: ERROR_RESPONSE,
    },
)
async def export_account(
    user: SignedInUser, sessionmaker: SessionmakerDep, originals: OriginalsDep, gate: RateLimitDep
) -> StreamingResponse:
    """A zip of every original and every chat (JSON and Markdown), written as it downloads."""
    gate.hit(EXPORT_LIMIT, "export-account", str(user.id))
    return StreamingResponse(
        export.export_archive(sessionmaker, originals, user_id=user.id),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{export.archive_filename()}"',
            "Cache-Control": "no-store",
        },
    )

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response, status
from fastapi.responses import StreamingResponse

from app.auth.deps import CurrentUser, per_user_limit
from app.chat import service
from app.chat.answering import prepare_answer, stream_answer
from app.chat.schemas import ChatCreate, ChatDetail, ChatOut, ChatUpdate, MessageIn, MessageOut
from app.chat.stream import STREAM_HEADERS
from app.core.db import SessionDep, SessionmakerDep
from app.core.openapi import ERROR_RESPONSE
from app.core.pagination import Page, page_params
from app.core.routing import API_PREFIX, api_router
from app.core.settings import SettingsDep

router = api_router(
    prefix=f"{API_PREFIX}/chats",
    tags=["chats"],
    responses={400: ERROR_RESPONSE, 401: ERROR_RESPONSE, 422: ERROR_RESPONSE, 503: ERROR_RESPONSE},
)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ChatOut, responses={404: ERROR_RESPONSE}
)
async def create_chat(body: ChatCreate, user: CurrentUser, session: SessionDep) -> ChatOut:
    chat = await service.create_chat(
        session,
        user_id=user.id,
        title=body.title,
        document_ids=body.document_ids,
        collection_id=body.collection_id,
    )
    return ChatOut.model_validate(chat)


@router.get("", response_model=list[ChatOut])
async def list_chats(
    user: CurrentUser,
    session: SessionDep,
    page: Annotated[Page, Depends(page_params(default_limit=100))],
) -> list[ChatOut]:
    chats = await service.list_chats(session, user_id=user.id, limit=page.limit, offset=page.offset)
    return [ChatOut.model_validate(c) for c in chats]


@router.get("/{chat_id}", response_model=ChatDetail, responses={404: ERROR_RESPONSE})
async def get_chat(chat_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> ChatDetail:
    chat = await service.get_chat(session, user_id=user.id, chat_id=chat_id)
    messages = await service.list_messages(session, user_id=user.id, chat_id=chat.id)
    return ChatDetail(
        **ChatOut.model_validate(chat).model_dump(),
        messages=[MessageOut.model_validate(m) for m in messages],
    )


@router.patch("/{chat_id}", response_model=ChatOut, responses={404: ERROR_RESPONSE})
async def update_chat(
    chat_id: uuid.UUID, body: ChatUpdate, user: CurrentUser, session: SessionDep
) -> ChatOut:
    chat = await service.update_chat(
        session, user_id=user.id, chat_id=chat_id, changes=body.model_dump(exclude_unset=True)
    )
    return ChatOut.model_validate(chat)


@router.delete(
    "/{chat_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: ERROR_RESPONSE}
)
async def delete_chat(chat_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete_chat(session, user_id=user.id, chat_id=chat_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{chat_id}/messages",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The answer stream"},
        404: ERROR_RESPONSE,
        429: ERROR_RESPONSE,
    },
    dependencies=[per_user_limit("chat", lambda settings: settings.chat_rate_limit)],
)
async def send_message(
    chat_id: uuid.UUID,
    body: MessageIn,
    user: CurrentUser,
    session: SessionDep,
    sessionmaker: SessionmakerDep,
    settings: SettingsDep,
) -> StreamingResponse:
    # The request's transaction stores the question: it commits when this returns, before
    # the stream starts. The answer stores itself (a session of its own) when the stream ends.
    prepared = await prepare_answer(
        session, settings=settings, user_id=user.id, chat_id=chat_id, body=body
    )
    return StreamingResponse(
        stream_answer(sessionmaker, settings, prepared),
        media_type="text/event-stream",
        headers=STREAM_HEADERS,
    )

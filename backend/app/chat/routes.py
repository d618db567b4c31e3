from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.factory import llm_enabled
from app.auth.deps import CurrentUser, per_user_limit
from app.chat import service
from app.chat.answering import PreparedAnswer, prepare_answer, prepare_regeneration, stream_answer
from app.chat.export import MARKDOWN_MEDIA_TYPE, chat_export, chat_markdown, export_filename
from app.chat.runs import AnswerRunsDep
from app.chat.schemas import (
    ChatCreate,
    ChatDetail,
    ChatExport,
    ChatListItem,
    ChatOut,
    ChatSnippet,
    ChatUpdate,
    FeedbackIn,
    FeedbackOut,
    MessageIn,
    MessageOut,
    ModelOut,
    ModelsOut,
)
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
models_router = api_router(
    prefix=f"{API_PREFIX}/models",
    tags=["chats"],
    responses={401: ERROR_RESPONSE, 503: ERROR_RESPONSE},
)
EXTRACTIVE_LABEL = "Quotes from your documents (no language model)"


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ChatOut, responses={404: ERROR_RESPONSE}
)
async def create_chat(
    body: ChatCreate, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> ChatOut:
    chat = await service.create_chat(
        session,
        user_id=user.id,
        title=body.title,
        document_ids=body.document_ids,
        collection_id=body.collection_id,
        model=body.model,
        settings=settings,
    )
    return ChatOut.model_validate(chat)


@router.get("", response_model=list[ChatListItem])
async def list_chats(
    user: CurrentUser,
    session: SessionDep,
    page: Annotated[Page, Depends(page_params(default_limit=100))],
    q: Annotated[
        str | None,
        Query(
            max_length=500,
            description="Search your chats' titles, questions and answers (web search syntax: "
            'words, "a phrase", -word, or). Best match first, each with `snippet`.',
        ),
    ] = None,
    archived: Annotated[
        bool, Query(description="true: only archived chats; false: the others")
    ] = False,
) -> list[ChatListItem]:
    """Your chats: pinned first, then by latest activity; with `q`, those that match."""
    if q is not None and q.strip():
        found = await service.search_chats(
            session,
            user_id=user.id,
            q=q.replace("\x00", " "),
            archived=archived,
            limit=page.limit,
            offset=page.offset,
        )
        return [
            ChatListItem(
                **ChatOut.model_validate(chat).model_dump(),
                snippet=ChatSnippet.model_validate(snippet, from_attributes=True),
            )
            for chat, snippet in found
        ]
    chats = await service.list_chats(
        session, user_id=user.id, archived=archived, limit=page.limit, offset=page.offset
    )
    return [ChatListItem.model_validate(c) for c in chats]


@router.get("/{chat_id}", response_model=ChatDetail, responses={404: ERROR_RESPONSE})
async def get_chat(chat_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> ChatDetail:
    chat = await service.get_chat(session, user_id=user.id, chat_id=chat_id)
    shown = await service.list_messages(session, user_id=user.id, chat_id=chat.id)
    return _detail(chat, shown)


def _detail(chat: object, shown: list[service.ShownMessage]) -> ChatDetail:
    return ChatDetail(
        **ChatOut.model_validate(chat).model_dump(),
        messages=[MessageOut.of(s.message, s.version_ids) for s in shown],
    )


@router.patch("/{chat_id}", response_model=ChatOut, responses={404: ERROR_RESPONSE})
async def update_chat(
    chat_id: uuid.UUID,
    body: ChatUpdate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> ChatOut:
    chat = await service.update_chat(
        session,
        user_id=user.id,
        chat_id=chat_id,
        changes=body.model_dump(exclude_unset=True),
        settings=settings,
    )
    return ChatOut.model_validate(chat)


@router.delete(
    "/{chat_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: ERROR_RESPONSE}
)
async def delete_chat(chat_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete_chat(session, user_id=user.id, chat_id=chat_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


ANSWER_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "The answer stream. The answer is written to its end (and saved as it "
        "grows) even if the client goes away: read it back with "
        "GET /chats/{chat_id}/messages/{message_id} (its id is the `start` event's `messageId`)",
    },
    404: ERROR_RESPONSE,
    429: ERROR_RESPONSE,
}


async def _answer_stream(
    session: AsyncSession,
    sessionmaker: SessionmakerDep,
    settings: SettingsDep,
    runs: AnswerRunsDep,
    prepared: PreparedAnswer,
) -> StreamingResponse:
    # The question and the answer's row are committed before the answer is written: the
    # writer saves its progress into that row, from a task that outlives this request.
    await session.commit()
    return StreamingResponse(
        runs.start(stream_answer(sessionmaker, settings, prepared)),
        media_type="text/event-stream",
        headers=STREAM_HEADERS,
    )


@router.post(
    "/{chat_id}/messages",
    response_class=StreamingResponse,
    responses=ANSWER_STREAM,
    dependencies=[per_user_limit("chat", lambda settings: settings.chat_rate_limit)],
)
async def send_message(
    chat_id: uuid.UUID,
    body: MessageIn,
    user: CurrentUser,
    session: SessionDep,
    sessionmaker: SessionmakerDep,
    settings: SettingsDep,
    runs: AnswerRunsDep,
) -> StreamingResponse:
    """Ask a question (with `replaces`: edit a question and send it again, as a new version
    of it) and stream its answer."""
    prepared = await prepare_answer(
        session, settings=settings, user_id=user.id, chat_id=chat_id, body=body
    )
    return await _answer_stream(session, sessionmaker, settings, runs, prepared)


@router.post(
    "/{chat_id}/messages/{message_id}/regenerate",
    response_class=StreamingResponse,
    responses=ANSWER_STREAM,
    dependencies=[per_user_limit("chat", lambda settings: settings.chat_rate_limit)],
)
async def regenerate_answer(
    chat_id: uuid.UUID,
    message_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    sessionmaker: SessionmakerDep,
    settings: SettingsDep,
    runs: AnswerRunsDep,
) -> StreamingResponse:
    """A new version of answer `message_id` (or a new answer to question `message_id`), its
    sources searched again within the chat's scope, streamed like a new answer; it becomes
    the version shown. Retrying a failed answer is regenerating it."""
    prepared = await prepare_regeneration(
        session, settings=settings, user_id=user.id, chat_id=chat_id, message_id=message_id
    )
    return await _answer_stream(session, sessionmaker, settings, runs, prepared)


@router.get(
    "/{chat_id}/messages/{message_id}", response_model=MessageOut, responses={404: ERROR_RESPONSE}
)
async def get_message(
    chat_id: uuid.UUID, message_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> MessageOut:
    """One message, any version; poll an answer whose `status` is 'streaming' to follow it."""
    await service.get_chat(session, user_id=user.id, chat_id=chat_id)
    shown = await service.get_message(
        session, user_id=user.id, chat_id=chat_id, message_id=message_id
    )
    return MessageOut.of(shown.message, shown.version_ids)


@router.post(
    "/{chat_id}/messages/{message_id}/select",
    response_model=ChatDetail,
    responses={404: ERROR_RESPONSE},
)
async def select_version(
    chat_id: uuid.UUID, message_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> ChatDetail:
    """Show version `message_id` of its turn (`< 2/3 >`); the conversation after it shows
    the versions last selected under it. Follow-up questions use what is shown."""
    chat = await service.get_chat(session, user_id=user.id, chat_id=chat_id)
    shown = await service.select_version(
        session, user_id=user.id, chat_id=chat_id, message_id=message_id
    )
    return _detail(chat, shown)


@router.post(
    "/{chat_id}/messages/{message_id}/stop",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: ERROR_RESPONSE},
)
async def stop_answer(
    chat_id: uuid.UUID, message_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Response:
    """Stop an answer being written: it keeps what it wrote, marked partial (a no-op once
    it is done)."""
    await service.stop_answer(session, user_id=user.id, chat_id=chat_id, message_id=message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{chat_id}/export",
    response_model=ChatExport,
    responses={
        200: {
            "content": {"text/markdown": {"schema": {"type": "string"}}},
            "description": "`format=markdown`: the conversation as shown, each answer with its "
            "numbered sources and their pages; `format=json`: a ChatExport (every version). "
            "Sent as an attachment.",
        },
        404: ERROR_RESPONSE,
    },
)
async def export_chat(
    chat_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    export_format: Annotated[Literal["markdown", "json"], Query(alias="format")] = "markdown",
) -> Response:
    chat = await service.get_chat(session, user_id=user.id, chat_id=chat_id)
    messages = await service.all_messages(session, user_id=user.id, chat_id=chat_id)
    export = chat_export(chat, messages, exported_at=datetime.now(UTC))
    if export_format == "markdown":
        return Response(
            chat_markdown(export),
            media_type=MARKDOWN_MEDIA_TYPE,
            headers=_attachment(export_filename(export.chat, "md")),
        )
    return JSONResponse(
        export.model_dump(mode="json"), headers=_attachment(export_filename(export.chat, "json"))
    )


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@router.put(
    "/{chat_id}/messages/{message_id}/feedback",
    response_model=FeedbackOut,
    responses={404: ERROR_RESPONSE},
)
async def rate_answer(
    chat_id: uuid.UUID,
    message_id: uuid.UUID,
    body: FeedbackIn,
    user: CurrentUser,
    session: SessionDep,
) -> FeedbackOut:
    """Rate an answer (1 good, -1 bad) with an optional comment; rating again replaces it.
    The rating keeps the question, the answer and its passages as they are now."""
    feedback = await service.set_feedback(
        session,
        user_id=user.id,
        chat_id=chat_id,
        message_id=message_id,
        rating=body.rating,
        comment=body.comment,
    )
    return FeedbackOut.model_validate(feedback)


@router.delete(
    "/{chat_id}/messages/{message_id}/feedback",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: ERROR_RESPONSE},
)
async def clear_rating(
    chat_id: uuid.UUID, message_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Response:
    await service.clear_feedback(session, user_id=user.id, chat_id=chat_id, message_id=message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@models_router.get("", response_model=ModelsOut)
async def list_models(user: CurrentUser, settings: SettingsDep) -> ModelsOut:
    """The chat models a chat can be answered by (LLM_MODELS), and the default."""
    default = settings.llm_model if llm_enabled(settings) else EXTRACTIVE_LABEL
    return ModelsOut(
        default=ModelOut(id=None, label=default),
        models=[ModelOut(id=model.id, label=model.label) for model in settings.llm_models],
    )

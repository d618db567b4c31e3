from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.types import TextIn
from app.search.highlights import Excerpt
from app.search.passages import Passage
from app.search.schemas import PassageOut

COLLECTION_SCOPE = "Answer from this collection's documents (null: everything you can read)"
MODEL_CHOICE = (
    "The chat model that answers: an id from GET /api/v1/models (null: the default answerer)"
)


class ChatCreate(BaseModel):
    title: TextIn | None = Field(default=None, max_length=200)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)
    collection_id: uuid.UUID | None = Field(default=None, description=COLLECTION_SCOPE)
    model: str | None = Field(default=None, max_length=64, description=MODEL_CHOICE)


class ChatUpdate(BaseModel):
    title: TextIn | None = Field(default=None, min_length=1, max_length=200)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)
    collection_id: uuid.UUID | None = Field(default=None, description=COLLECTION_SCOPE)
    model: str | None = Field(default=None, max_length=64, description=MODEL_CHOICE)
    pinned: bool | None = Field(default=None, description="Pin the chat to the top of the list")
    archived: bool | None = Field(
        default=None, description="Archive the chat: hidden from the list unless archived=true"
    )


class ChatOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    document_ids: list[uuid.UUID] | None
    collection_id: uuid.UUID | None = Field(description=COLLECTION_SCOPE)
    model: str | None = Field(default=None, description=MODEL_CHOICE)
    pinned_at: datetime | None = None
    archived_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class ChatSnippet(BaseModel):
    """Where a search matched a chat: a stretch of plain text with the matched words as
    character ranges (never markup: render the text, mark the ranges)."""

    message_id: uuid.UUID | None = Field(description="The matching message (null: the title)")
    role: Literal["user", "assistant", "title"]
    text: str
    highlights: list[tuple[int, int]] = Field(
        description="[start, end) ranges of `text` (in Unicode code points) that matched"
    )


class ChatListItem(ChatOut):
    snippet: ChatSnippet | None = Field(
        default=None, description="With `q`: the best match in the chat, highlighted"
    )


class Citation(PassageOut):
    n: int
    source_deleted: bool = Field(
        default=False,
        description="The cited document has been deleted since the answer, or is no longer "
        "shared with you",
    )

    @classmethod
    def of(cls, n: int, passage: Passage, excerpt: Excerpt) -> Citation:
        return cls(n=n, **cls.fields(passage, excerpt))


MessageStatus = Literal["streaming", "done", "failed"]


class FeedbackIn(BaseModel):
    rating: Literal[1, -1] = Field(description="1: a good answer, -1: a bad one")
    comment: TextIn | None = Field(default=None, max_length=4000)


class FeedbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rating: Literal[1, -1]
    comment: str | None
    updated_at: datetime


class MessageOut(BaseModel):
    """A question or an answer. Messages with the same `parent_id` are the versions of one
    turn (answers regenerated, questions edited and sent again), `version` of
    `version_count`; the conversation shows, for each turn, the version selected last."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    parent_id: uuid.UUID | None = Field(
        default=None,
        description="The message this one follows: a question's is the answer before it "
        "(null for a first question), an answer's is its question",
    )
    role: Literal["user", "assistant"]
    content: str = Field(description="While `status` is 'streaming', the text written so far")
    status: MessageStatus = Field(
        default="done",
        description="'streaming': the answer is still being written (read it again to follow "
        "it); 'failed': it ended with `error`, and can be regenerated",
    )
    error: str | None = Field(default=None, description="Why a failed answer failed")
    partial: bool
    extractive: bool
    search_query: str | None = Field(
        default=None, description="What was searched to answer (the question, or rewritten)"
    )
    citations: list[Citation]
    version: int = Field(default=1, description="Which version of its turn this is (from 1)")
    version_count: int = Field(default=1, description="How many versions its turn has")
    version_ids: list[uuid.UUID] = Field(
        default_factory=list,
        description="The ids of its turn's versions, oldest first (select one with "
        "POST /chats/{chat_id}/messages/{message_id}/select)",
    )
    feedback: FeedbackOut | None = Field(default=None, description="Your rating of this answer")
    created_at: datetime

    @classmethod
    def of(cls, message: Any, version_ids: Sequence[uuid.UUID]) -> MessageOut:
        out = cls.model_validate(message)
        out.version_ids = list(version_ids)
        out.version = list(version_ids).index(out.id) + 1
        out.version_count = len(version_ids)
        return out


class ChatDetail(ChatOut):
    messages: list[MessageOut]


class ChatExport(BaseModel):
    """A chat exported as JSON (`GET /chats/{chat_id}/export?format=json`)."""

    format: Literal["docchat.chat.v1"] = "docchat.chat.v1"
    exported_at: datetime
    chat: ChatOut
    messages: list[MessageOut] = Field(description="The conversation as shown, oldest first")
    all_messages: list[MessageOut] = Field(
        description="Every message, every version (shown or not), oldest first; `parent_id` "
        "links them into the conversation's tree"
    )


class MessageIn(BaseModel):
    content: TextIn = Field(min_length=1, max_length=8000)
    replaces: uuid.UUID | None = Field(
        default=None,
        description="Edit and send again: the question this one is a new version of (it "
        "follows the same answer; the turns after the old version stay with it)",
    )
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)
    collection_id: uuid.UUID | None = Field(
        default=None, description="This question only: answer from this collection's documents"
    )


class ModelOut(BaseModel):
    id: str | None = Field(description="What ChatCreate/ChatUpdate `model` takes (null: default)")
    label: str


class ModelsOut(BaseModel):
    default: ModelOut = Field(description="What answers a chat without a model of its own")
    models: list[ModelOut] = Field(description="The models configured in LLM_MODELS")

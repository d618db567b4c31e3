from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

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


class FeedbackIn(BaseModel):
    rating: Literal[1, -1] = Field(description="1: a good answer, -1: a bad one")
    comment: TextIn | None = Field(default=None, max_length=4000)


class FeedbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rating: Literal[1, -1]
    comment: str | None
    updated_at: datetime


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    role: Literal["user", "assistant"]
    content: str
    partial: bool
    extractive: bool
    search_query: str | None = Field(
        default=None, description="What was searched to answer (the question, or rewritten)"
    )
    citations: list[Citation]
    feedback: FeedbackOut | None = Field(default=None, description="Your rating of this answer")
    created_at: datetime


class ChatDetail(ChatOut):
    messages: list[MessageOut]


class MessageIn(BaseModel):
    content: TextIn = Field(min_length=1, max_length=8000)
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

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


class ChatCreate(BaseModel):
    title: TextIn | None = Field(default=None, max_length=200)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)
    collection_id: uuid.UUID | None = Field(default=None, description=COLLECTION_SCOPE)


class ChatUpdate(BaseModel):
    title: TextIn | None = Field(default=None, min_length=1, max_length=200)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)
    collection_id: uuid.UUID | None = Field(default=None, description=COLLECTION_SCOPE)


class ChatOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    document_ids: list[uuid.UUID] | None
    collection_id: uuid.UUID | None = Field(description=COLLECTION_SCOPE)
    created_at: datetime
    updated_at: datetime


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
    created_at: datetime


class ChatDetail(ChatOut):
    messages: list[MessageOut]


class MessageIn(BaseModel):
    content: TextIn = Field(min_length=1, max_length=8000)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)
    collection_id: uuid.UUID | None = Field(
        default=None, description="This question only: answer from this collection's documents"
    )

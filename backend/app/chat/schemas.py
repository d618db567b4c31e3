from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.types import TextIn


class ChatCreate(BaseModel):
    title: TextIn | None = Field(default=None, max_length=200)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)


class ChatUpdate(BaseModel):
    title: TextIn | None = Field(default=None, min_length=1, max_length=200)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)


class ChatOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    document_ids: list[uuid.UUID] | None
    created_at: datetime
    updated_at: datetime


class Citation(BaseModel):
    n: int
    chunk_id: int
    document_id: uuid.UUID
    filename: str
    content_type: str
    page_start: int
    page_end: int
    snippet: str
    char_start: int
    char_end: int
    score: float


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    role: Literal["user", "assistant"]
    content: str
    partial: bool
    extractive: bool
    citations: list[Citation]
    created_at: datetime


class ChatDetail(ChatOut):
    messages: list[MessageOut]


class MessageIn(BaseModel):
    content: TextIn = Field(min_length=1, max_length=8000)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)

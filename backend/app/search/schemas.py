from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class SearchIn(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=10, ge=1, le=50)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)


class SearchHitOut(BaseModel):
    chunk_id: int
    document_id: uuid.UUID
    filename: str
    content_type: str
    page_start: int
    page_end: int
    heading_path: list[str]
    snippet: str
    text: str
    char_start: int
    char_end: int
    score: float


class SearchOut(BaseModel):
    results: list[SearchHitOut]

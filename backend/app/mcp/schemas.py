"""What the MCP tools return: compact shapes for an assistant to read and cite."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class PassageResult(BaseModel):
    chunk_id: int = Field(description="Pass to get_passage to read the passage again")
    document_id: uuid.UUID
    filename: str
    page: int | None = Field(description="The page the passage is printed on (its first)")
    page_end: int
    sheet: str | None = None
    row_start: int | None = None
    row_end: int | None = None
    heading_path: list[str]
    text: str
    score: float | None = Field(default=None, description="Search relevance (search only)")


class DocumentSummary(BaseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    status: str
    page_count: int | None
    chunk_count: int
    error: str | None
    created_at: datetime


class CitedSource(BaseModel):
    n: int = Field(description="The number the answer cites as [n]")
    chunk_id: int
    document_id: uuid.UUID
    filename: str
    page: int | None
    snippet: str


class AskResult(BaseModel):
    answer: str
    citations: list[CitedSource]
    extractive: bool = Field(
        description="The answer quotes the documents (no language model is configured)"
    )
    chat_id: uuid.UUID = Field(description="The chat in DocChat that keeps this question")

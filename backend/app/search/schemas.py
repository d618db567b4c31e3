from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from app.core.types import UnicodeText
from app.search.retrieval import Hit
from app.search.snippets import make_snippet


class SearchIn(BaseModel):
    # NULs allowed: search treats them as spaces.
    query: UnicodeText = Field(min_length=1, max_length=2000)
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


def passage_fields(hit: Hit, query: str) -> dict[str, Any]:
    """What search results and citations share: where the passage is, and its excerpt."""
    return {
        "chunk_id": hit.chunk_id,
        "document_id": hit.document_id,
        "filename": hit.filename,
        "content_type": hit.content_type,
        "page_start": hit.page_start,
        "page_end": hit.page_end,
        "snippet": make_snippet(hit.text, query),
        "char_start": hit.char_start,
        "char_end": hit.char_end,
        "score": round(hit.score, 6),
    }

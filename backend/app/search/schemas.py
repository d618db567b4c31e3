from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from app.core.types import UnicodeText
from app.search.highlights import Excerpt
from app.search.passages import Passage


class SearchIn(BaseModel):
    # NULs allowed: search treats them as spaces.
    query: UnicodeText = Field(min_length=1, max_length=2000)
    k: int = Field(default=10, ge=1, le=50)
    document_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=500, description="Only these documents (those you can read)"
    )
    collection_id: uuid.UUID | None = Field(
        default=None,
        description="Only this collection's documents; without a collection or documents, "
        "everything you can read",
    )


class HighlightOut(BaseModel):
    """A span of a page's stored text (GET /documents/{id}/pages/{page}) to mark."""

    page: int
    start: int
    end: int
    text: str


class PassageOut(BaseModel):
    """What search results and citations share: where the passage is, and its excerpt."""

    chunk_id: int
    document_id: uuid.UUID
    filename: str
    content_type: str
    page: int | None = Field(
        default=None, description="The page where the cited sentence is printed"
    )
    page_start: int
    page_end: int
    sheet: str | None = Field(
        default=None, description="A spreadsheet passage's sheet (none for CSV/TSV files)"
    )
    row_start: int | None = Field(
        default=None, description="A spreadsheet passage's first row (the sheet's numbering)"
    )
    row_end: int | None = Field(default=None, description="A spreadsheet passage's last row")
    highlights: list[HighlightOut] = Field(
        default_factory=list, description="The cited sentences, as spans of page texts"
    )
    snippet: str
    snippet_highlights: list[tuple[int, int]] = Field(
        default_factory=list, description="Where the cited sentences are in the snippet"
    )
    char_start: int
    char_end: int
    score: float

    @staticmethod
    def fields(passage: Passage, excerpt: Excerpt) -> dict[str, Any]:
        """This shape's fields for a passage shown with ``excerpt``."""
        return {
            "chunk_id": passage.chunk_id,
            "document_id": passage.document_id,
            "filename": passage.filename,
            "content_type": passage.content_type,
            "page": excerpt.location.page,
            "page_start": passage.page_start,
            "page_end": passage.page_end,
            "sheet": passage.sheet,
            "row_start": passage.row_start,
            "row_end": passage.row_end,
            "highlights": [vars(highlight) for highlight in excerpt.location.highlights],
            "snippet": excerpt.snippet,
            "snippet_highlights": excerpt.snippet_highlights,
            "char_start": passage.char_start,
            "char_end": passage.char_end,
            "score": round(passage.score, 6),
        }


class SearchHitOut(PassageOut):
    heading_path: list[str]
    text: str

    @classmethod
    def of(cls, passage: Passage, excerpt: Excerpt) -> SearchHitOut:
        return cls(
            **cls.fields(passage, excerpt), heading_path=passage.heading_path, text=passage.text
        )


class SearchOut(BaseModel):
    results: list[SearchHitOut]

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from app.core.types import UnicodeText
from app.search.highlights import CitedLocation, cite_for_query
from app.search.retrieval import Hit
from app.search.snippets import make_snippet


class SearchIn(BaseModel):
    # NULs allowed: search treats them as spaces.
    query: UnicodeText = Field(min_length=1, max_length=2000)
    k: int = Field(default=10, ge=1, le=50)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)


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


class SearchHitOut(PassageOut):
    heading_path: list[str]
    text: str


class SearchOut(BaseModel):
    results: list[SearchHitOut]


def passage_fields(hit: Hit, query: str, location: CitedLocation | None = None) -> dict[str, Any]:
    """Where the passage is cited (for ``query``, unless a ``location`` is given), and its
    excerpt around the cited sentences."""
    location = location or cite_for_query(hit, query)
    snippet, marks = make_snippet(hit.text, location.focus)
    return {
        "chunk_id": hit.chunk_id,
        "document_id": hit.document_id,
        "filename": hit.filename,
        "content_type": hit.content_type,
        "page": location.page,
        "page_start": hit.page_start,
        "page_end": hit.page_end,
        "sheet": hit.sheet,
        "row_start": hit.row_start,
        "row_end": hit.row_end,
        "highlights": [vars(highlight) for highlight in location.highlights],
        "snippet": snippet,
        "snippet_highlights": marks,
        "char_start": hit.char_start,
        "char_end": hit.char_end,
        "score": round(hit.score, 6),
    }

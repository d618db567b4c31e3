"""A passage: a chunk of a user's document as search finds it, with its scores.

The one shape of a found passage inside the app; HTTP shapes (search results, chat
citations) are built from it at the edge.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

# A chunk's text joins its slices of consecutive page texts (``spans``) with this.
PAGE_JOINER = "\n"


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    document_id: uuid.UUID
    filename: str
    content_type: str
    page_start: int
    page_end: int
    heading_path: list[str]
    text: str
    char_start: int
    char_end: int
    score: float
    similarity: float | None
    bm25: float | None
    keyword_coverage: float
    # (page, start, end) slices of the page texts that the text joins; None for chunks
    # indexed before spans were kept.
    spans: list[list[int]] | None = None
    # A spreadsheet passage's sheet and rows (None for other formats).
    sheet: str | None = None
    row_start: int | None = None
    row_end: int | None = None

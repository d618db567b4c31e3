from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.auth.models import User
from app.documents.models import Document, DocumentStatus
from app.documents.parsing import FILE_FAILURES
from app.search.schemas import HighlightOut
from app.sharing.models import Role
from app.sharing.schemas import PersonOut


class DocumentFields(BaseModel):
    """A document's own columns, as every reader sees them."""

    id: uuid.UUID
    filename: str
    content_type: str
    kind: str = Field(description="The format DocChat read it as (pdf, docx, html, image, …)")
    folder: str | None = Field(
        default=None,
        description="The folder it was uploaded from, relative to what was picked "
        "('reports/2024'); null at the top level",
    )
    size_bytes: int
    sha256: str
    page_count: int | None
    chunk_count: int
    status: Literal["queued", "processing", "ready", "failed"]
    progress: int
    stage: str | None
    error: str | None
    source_url: str | None = Field(
        default=None, description="The address a document imported from the web came from"
    )
    ocr_pages: int | None = Field(description="Pages whose text was read by OCR (null: none)")
    notice: str | None = Field(
        description="What the owner should know about a ready document (pages OCR left out)"
    )
    created_at: datetime
    updated_at: datetime


class DocumentOut(DocumentFields):
    owner: PersonOut = Field(description="Who uploaded the document (only they delete it)")
    my_role: Role = Field(
        description="owner: uploaded it; editor: can add it to and remove it from the "
        "collections they edit; viewer: can read it"
    )

    retryable: bool = Field(
        description="A failed document that reindexing may fix; false when the file itself "
        "is the problem (password-protected, damaged): upload a fixed file instead"
    )

    @classmethod
    def of(cls, document: Document, *, owner: User, my_role: Role) -> DocumentOut:
        fields = {name: getattr(document, name) for name in DocumentFields.model_fields}
        retryable = document.status == DocumentStatus.FAILED and document.error not in FILE_FAILURES
        return cls(
            **fields, owner=PersonOut.model_validate(owner), my_role=my_role, retryable=retryable
        )


class UrlImportIn(BaseModel):
    url: str = Field(
        min_length=1,
        max_length=2048,
        description="An http(s) address of a web page (text/html) or a PDF",
        examples=["https://example.com/article"],
    )


class SpanOut(BaseModel):
    start: int
    end: int


class WordBoxOut(BaseModel):
    """A word of an OCR page: its offsets in the page text, and its box in fractions of the
    page's width and height (origin top left)."""

    start: int
    end: int
    left: float
    top: float
    right: float
    bottom: float


class PageOut(BaseModel):
    """DocChat's extracted text of one page: what chunk spans and highlights index."""

    document_id: uuid.UUID
    number: int
    page_count: int
    text: str
    furniture: list[SpanOut] = Field(
        description="Running headers, footers and page numbers: kept out of search and answers"
    )
    title: str | None = Field(
        default=None, description="The sheet's, slide's or chapter's title, if it has one"
    )
    row_numbers: list[int] | None = Field(
        default=None,
        description=(
            "A spreadsheet page: each row of text (rows are separated by a blank line, cells "
            "by ' | ') with its row number in the sheet; the first row is the header"
        ),
    )
    ocr: bool = Field(description="The text was read from the page image by OCR")
    words: list[WordBoxOut] = Field(
        description="OCR pages: a box per word of text, to mark a span of it on the page image"
    )


class ChunkLocationOut(BaseModel):
    """Where a passage is printed: its slices of the page texts."""

    chunk_id: int
    document_id: uuid.UUID
    page: int = Field(description="The page that holds most of the passage")
    page_start: int
    page_end: int
    sheet: str | None = None
    row_start: int | None = None
    row_end: int | None = None
    highlights: list[HighlightOut]


class StatusCountsOut(BaseModel):
    """How many readable documents match a library filter, by status (the status filter
    itself aside, so that every status's count shows next to it)."""

    total: int = Field(description="Matching documents of the statuses asked for (all: every)")
    queued: int
    processing: int
    ready: int
    failed: int

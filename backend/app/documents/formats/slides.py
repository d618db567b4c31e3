"""PowerPoint (PPTX) slides with python-pptx: one page per slide, the slide number its page.

A slide's page holds its title (a heading), the text of its shapes in reading order (top to
bottom, then left to right; groups opened), its tables (a paragraph per row, cells joined
by ``" | "``) and its speaker notes under a "Speaker notes" heading. Empty slides are empty
pages, so page numbers stay slide numbers.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from app.documents.bounded_zip import ArchiveError, ArchiveLimits, ArchiveTooLarge, BoundedZip
from app.documents.formats.limits import FormatLimits
from app.documents.parsing import ANY_WHITESPACE, Page, ParseError, RawBlock, _build_page

DAMAGED_PPTX = "This PowerPoint presentation is damaged and could not be read."
PPTX_ZIP_BOMB = "This PowerPoint presentation is too large when uncompressed (possible zip bomb)."
NOTES_HEADING = "Speaker notes"
TITLE_LEVEL = 1
NOTES_LEVEL = 2
ARCHIVE_LIMITS = ArchiveLimits()
# Groups inside groups: deeper nesting is not read (a hostile file could nest thousands).
MAX_GROUP_DEPTH = 16


def pptx_pages(data: bytes, limits: FormatLimits) -> Iterator[Page]:
    from pptx import Presentation

    try:
        BoundedZip(data, ARCHIVE_LIMITS).verify()
    except ArchiveTooLarge as error:
        raise ParseError(PPTX_ZIP_BOMB) from error
    except ArchiveError as error:
        raise ParseError(DAMAGED_PPTX) from error
    try:
        presentation = Presentation(io.BytesIO(data))
        for number, slide in enumerate(presentation.slides, start=1):
            title, blocks = _slide_blocks(slide)
            page = _build_page(number, blocks)
            yield Page(page.number, page.text, page.blocks, title=title or f"Slide {number}")
    except (ParseError, MemoryError):
        raise
    except Exception as error:  # python-pptx fails in many ways on malformed packages
        raise ParseError(DAMAGED_PPTX) from error


def _slide_blocks(slide: Any) -> tuple[str | None, list[RawBlock]]:
    title_shape = slide.shapes.title
    title = _collapse(title_shape.text_frame.text) if title_shape is not None else ""
    blocks: list[RawBlock] = [(title, TITLE_LEVEL)] if title else []
    title_id = title_shape.shape_id if title_shape is not None else None
    for shape in _reading_order(slide.shapes, depth=0):
        if shape.shape_id == title_id:
            continue
        blocks.extend(_shape_blocks(shape))
    if slide.has_notes_slide:
        notes_frame = slide.notes_slide.notes_text_frame
        notes = [paragraph.text for paragraph in notes_frame.paragraphs] if notes_frame else []
        if any(note.strip() for note in notes):
            blocks.append((NOTES_HEADING, NOTES_LEVEL))
            blocks.extend((note, None) for note in notes)
    return title or None, blocks


def _reading_order(shapes: Any, depth: int) -> Iterator[Any]:
    """Shapes top to bottom, then left to right; a group's shapes in its place."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    def position(shape: Any) -> tuple[int, int]:
        return (shape.top or 0, shape.left or 0)

    for shape in sorted(shapes, key=position):
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            if depth < MAX_GROUP_DEPTH:
                yield from _reading_order(shape.shapes, depth + 1)
        else:
            yield shape


def _shape_blocks(shape: Any) -> Iterator[RawBlock]:
    if getattr(shape, "has_table", False) and shape.has_table:
        for row in shape.table.rows:
            cells = [_collapse(cell.text) for cell in row.cells]
            # Merged cells repeat their text in each grid cell they span.
            distinct = [c for i, c in enumerate(cells) if c and (i == 0 or c != cells[i - 1])]
            yield " | ".join(distinct), None
    elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        for paragraph in shape.text_frame.paragraphs:
            yield paragraph.text, None


def _collapse(text: str) -> str:
    return ANY_WHITESPACE.sub(" ", text).strip()

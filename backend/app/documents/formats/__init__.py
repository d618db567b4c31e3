"""Formats beyond PDF, DOCX, HTML, Markdown and text: spreadsheets (XLSX, XLS, CSV/TSV),
slides (PPTX), e-books (EPUB) and web pages fetched by URL.

Each reader yields ``Page`` objects with the conventions of ``app.documents.parsing``; what a
page is differs per format:

* a spreadsheet: one page per sheet that has data (``Page.title`` is the sheet's name, none
  for CSV/TSV); each row is one paragraph (cells joined by ``" | "``) and
  ``Page.row_numbers`` gives its row number in the sheet (for CSV/TSV: its record number,
  the header being row 1);
* a presentation: one page per slide, page number = slide number, including empty slides;
  title, text boxes, tables (a paragraph per row) and speaker notes;
* an EPUB: one page per chapter with text (spine order), titled by its first heading;
* a web page: a single page 1 of its main content (trafilatura).

``read_pages`` and ``chunk_document`` are what the parse process calls for every kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from app.documents.chunking import ChunkDraft, TokenCounter, chunk_pages
from app.documents.detect import DocumentKind
from app.documents.formats.epub import epub_pages
from app.documents.formats.limits import FormatLimits
from app.documents.formats.slides import pptx_pages
from app.documents.formats.spreadsheets import csv_pages, xls_pages, xlsx_pages
from app.documents.formats.tables import chunk_table_pages
from app.documents.formats.webpage import webpage_pages
from app.documents.furniture import strip_furniture
from app.documents.ocr import OcrOptions
from app.documents.parsing import NO_TEXT, Page, ParseError, parse_document

__all__ = ["TABLE_KINDS", "FormatLimits", "chunk_document", "read_pages", "without_furniture"]

TABLE_KINDS = frozenset({DocumentKind.XLSX, DocumentKind.XLS, DocumentKind.CSV})
# Running headers and footers are a trait of printed pages; a slide title or a table's
# header row repeated on most locations is content.
FURNITURE_KINDS = frozenset(
    {
        DocumentKind.PDF,
        DocumentKind.DOCX,
        DocumentKind.HTML,
        DocumentKind.MARKDOWN,
        DocumentKind.TEXT,
        DocumentKind.IMAGE,
    }
)

READERS: dict[DocumentKind, Callable[[bytes, FormatLimits], Iterator[Page]]] = {
    DocumentKind.XLSX: xlsx_pages,
    DocumentKind.XLS: xls_pages,
    DocumentKind.CSV: csv_pages,
    DocumentKind.PPTX: pptx_pages,
    DocumentKind.EPUB: epub_pages,
    DocumentKind.WEBPAGE: webpage_pages,
}


def read_pages(
    data: bytes, kind: DocumentKind, limits: FormatLimits, *, ocr: OcrOptions | None = None
) -> Iterator[Page]:
    """The document's pages in order; raises ParseError with a sentence for the user. PDFs
    and images are read with ``ocr`` (scanned pages and images need it)."""
    if kind not in READERS:
        yield from parse_document(data, kind, ocr=ocr)
        return
    found_text = False
    for page in READERS[kind](data, limits):
        found_text = found_text or bool(page.blocks)
        yield page
    if not found_text:
        raise ParseError(NO_TEXT)


def without_furniture(pages: Iterable[Page], kind: DocumentKind) -> Iterator[Page]:
    """The pages with running headers and footers cut out, for formats that have them (the
    pages are held until the last one is read)."""
    if kind in FURNITURE_KINDS:
        return strip_furniture(pages)
    return iter(pages)


def chunk_document(
    pages: Iterable[Page],
    kind: DocumentKind,
    counter: TokenCounter,
    *,
    max_tokens: int,
    overlap_tokens: int,
) -> Iterator[ChunkDraft]:
    """Chunks of the document: groups of rows under their header row for a spreadsheet,
    ``chunk_pages`` for everything else."""
    if kind in TABLE_KINDS:
        return chunk_table_pages(pages, counter, max_tokens=max_tokens)
    return chunk_pages(pages, counter, max_tokens=max_tokens, overlap_tokens=overlap_tokens)

"""EPUB e-books with ebooklib: one page per chapter, in reading (spine) order.

A chapter is a content document of the spine that has text; the navigation document,
covers, image-only pages and empty documents are skipped, so page N is the book's Nth chapter with text. Its title is
its first heading, else its table-of-contents entry, else "Chapter N". The XHTML is read
like an uploaded HTML file (scripts and styles dropped, headings kept as the heading path).
"""

from __future__ import annotations

import io
import posixpath
import warnings
from collections.abc import Iterator
from typing import Any

from bs4 import XMLParsedAsHTMLWarning

from app.documents.bounded_zip import ArchiveError, ArchiveLimits, ArchiveTooLarge, BoundedZip
from app.documents.formats.limits import FormatLimits
from app.documents.parsing import Page, ParseError, _build_page, _html_blocks

DAMAGED_EPUB = "This EPUB e-book is damaged or protected (DRM) and could not be read."
EPUB_ZIP_BOMB = "This EPUB e-book is too large when uncompressed (possible zip bomb)."
ARCHIVE_LIMITS = ArchiveLimits()
# Nested sections of the table of contents read for chapter titles.
MAX_TOC_DEPTH = 8


def epub_pages(data: bytes, limits: FormatLimits) -> Iterator[Page]:
    from ebooklib import ITEM_DOCUMENT, epub

    try:
        BoundedZip(data, ARCHIVE_LIMITS).verify()
    except ArchiveTooLarge as error:
        raise ParseError(EPUB_ZIP_BOMB) from error
    except ArchiveError as error:
        raise ParseError(DAMAGED_EPUB) from error
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ebooklib warns about its future defaults
            book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": False})
        toc_titles = _toc_titles(book.toc, depth=0)
        number = 0
        for item_id, _linear in book.spine:
            item = book.get_item_with_id(item_id)
            if (
                item is None
                or item.get_type() != ITEM_DOCUMENT
                or not item.is_chapter()
                or "nav" in (getattr(item, "properties", None) or [])
            ):
                continue  # the cover and the navigation document are not chapters
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # XHTML, read as HTML
                page = _build_page(number + 1, _html_blocks(item.get_content()))
            if not page.blocks:
                continue
            number += 1
            title = _chapter_title(page) or toc_titles.get(_path(item.get_name()))
            yield Page(page.number, page.text, page.blocks, title=title or f"Chapter {number}")
    except (ParseError, MemoryError):
        raise
    except Exception as error:  # ebooklib raises EpubException, KeyError, lxml errors...
        raise ParseError(DAMAGED_EPUB) from error


def _chapter_title(page: Page) -> str | None:
    for block in page.blocks:
        if block.heading_path and block.heading_path[-1] == block.text:
            return block.text
    return None


def _toc_titles(entries: Any, depth: int) -> dict[str, str]:
    """The first title the table of contents gives each chapter file."""
    titles: dict[str, str] = {}
    if depth > MAX_TOC_DEPTH:
        return titles
    for entry in entries:
        if isinstance(entry, tuple) and len(entry) == 2:
            section, children = entry
            for source in (
                {_path(section.href): section.title} if getattr(section, "href", None) else {},
                _toc_titles(children, depth + 1),
            ):
                for path, title in source.items():
                    titles.setdefault(path, title)
        elif getattr(entry, "href", None) and getattr(entry, "title", None):
            titles.setdefault(_path(entry.href), entry.title)
    return titles


def _path(href: str) -> str:
    return posixpath.basename(href.split("#", 1)[0])

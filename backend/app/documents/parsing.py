"""Turn document bytes into pages of clean text split into paragraph blocks.

Conventions every format follows:

* ``Page.text`` is the canonical text of the page: paragraphs joined by a blank line
  (``"\\n\\n"``), and ``page.text[block.char_start:block.char_end] == block.text`` holds
  for every block.
* Headings are blocks of their own. A heading block's ``heading_path`` ends with the
  heading itself, and every following block carries the same path until the next heading
  of the same or a higher level replaces it.
* Text never contains NUL or other control characters besides ``\\n`` and ``\\t``.
* PDFs stream one page at a time; DOCX, HTML, Markdown and text are a single page 1.
  Spreadsheets (a page per sheet), slides (a page per slide), EPUB (a page per chapter)
  and web pages are read by ``app.documents.formats``.
* A PDF page without a usable text layer, and every page of an image, is read by OCR when
  ``ocr`` options are given (``app.documents.ocr``): its ``Page.words`` box every word, and a
  page OCR could not read is an empty page whose ``ocr_error`` says why.
* Table rows are blocks of their own with a ``table`` mark (``app.documents.tables``), so
  chunking keeps them together with their header row.
* ``Page.furniture`` lists the spans of ``Page.text`` that are running headers, footers or
  page numbers (``app.documents.furniture`` fills it and cuts them out of the blocks).
* Errors surface as ``ParseError`` while iterating, with a sentence meant for the user.
"""

import functools
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import docx
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString, PageElement, PreformattedString
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from markdown_it.token import Token

from app.documents.bounded_zip import ArchiveError, ArchiveLimits, ArchiveTooLarge, BoundedZip
from app.documents.detect import DocumentKind, decode_text
from app.documents.images import ImageError, image_page_count, image_pages
from app.documents.ocr import (
    OcrError,
    OcrOptions,
    OcrText,
    WordBox,
    needs_ocr,
    recognize,
    recognize_pdf_page,
)
from app.documents.tables import (
    PdfTable,
    PdfTableMarker,
    TableMark,
    TableRow,
    docx_table_rows,
    pdf_tables,
    row_key,
)


@dataclass(frozen=True)
class Block:
    text: str
    heading_path: tuple[str, ...]
    char_start: int
    char_end: int
    table: TableMark | None = None


@dataclass(frozen=True)
class Page:
    number: int
    text: str
    blocks: list[Block]
    furniture: tuple[tuple[int, int], ...] = ()
    # What the viewer names the location: a sheet's, slide's or chapter's title.
    title: str | None = None
    # A table page (a sheet, a CSV): the spreadsheet row number of each line of ``text``.
    row_numbers: tuple[int, ...] = ()
    ocr: bool = False  # the text was read from the page image
    ocr_error: str | None = None  # why OCR found nothing on this page
    words: tuple[WordBox, ...] = ()


class ParseError(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


ENCRYPTED_PDF = "This is a password-protected PDF; remove the password and upload it again."
DAMAGED_PDF = "This PDF is damaged or incomplete and could not be read."
SCANNED_PDF = "No extractable text (scanned PDF; OCR not enabled)."
NO_TEXT_AFTER_OCR = "No text was found in this PDF, not even by OCR of its scanned pages."
NO_TEXT = "The document contains no extractable text."
DAMAGED_DOCX = "This Word document is damaged and could not be read."
DOCX_ZIP_BOMB = "This Word document is too large when uncompressed (possible zip bomb)."
# Failures of the file itself: processing the same bytes again fails the same way.
FILE_FAILURES = frozenset({ENCRYPTED_PDF, DAMAGED_PDF, DAMAGED_DOCX, DOCX_ZIP_BOMB})

DOCX_LIMITS = ArchiveLimits()

PARAGRAPH_SEPARATOR = "\n\n"
# \x02 is how pdfium marks a hyphen it removed when joining a word split across lines.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
NEWLINES = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
BLANK_LINES = re.compile(r"\n\s*\n")
ANY_WHITESPACE = re.compile(r"\s+")

# (text, heading level or None for a paragraph) pairs, in reading order.
RawBlock = tuple[str, int | None]


def parse_document(
    data: bytes,
    kind: DocumentKind,
    *,
    max_pages: int | None = None,
    ocr: OcrOptions | None = None,
) -> Iterator[Page]:
    """Yield the document's pages in order; raise ParseError with a user-facing message.

    ``max_pages`` rejects longer PDFs before any page is read (the other formats are one
    page). A document whose pages are all empty raises after its (empty) pages were
    yielded, so callers must treat the error as final for the whole document. Without
    ``ocr``, scanned pages stay empty and images cannot be read.
    """
    if kind is DocumentKind.PDF:
        yield from _parse_pdf(data, max_pages, ocr)
        return
    if kind is DocumentKind.IMAGE:
        yield from _parse_image(data, ocr or OcrOptions())
        return
    page = _build_page(1, _parse_single_page(data, kind))
    if not page.blocks:
        raise ParseError(NO_TEXT)
    yield page


def count_pages(data: bytes, kind: DocumentKind) -> int | None:
    """Page count of a PDF or image without extracting text; None for unpaged formats or
    unreadable files."""
    if kind is DocumentKind.IMAGE:
        return image_page_count(data)
    if kind is not DocumentKind.PDF:
        return None
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return None
    try:
        return len(document)
    finally:
        document.close()


def clean_text(text: str) -> str:
    """Normalise newlines to \\n and drop control characters other than \\n and \\t."""
    return CONTROL_CHARS.sub("", NEWLINES.sub("\n", text))


def _parse_single_page(data: bytes, kind: DocumentKind) -> Iterable[RawBlock | TableRow]:
    parsers: dict[DocumentKind, Callable[[bytes], Iterable[RawBlock | TableRow]]] = {
        DocumentKind.DOCX: _docx_blocks,
        DocumentKind.HTML: _html_blocks,
        DocumentKind.MARKDOWN: _markdown_blocks,
        DocumentKind.TEXT: _text_blocks,
    }
    return parsers[kind](data)


def _build_page(number: int, raw_blocks: Iterable[RawBlock | TableRow]) -> Page:
    """Join cleaned paragraphs into the page text and record where each one sits."""
    headings: list[tuple[int, str]] = []
    blocks: list[Block] = []
    offset = 0
    for raw in raw_blocks:
        raw_text, level = raw[0], raw[1]
        table = raw.table if isinstance(raw, TableRow) else None
        text = clean_text(raw_text).strip()
        if not text:
            continue
        if level is not None:
            text = _collapse(text)
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, text))
        if blocks:
            offset += len(PARAGRAPH_SEPARATOR)
        path = tuple(heading for _, heading in headings)
        blocks.append(Block(text, path, offset, offset + len(text), table))
        offset += len(text)
    return Page(number, PARAGRAPH_SEPARATOR.join(block.text for block in blocks), blocks)


# --- PDF ---------------------------------------------------------------------------------


def _parse_pdf(data: bytes, max_pages: int | None, ocr: OcrOptions | None) -> Iterator[Page]:
    """Stream PDF pages with pdfium, closing each page as soon as its text is read.

    pdfium repairs many broken cross-reference tables, but a file cut short before its
    page tree is complete (like ``bad-truncated.pdf``) cannot be opened at all and raises
    the "damaged" error; neither does pypdf recover such files.
    """
    document = _open_pdf(data)
    try:
        page_count = len(document)
        if max_pages is not None and page_count > max_pages:
            raise ParseError(
                f"This PDF has {page_count:,} pages; the limit is {max_pages:,} pages."
            )
        found_text = ocr_ran = False
        ocr_errors: list[str] = []
        tables = PdfTableMarker()
        for index in range(page_count):
            text, page_tables = _pdf_page_text(document, index)
            if ocr is not None and needs_ocr(document, index, text):
                page = _ocr_page(
                    index + 1, functools.partial(recognize_pdf_page, document, index, ocr), ocr
                )
                ocr_ran = True
                if page.ocr_error:
                    ocr_errors.append(page.ocr_error)
            else:
                rows = tables.page_rows(page_tables)
                page = _build_page(index + 1, _pdf_paragraphs(text, rows))
            found_text = found_text or bool(page.blocks)
            yield page
        if not found_text:
            raise ParseError(_no_text_reason(ocr, ocr_ran, ocr_errors))
    finally:
        document.close()


def _no_text_reason(ocr: OcrOptions | None, ocr_ran: bool, ocr_errors: list[str]) -> str:
    if ocr is None:
        return SCANNED_PDF
    if ocr_errors:
        return ocr_errors[0]
    return NO_TEXT_AFTER_OCR if ocr_ran else NO_TEXT


def _ocr_page(number: int, read: Callable[[], OcrText], options: OcrOptions) -> Page:
    """The page as OCR reads it, or an empty page that says why OCR could not."""
    if options.before_page is not None:
        options.before_page()
    try:
        result = read()
    except OcrError as error:
        return Page(number, "", [], ocr=True, ocr_error=error.message)
    blocks = [Block(result.text[start:end], (), start, end) for start, end in result.paragraphs]
    return Page(number, result.text, blocks, ocr=True, words=result.words)


# --- Images ------------------------------------------------------------------------------


def _parse_image(data: bytes, ocr: OcrOptions) -> Iterator[Page]:
    found_text = False
    ocr_errors: list[str] = []
    try:
        for index, image in enumerate(image_pages(data, max_pixels=ocr.max_pixels)):
            page = _ocr_page(index + 1, functools.partial(recognize, image, ocr), ocr)
            if page.ocr_error:
                ocr_errors.append(page.ocr_error)
            found_text = found_text or bool(page.blocks)
            yield page
    except ImageError as error:
        raise ParseError(error.message) from error
    if not found_text:
        raise ParseError(ocr_errors[0] if ocr_errors else "No text was found in this image.")


def _open_pdf(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) in (
            pdfium_c.FPDF_ERR_PASSWORD,
            pdfium_c.FPDF_ERR_SECURITY,
        ):
            raise ParseError(ENCRYPTED_PDF) from error
        raise ParseError(DAMAGED_PDF) from error


def _pdf_page_text(document: pdfium.PdfDocument, index: int) -> tuple[str, list[PdfTable]]:
    try:
        page = document[index]
    except pdfium.PdfiumError as error:
        raise ParseError(DAMAGED_PDF) from error
    try:
        text_page = page.get_textpage()
        try:
            return str(text_page.get_text_bounded()), pdf_tables(text_page)
        finally:
            text_page.close()
    finally:
        page.close()


def _pdf_paragraphs(
    raw_text: str, table_rows: dict[str, list[TableRow]] | None = None
) -> Iterator[RawBlock | TableRow]:
    """Split a PDF page into paragraphs: at blank lines, before a list item, and after a
    short line that ends a sentence (the usual look of a paragraph's last line). A word
    hyphenated across a line end is joined. No heading detection. A line that is a row of
    one of ``table_rows`` (by ``row_key``) is that row, a block of its own."""
    lines = [_pdf_line(line) for line in clean_text(raw_text).split("\n")]
    typical_length = _typical_line_length(lines)
    paragraph: list[str] = []
    for line in lines:
        rows = table_rows.get(row_key(line)) if table_rows and line else None
        if rows:
            if paragraph:
                yield "\n".join(paragraph), None
                paragraph = []
            yield rows.pop(0)
            continue
        if not line or (paragraph and LIST_ITEM.match(line)):
            if paragraph:
                yield "\n".join(paragraph), None
                paragraph = []
            if not line:
                continue
        if paragraph and LINE_END_HYPHEN.search(paragraph[-1]) and line[0].islower():
            paragraph[-1] = paragraph[-1][:-1] + line
        else:
            paragraph.append(line)
        if line.endswith((".", "!", "?", ":", '."', ".”")) and len(line) < 0.7 * typical_length:
            yield "\n".join(paragraph), None
            paragraph = []
    if paragraph:
        yield "\n".join(paragraph), None


# Symbol and Wingdings bullets land in the Private Use Area when a PDF has no Unicode map.
PRIVATE_USE_BULLETS = str.maketrans(
    dict.fromkeys("\uf0a7\uf0b7\uf076\uf0d8\uf0fc\uf06e\uf071", "•")
)
# Bullets (•, ◦, ▪, ▫, ■, □, ●, ○, ‣, hyphen bullet, ∙, ·, *, dashes), "1." / "2)", "a)".
LIST_ITEM = re.compile(r"^(?:[•◦▪▫■□●○‣\u2043∙·*\u2013\u2014-]|\d{1,3}[.)]|[a-z][.)])\s")
LINE_END_HYPHEN = re.compile(r"[^\W\d_]-$")


def _pdf_line(line: str) -> str:
    return HORIZONTAL_SPACE.sub(" ", line.strip().translate(PRIVATE_USE_BULLETS))


def _typical_line_length(lines: list[str]) -> int:
    lengths = sorted(len(line) for line in lines if line)
    return lengths[(len(lengths) * 3) // 4] if lengths else 0


# --- DOCX --------------------------------------------------------------------------------

DOCX_HEADING_STYLE = re.compile(r"^heading ([1-9])$", re.I)
DOCX_TITLE_LEVEL = 0
MAX_STYLE_INHERITANCE = 5


def _docx_blocks(data: bytes) -> list[RawBlock | TableRow]:
    _reject_zip_bomb(data)
    try:
        document = docx.Document(io.BytesIO(data))
        return list(_docx_body_blocks(document))
    except MemoryError:
        raise  # not damage: the reader's memory limit (app.documents.parse_process)
    except Exception as error:  # python-docx fails in many ways on malformed packages
        raise ParseError(DAMAGED_DOCX) from error


def _reject_zip_bomb(data: bytes) -> None:
    """Inflate every member once within DOCX_LIMITS (python-docx then reads what was checked)."""
    try:
        BoundedZip(data, DOCX_LIMITS).verify()
    except ArchiveTooLarge as error:
        raise ParseError(DOCX_ZIP_BOMB) from error
    except ArchiveError as error:
        raise ParseError(DAMAGED_DOCX) from error


def _docx_body_blocks(document: DocxDocument) -> Iterator[RawBlock | TableRow]:
    tables = 0
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            yield item.text, _docx_heading_level(item)
        elif isinstance(item, Table):
            tables += 1
            yield from docx_table_rows(item, tables)


def _docx_heading_level(paragraph: Paragraph) -> int | None:
    style = paragraph.style
    for _ in range(MAX_STYLE_INHERITANCE):
        if style is None:
            return None
        name = style.name or ""
        if name.lower() == "title":
            return DOCX_TITLE_LEVEL
        match = DOCX_HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        style = style.base_style
    return None


# --- HTML --------------------------------------------------------------------------------

HTML_DROPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas"}
)
HTML_HEADING_LEVELS = {f"h{level}": level for level in range(1, 7)}
HTML_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip


def _html_blocks(data: bytes) -> list[RawBlock]:
    soup = _html_soup(data)
    blocks = list(_html_body_blocks(soup.body or soup))
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    has_h1 = any(level == 1 for _, level in blocks)
    if title and not has_h1:
        blocks.insert(0, (title, 1))
    return blocks


def _html_soup(markup: bytes | str) -> BeautifulSoup:
    soup = BeautifulSoup(markup, "lxml")
    for tag in soup.find_all(HTML_DROPPED_TAGS):
        tag.decompose()
    return soup


def _html_body_blocks(root: Tag) -> Iterator[RawBlock]:
    """Walk the tree iteratively (deeply nested pages must not hit the recursion limit),
    flushing the inline text gathered so far whenever a block element starts or ends."""
    pending: list[str] = []
    stack: list[PageElement | None] = [root]  # None marks the end of a block tag
    while stack:
        node = stack.pop()
        ends_inline_run = node is None or (isinstance(node, Tag) and _is_html_block(node))
        if ends_inline_run and pending:
            yield _collapse("".join(pending)), None
            pending = []
        if isinstance(node, Tag) and node.name in HTML_HEADING_LEVELS:
            yield node.get_text(" "), HTML_HEADING_LEVELS[node.name]
        elif isinstance(node, Tag):
            if node.name in HTML_BLOCK_TAGS:
                stack.append(None)
            stack.extend(reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            # Comments, CDATA, doctypes and processing instructions are PreformattedStrings.
            pending.append(str(node))
    if pending:
        yield _collapse("".join(pending)), None


def _is_html_block(tag: Tag) -> bool:
    return tag.name in HTML_BLOCK_TAGS or tag.name in HTML_HEADING_LEVELS


def _collapse(text: str) -> str:
    return ANY_WHITESPACE.sub(" ", text).strip()


# --- Markdown ----------------------------------------------------------------------------

MARKDOWN = MarkdownIt("commonmark").enable("table")


def _markdown_blocks(data: bytes) -> list[RawBlock]:
    return list(_markdown_token_blocks(MARKDOWN.parse(_decode(data))))


def _markdown_token_blocks(tokens: list[Token]) -> Iterator[RawBlock]:
    heading_level: int | None = None
    row_cells: list[str] | None = None
    for token in tokens:
        if token.type == "heading_open":
            heading_level = int(token.tag[1:])
        elif token.type == "heading_close":
            heading_level = None
        elif token.type == "tr_open":
            row_cells = []
        elif token.type == "tr_close" and row_cells is not None:
            yield " | ".join(cell for cell in row_cells if cell), None
            row_cells = None
        elif token.type == "inline" and row_cells is not None:
            row_cells.append(_collapse(_markdown_inline_text(token)))
        elif token.type == "inline":
            text = _markdown_inline_text(token)
            yield HORIZONTAL_SPACE.sub(" ", text), heading_level
        elif token.type in ("fence", "code_block"):
            yield token.content, None
        elif token.type == "html_block":
            yield from _html_body_blocks(_html_soup(token.content))


def _markdown_inline_text(token: Token) -> str:
    parts: list[str] = []
    hidden_depth = 0  # inside inline raw HTML such as <script>...</script>
    for child in token.children or []:
        if child.type == "html_inline":
            hidden_depth = max(0, hidden_depth + _html_inline_depth_change(child.content))
        elif hidden_depth:
            continue
        elif child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(_markdown_inline_text(child))
    return "".join(parts)


HTML_DROPPED_OPEN_TAG = re.compile(rf"^<({'|'.join(HTML_DROPPED_TAGS)})\b", re.I)
HTML_DROPPED_CLOSE_TAG = re.compile(rf"^</({'|'.join(HTML_DROPPED_TAGS)})\s*>", re.I)


def _html_inline_depth_change(raw_tag: str) -> int:
    if HTML_DROPPED_OPEN_TAG.match(raw_tag) and not raw_tag.rstrip().endswith("/>"):
        return 1
    return -1 if HTML_DROPPED_CLOSE_TAG.match(raw_tag) else 0


# --- Plain text --------------------------------------------------------------------------


def _text_blocks(data: bytes) -> Iterator[RawBlock]:
    """Paragraphs one at a time (a list of them was one more copy of a 50 MB text)."""
    text = clean_text(_decode(data))
    start = 0
    for blank_lines in BLANK_LINES.finditer(text):
        yield _strip_line_ends(text[start : blank_lines.start()]), None
        start = blank_lines.end()
    yield _strip_line_ends(text[start:]), None


def _strip_line_ends(paragraph: str) -> str:
    return "\n".join(line.rstrip() for line in paragraph.split("\n"))


def _decode(data: bytes) -> str:
    text = decode_text(data)
    return data.decode("utf-8", errors="replace") if text is None else text

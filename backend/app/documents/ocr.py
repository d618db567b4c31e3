"""OCR with Tesseract: the text of a page image, its paragraphs, and a box for every word.

Tesseract runs as its own process (through pytesseract, which passes the image in a temporary
file and reads the TSV of words back), started by the parse child: it inherits the child's
memory limit, and ``OcrOptions.page_timeout_s`` kills it on a page that takes too long. A page
that cannot be read raises ``OcrError`` with a sentence for the document's owner; the caller
records it for that page and goes on with the next one.

Word boxes are fractions of the page image's width and height (origin top left), so the viewer
can draw them over the page at any zoom; each word also has its offsets in the page text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytesseract
from PIL import Image

from app.documents.images import bounded_scale

TESSERACT_MISSING = (
    "This page is a scanned image, and OCR is not available on this server (Tesseract is not "
    "installed), so its text could not be read."
)
LANGUAGE_MISSING = (
    "OCR language pack {missing} is not installed on this server (OCR_LANGUAGES={languages}); "
    "ask the administrator to install it (Debian: {packages})."
)
PAGE_TIMEOUT = "OCR of this page took longer than the {seconds:g} seconds allowed per page."
OCR_FAILED = "OCR could not read this page: Tesseract stopped with an error."

# A PDF page with fewer visible characters than this is treated as a scan (when it has an
# image); so is one whose characters are mostly not letters or digits (a broken text layer).
MIN_TEXT_CHARS = 20
MIN_WORD_CHAR_SHARE = 0.5
BOX_DECIMALS = 4
PARAGRAPH_SEPARATOR = "\n\n"

# (start, end) offsets into the page text, then left, top, right, bottom as fractions.
WordBox = tuple[int, int, float, float, float, float]


class OcrError(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class OcrOptions:
    languages: str = "eng"
    dpi: int = 300
    page_timeout_s: float = 60.0
    max_pixels: int = 50_000_000
    # Called before each page is rendered and read (the parse process tells its parent, which
    # gives the page time beyond PARSE_TIMEOUT_S); set in the process that reads.
    before_page: Callable[[], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class OcrText:
    text: str
    paragraphs: list[tuple[int, int]]  # offsets into text
    words: tuple[WordBox, ...]


def recognize(image: Image.Image, options: OcrOptions) -> OcrText:
    """The words Tesseract reads on ``image``; raises OcrError with a sentence for the user."""
    check_languages(options.languages)
    if image.mode not in ("L", "RGB"):
        image = image.convert("L")
    try:
        data: dict[str, list[Any]] = pytesseract.image_to_data(
            image,
            lang=options.languages,
            config="--psm 3",
            output_type=pytesseract.Output.DICT,
            timeout=options.page_timeout_s,
        )
    except pytesseract.TesseractNotFoundError as error:
        raise OcrError(TESSERACT_MISSING) from error
    except pytesseract.TesseractError as error:
        raise OcrError(OCR_FAILED) from error
    except RuntimeError as error:  # pytesseract's way of saying it killed a slow Tesseract
        if "timeout" not in str(error).lower():
            raise
        raise OcrError(PAGE_TIMEOUT.format(seconds=options.page_timeout_s)) from error
    return _layout(data, image.width, image.height)


def check_languages(languages: str) -> None:
    installed = _installed_languages()
    missing = [language for language in languages.split("+") if language not in installed]
    if missing:
        raise OcrError(
            LANGUAGE_MISSING.format(
                missing=", ".join(f"'{language}'" for language in missing),
                languages=languages,
                packages=", ".join(f"tesseract-ocr-{language.lower()}" for language in missing),
            )
        )


@functools.cache
def _installed_languages() -> frozenset[str]:
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except pytesseract.TesseractNotFoundError as error:
        raise OcrError(TESSERACT_MISSING) from error


def _layout(data: dict[str, list[Any]], width: int, height: int) -> OcrText:
    """Words joined by spaces, lines by newlines, Tesseract's paragraphs by a blank line."""
    pieces: list[str] = []
    paragraphs: list[tuple[int, int]] = []
    words: list[WordBox] = []
    offset = 0
    paragraph_start: int | None = None
    previous: tuple[int, int, int] | None = None  # (block, paragraph, line)
    for index, raw in enumerate(data["text"]):
        word = " ".join(str(raw).split())
        if data["level"][index] != 5 or not word or not word.isprintable():
            continue
        line = (data["block_num"][index], data["par_num"][index], data["line_num"][index])
        if previous is not None:
            if line[:2] != previous[:2]:
                assert paragraph_start is not None
                paragraphs.append((paragraph_start, offset))
                separator, paragraph_start = PARAGRAPH_SEPARATOR, None
            else:
                separator = "\n" if line != previous else " "
            pieces.append(separator)
            offset += len(separator)
        if paragraph_start is None:
            paragraph_start = offset
        left, top = data["left"][index], data["top"][index]
        right, bottom = left + data["width"][index], top + data["height"][index]
        words.append(
            (
                offset,
                offset + len(word),
                round(left / width, BOX_DECIMALS),
                round(top / height, BOX_DECIMALS),
                round(right / width, BOX_DECIMALS),
                round(bottom / height, BOX_DECIMALS),
            )
        )
        pieces.append(word)
        offset += len(word)
        previous = line
    if paragraph_start is not None:
        paragraphs.append((paragraph_start, offset))
    return OcrText("".join(pieces), paragraphs, tuple(words))


def needs_ocr(document: pdfium.PdfDocument, index: int, text: str) -> bool:
    """Whether a PDF page's text layer is missing or useless and the page shows an image."""
    visible = [char for char in text if not char.isspace()]
    word_chars = sum(char.isalnum() for char in visible)
    if len(visible) >= MIN_TEXT_CHARS and word_chars >= MIN_WORD_CHAR_SHARE * len(visible):
        return False
    page = document[index]
    try:
        return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))
    finally:
        page.close()


def recognize_pdf_page(document: pdfium.PdfDocument, index: int, options: OcrOptions) -> OcrText:
    """Render the page at ``options.dpi`` (less if that would pass ``max_pixels``) and OCR it."""
    page = document[index]
    try:
        width, height = page.get_size()
        scale = bounded_scale(width, height, options.dpi / 72, options.max_pixels)
        image = page.render(scale=scale, grayscale=True).to_pil()
    finally:
        page.close()
    return recognize(image, options)

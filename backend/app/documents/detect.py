"""Decide what kind of document an upload is, from its bytes rather than its name.

The filename only breaks ties the content cannot settle: Markdown vs plain text, CSV/TSV
(``.csv``, ``.tsv``, ``.tab``) vs plain text, an old Office file named ``.xls``, and a
damaged zip that claims to be ``.docx``, ``.xlsx``, ``.pptx`` or ``.epub`` (accepted so that
parsing reports it as a damaged file of that format rather than an unknown file).

A file whose bytes are plain text is accepted as text (or Markdown/HTML) whatever its
extension says, so ``notes.pdf`` holding UTF-8 prose is indexed as text: the content is
what gets indexed, and it is harmless text. Binary content that is not a supported
format is always rejected, whatever its extension.
"""

import codecs
import io
import re
import unicodedata
import zipfile
from enum import StrEnum

from charset_normalizer import from_bytes

from app.documents.images import image_content_type, image_is_readable


class DocumentKind(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    HTML = "html"
    MARKDOWN = "markdown"
    TEXT = "text"
    XLSX = "xlsx"
    XLS = "xls"
    CSV = "csv"  # CSV and TSV: the dialect is sniffed
    PPTX = "pptx"
    EPUB = "epub"
    WEBPAGE = "webpage"  # HTML fetched from a URL: its main content is extracted
    IMAGE = "image"


CONTENT_TYPES: dict[DocumentKind, str] = {
    DocumentKind.PDF: "application/pdf",
    DocumentKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentKind.HTML: "text/html",
    DocumentKind.MARKDOWN: "text/markdown",
    DocumentKind.TEXT: "text/plain",
    DocumentKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    DocumentKind.XLS: "application/vnd.ms-excel",
    DocumentKind.CSV: "text/csv",
    DocumentKind.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    DocumentKind.EPUB: "application/epub+zip",
    DocumentKind.WEBPAGE: "text/html",
    # The stored type is the image's own (app.documents.images.image_content_type).
    DocumentKind.IMAGE: "image/png",
}

SUPPORTED_TYPES_HINT = (
    "Upload PDF, Word (.docx), Excel (.xlsx, .xls), CSV or TSV, PowerPoint (.pptx), "
    "EPUB, HTML, Markdown, plain text or an image (PNG, JPEG, TIFF, WebP)."
)


class UnsupportedFileType(Exception):
    def __init__(self, what: str) -> None:
        self.message = f"Unsupported file type: {what}. {SUPPORTED_TYPES_HINT}"
        super().__init__(self.message)


# Readers such as Acrobat accept a PDF header anywhere in the first 1024 bytes.
PDF_HEADER_WINDOW = 1024
# How much of the start of a file is decoded to sniff HTML/Markdown and to test for text.
SNIFF_BYTES = 64 * 1024

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
DOCX_MAIN_PART = "word/document.xml"
MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mkdn"})
LIKELIEST_LEGACY_ENCODING = "cp1252"
PLAIN_TEXT_EXTENSIONS = frozenset({".txt", ".text"})
DELIMITED_TEXT_EXTENSIONS = frozenset({".csv", ".tsv", ".tab"})
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The name of an Excel 97-2003 workbook's stream in the OLE directory (UTF-16LE).
XLS_WORKBOOK_STREAM = "Workbook".encode("utf-16-le")
EPUB_MIMETYPE = b"mimetypeapplication/epub+zip"

BINARY_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x00\x00\x01\x00", "an icon file"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"\xca\xfe\xba\xbe", "a compiled program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"(\xb5/\xfd", "a zstd archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office file (.doc, .xls or .ppt)"),
    (b"{\\rtf", "an RTF document"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg media file"),
    (b"fLaC", "a FLAC audio file"),
    (b"\x1aE\xdf\xa3", "a Matroska/WebM video"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x00asm", "a WebAssembly module"),
)
# Short signatures that ordinary text can also start with ("BMW ...", "MZ ..."): they only
# name the format once the content has failed to decode as text.
WEAK_BINARY_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows program"),
    (b"BM", "a BMP image"),
    (b"BZh", "a bzip2 archive"),
)

XML_PROLOGUE = r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
HTML_START = re.compile(XML_PROLOGUE + r"<(?:!doctype\s+html|html)\b", re.I | re.S)
HTML_STRUCTURE_TAG = re.compile(r"<(?:head|body|title|meta)\b", re.I)
HTML_COMMON_TAG = re.compile(
    r"<(?:html|head|body|div|p|h[1-6]|table|ul|ol|section|article|span|a)\b[^>]*>", re.I
)
SVG_START = re.compile(XML_PROLOGUE + r"(?:<!doctype\s+svg[^>]*>\s*)?<svg\b", re.I | re.S)
ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.M)
TEXT_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Stray escapes (ANSI colours in a log) are tolerated; binary data decoded as some
# single-byte code page is full of them.
MAX_CONTROL_CHAR_RATIO = 0.01


def detect_kind(data: bytes, filename: str) -> DocumentKind:
    """Return the kind of the whole file ``data``; raise UnsupportedFileType otherwise.

    Takes the complete file bytes, not just a head, because a DOCX can only be told
    apart from any other zip by its central directory, which sits at the end of the file.
    """
    if b"%PDF-" in data[:PDF_HEADER_WINDOW]:
        return DocumentKind.PDF
    if data.startswith(ZIP_MAGICS):
        return _detect_zip(data, filename)
    if data.startswith(OLE_MAGIC) and (
        extension_of(filename) == ".xls" or XLS_WORKBOOK_STREAM in data
    ):
        return DocumentKind.XLS
    head = data[:SNIFF_BYTES]
    image_type = image_content_type(head)
    if image_type is not None:
        if not image_is_readable(data):
            raise UnsupportedFileType(f"this looks like a damaged {image_type[6:].upper()} image")
        return DocumentKind.IMAGE
    for magic, description in BINARY_MAGICS:
        if head.startswith(magic):
            raise UnsupportedFileType(f"this looks like {description}")
    if _is_riff_or_iso_media(head):
        raise UnsupportedFileType("this looks like an audio, video or image file")
    text = decode_text(head)
    if text is None or _control_char_ratio(text) > MAX_CONTROL_CHAR_RATIO:
        raise UnsupportedFileType(_describe_binary(head))
    if SVG_START.match(text):
        raise UnsupportedFileType("this looks like an SVG image")
    return _classify_text(text, filename)


def decode_text(data: bytes) -> str | None:
    """Decode bytes as text: BOMs first, then UTF-8, then charset detection.

    Returns None when the bytes do not look like text in any encoding.
    """
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        # A sniffed head may end in the middle of a multi-byte character.
        if error.start >= len(data) - 3 and error.reason == "unexpected end of data":
            return data[: error.start].decode("utf-8")
    return _decode_with_detected_charset(data)


def _decode_with_detected_charset(data: bytes) -> str | None:
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    # charset-normalizer breaks ties between Western code pages arbitrarily (French prose
    # comes out as cp1250, "crème" as "crčme"); Windows-1252 is by far the likeliest.
    for match in matches:
        if (
            match.encoding == LIKELIEST_LEGACY_ENCODING
            and match.chaos <= best.chaos
            and match.coherence >= best.coherence
        ):
            return str(match)
    return str(best)


def extension_of(filename: str) -> str:
    stem, dot, extension = filename.rpartition(".")
    return f".{extension.lower()}" if dot and stem else ""


def _detect_zip(data: bytes, filename: str) -> DocumentKind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        damaged_as = {
            ".docx": DocumentKind.DOCX,
            ".xlsx": DocumentKind.XLSX,
            ".pptx": DocumentKind.PPTX,
            ".epub": DocumentKind.EPUB,
        }
        if extension_of(filename) in damaged_as:
            return damaged_as[extension_of(filename)]
        raise UnsupportedFileType("this looks like a damaged ZIP archive") from None
    if DOCX_MAIN_PART in names:
        return DocumentKind.DOCX
    if "xl/workbook.xml" in names:
        return DocumentKind.XLSX
    if "ppt/presentation.xml" in names:
        return DocumentKind.PPTX
    if data[30:58] == EPUB_MIMETYPE or (
        "META-INF/container.xml" in names and extension_of(filename) == ".epub"
    ):
        return DocumentKind.EPUB
    if any(name == "content.xml" for name in names):
        raise UnsupportedFileType("this looks like an OpenDocument file")
    raise UnsupportedFileType("this looks like a ZIP archive")


def _control_char_ratio(text: str) -> float:
    return len(TEXT_CONTROL_CHARS.findall(text)) / max(len(text), 1)


def _describe_binary(head: bytes) -> str:
    for magic, description in WEAK_BINARY_MAGICS:
        if head.startswith(magic):
            return f"this looks like {description}"
    return "this looks like a binary file, not a document"


def _is_riff_or_iso_media(head: bytes) -> bool:
    return head.startswith(b"RIFF") or head[4:8] == b"ftyp"


def _classify_text(text: str, filename: str) -> DocumentKind:
    extension = extension_of(filename)
    if extension in DELIMITED_TEXT_EXTENSIONS:
        return DocumentKind.CSV
    if HTML_START.match(text) or (
        extension not in MARKDOWN_EXTENSIONS and _looks_like_html_fragment(text)
    ):
        return DocumentKind.HTML
    if extension in MARKDOWN_EXTENSIONS:
        return DocumentKind.MARKDOWN
    if extension not in PLAIN_TEXT_EXTENSIONS and ATX_HEADING.search(text):
        return DocumentKind.MARKDOWN
    return DocumentKind.TEXT


def _looks_like_html_fragment(text: str) -> bool:
    if not text.lstrip().startswith("<"):
        return False
    return bool(HTML_STRUCTURE_TAG.search(text)) or len(HTML_COMMON_TAG.findall(text)) >= 2


MAX_FILENAME_CHARS = 200
MAX_EXTENSION_CHARS = 16
FALLBACK_FILENAME = "document"
# Joiners carry meaning in several scripts (Persian, Indic, emoji sequences); every other
# format character (bidi overrides, zero-width spaces, BOMs) only hides the real name.
KEPT_FORMAT_CHARS = frozenset({"\u200c", "\u200d"})
RESERVED_FILENAME_CHARS = re.compile(r'[<>:"|?*]')
WHITESPACE_RUN = re.compile(r"\s+")


def sanitize_filename(name: str) -> str:
    """Make an uploaded filename safe to store and to echo back in headers and UIs.

    Keeps only the last path component (``/`` and ``\\`` both separate), drops control,
    bidi and other invisible format characters, collapses whitespace, removes leading dots
    (no hidden files, no ``..``), and caps the result at 200 characters while keeping the
    extension. Never returns an empty string.
    """
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if _is_visible_filename_char(char))
    name = RESERVED_FILENAME_CHARS.sub("_", name)
    name = WHITESPACE_RUN.sub(" ", name).strip().lstrip(".").rstrip(". ").lstrip()
    return _truncate_keeping_extension(name) or FALLBACK_FILENAME


def _is_visible_filename_char(char: str) -> bool:
    if char.isspace():
        return True  # tabs, newlines and separators become one space when whitespace collapses
    category = unicodedata.category(char)
    if category == "Cf":
        return char in KEPT_FORMAT_CHARS
    return category not in ("Cc", "Cs", "Co", "Cn")


def _truncate_keeping_extension(name: str) -> str:
    if len(name) <= MAX_FILENAME_CHARS:
        return name
    extension = extension_of(name)
    if len(extension) > MAX_EXTENSION_CHARS:
        extension = ""
    stem = name[: len(name) - len(extension)]
    return stem[: MAX_FILENAME_CHARS - len(extension)].rstrip(". ") + extension

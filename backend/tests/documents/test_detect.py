import io
import zipfile
from pathlib import Path

import docx
import pytest
from PIL import Image

from app.documents.detect import (
    CONTENT_TYPES,
    DocumentKind,
    UnsupportedFileType,
    detect_kind,
    sanitize_filename,
)
from app.documents.images import image_content_type

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


def docx_bytes(text: str = "Hello") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name",
    [
        "GeoBase_NHNC1_Data_Model_UML_EN.pdf",
        "Seige_of_Vicksburg_Sample_OCR.pdf",
        "crazyones.pdf",
        "example.pdf",
        "bad-encrypted.pdf",
        "bad-truncated.pdf",
    ],
)
def test_corpus_pdfs_are_pdf_whatever_their_name(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    assert detect_kind(data, name) is DocumentKind.PDF
    assert detect_kind(data, "renamed.txt") is DocumentKind.PDF


def test_pdf_header_after_leading_junk_is_accepted() -> None:
    data = b"\r\n   junk from a mail gateway\n" + (CORPUS / "example.pdf").read_bytes()
    assert detect_kind(data, "scan") is DocumentKind.PDF


def test_pdf_header_beyond_first_kilobyte_is_not_pdf() -> None:
    data = b"x" * 2000 + b"%PDF-1.7 not really"
    assert detect_kind(data, "fake.pdf") is DocumentKind.TEXT


def test_damaged_png_renamed_to_pdf_is_rejected_with_a_readable_message() -> None:
    with pytest.raises(UnsupportedFileType) as raised:
        detect_kind(PNG_HEADER + b"\x00" * 100, "invoice.pdf")
    assert raised.value.message == (
        "Unsupported file type: this looks like a damaged PNG image. "
        "Upload PDF, Word (.docx), Excel (.xlsx, .xls), CSV or TSV, PowerPoint (.pptx), "
        "EPUB, HTML, Markdown, plain text or an image (PNG, JPEG, TIFF, WebP)."
    )


@pytest.mark.parametrize(
    ("save", "content_type"),
    [
        ({"format": "PNG"}, "image/png"),
        ({"format": "JPEG"}, "image/jpeg"),
        ({"format": "TIFF", "compression": "tiff_deflate"}, "image/tiff"),
        ({"format": "WEBP"}, "image/webp"),
    ],
)
def test_images_are_detected_from_content_whatever_their_name(
    save: dict[str, str], content_type: str
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, **save)
    data = buffer.getvalue()
    assert detect_kind(data, "scan.pdf") is DocumentKind.IMAGE
    assert image_content_type(data) == content_type


@pytest.mark.parametrize(
    ("data", "described_as"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "JPEG image"),
        (b"GIF89a\x01\x00\x01\x00", "GIF image"),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 50, "ELF executable"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "Windows program"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "old Office file"),
        (b"{\\rtf1\\ansi hello}", "RTF document"),
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'></svg>", "SVG image"),
        (b"some text\x00\x01\x02 with binary", "binary file"),
    ],
)
def test_binary_formats_are_rejected(data: bytes, described_as: str) -> None:
    with pytest.raises(UnsupportedFileType, match=described_as):
        detect_kind(data, "upload.pdf")


def test_docx_is_detected_from_content() -> None:
    assert detect_kind(docx_bytes(), "report.bin") is DocumentKind.DOCX


def test_zip_renamed_docx_without_word_document_is_rejected() -> None:
    data = zip_bytes({"readme.txt": b"hello"})
    with pytest.raises(UnsupportedFileType, match="ZIP archive"):
        detect_kind(data, "report.docx")


def test_other_office_zips_are_named() -> None:
    data = zip_bytes({"content.xml": b"<office:document-content/>"})
    with pytest.raises(UnsupportedFileType, match="OpenDocument"):
        detect_kind(data, "sheet.docx")


def test_workbooks_slides_and_ebooks_are_detected_from_content() -> None:
    assert detect_kind(zip_bytes({"xl/workbook.xml": b"<workbook/>"}), "a.bin") is DocumentKind.XLSX
    presentation = zip_bytes({"ppt/presentation.xml": b"<p/>"})
    assert detect_kind(presentation, "deck.docx") is DocumentKind.PPTX
    # EPUB: the stored "mimetype" member first, as the format requires, whatever the name.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", "<container/>")
    assert detect_kind(buffer.getvalue(), "book.zip") is DocumentKind.EPUB
    assert (
        detect_kind(zip_bytes({"META-INF/container.xml": b"<c/>"}), "b.epub") is DocumentKind.EPUB
    )


def test_delimited_text_is_csv_by_its_extension() -> None:
    rows = b"name,port\nBell Rock,Arbroath\n"
    for name in ("lights.csv", "lights.TSV", "lights.tab"):
        assert detect_kind(rows, name) is DocumentKind.CSV
    assert detect_kind(rows, "lights.txt") is DocumentKind.TEXT


def test_old_excel_workbooks_are_xls_other_old_office_files_are_refused() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512
    assert detect_kind(ole, "budget.xls") is DocumentKind.XLS
    assert detect_kind(ole + "Workbook".encode("utf-16-le"), "budget") is DocumentKind.XLS
    with pytest.raises(UnsupportedFileType, match="old Office file"):
        detect_kind(ole, "letter.doc")


def test_damaged_zip_is_docx_only_when_named_docx() -> None:
    truncated = docx_bytes()[:200]
    assert detect_kind(truncated, "report.docx") is DocumentKind.DOCX
    with pytest.raises(UnsupportedFileType, match="damaged ZIP"):
        detect_kind(truncated, "archive.zip")


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><body><p>Hi</p></body></html>",
        b"\xef\xbb\xbf  <html lang='en'><p>Hi</p></html>",
        b"<?xml version='1.0'?>\n<!-- generated -->\n<html><body>x</body></html>",
        b"<div class='post'><p>Just a fragment</p></div>",
        b"<head><title>Only a head</title></head>",
    ],
)
def test_html_is_detected_from_markup(data: bytes) -> None:
    assert detect_kind(data, "page.txt") is DocumentKind.HTML


def test_markdown_by_extension_even_with_inline_html() -> None:
    data = b"<div align='center'><p>logo</p></div>\n\nSome *markdown*."
    assert detect_kind(data, "README.md") is DocumentKind.MARKDOWN


def test_markdown_by_atx_heading_without_extension() -> None:
    assert detect_kind(b"# Notes\n\nSome text.", "notes") is DocumentKind.MARKDOWN


def test_txt_extension_keeps_hash_lines_as_text() -> None:
    assert detect_kind(b"# Notes\n\nSome text.", "notes.txt") is DocumentKind.TEXT


def test_text_named_pdf_is_accepted_as_text() -> None:
    assert detect_kind(b"Plain prose, honestly.\n", "fake.pdf") is DocumentKind.TEXT


@pytest.mark.parametrize(
    "data",
    [
        "Caf\u00e9 cr\u00e8me, na\u00efve fa\u00e7ade.".encode("cp1252"),
        "\ufeffUTF-16 text with a BOM".encode("utf-16"),
        "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8".encode(),
        b"BMW cars and MZ motorbikes are vehicles.",
        b"log line \x1b[31mred\x1b[0m " + b"ordinary words " * 20,
    ],
)
def test_text_in_various_encodings_is_text(data: bytes) -> None:
    assert detect_kind(data, "upload") is DocumentKind.TEXT


def test_utf8_cut_mid_character_in_sniffed_head_is_still_text() -> None:
    data = ("\u00e9" * 40_000).encode()  # longer than the sniffed head
    assert detect_kind(data, "e.txt") is DocumentKind.TEXT


def test_content_types() -> None:
    assert CONTENT_TYPES == {
        DocumentKind.PDF: "application/pdf",
        DocumentKind.DOCX: (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        ),
        DocumentKind.HTML: "text/html",
        DocumentKind.MARKDOWN: "text/markdown",
        DocumentKind.TEXT: "text/plain",
        DocumentKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        DocumentKind.XLS: "application/vnd.ms-excel",
        DocumentKind.CSV: "text/csv",
        DocumentKind.PPTX: (
            "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        ),
        DocumentKind.EPUB: "application/epub+zip",
        DocumentKind.WEBPAGE: "text/html",
        DocumentKind.IMAGE: "image/png",
    }


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\Desktop\\report.pdf", "report.pdf"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("a\x00b\x07c.pdf", "abc.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2066name\u2069\u200b.pdf", "name.pdf"),
        ("  many   spaces\t\nhere .pdf  ", "many spaces here .pdf"),
        ("R\u00e9sum\u00e9 \u65e5\u672c\u8a9e.docx", "R\u00e9sum\u00e9 \u65e5\u672c\u8a9e.docx"),
        ("e\u0301t\u00e9.md", "\u00e9t\u00e9.md"),
        ('what?<is>"this"|*.txt', "what__is__this___.txt"),
        (".bashrc", "bashrc"),
        ("..", "document"),
        ("../", "document"),
        ("", "document"),
        ("\x00\u202e", "document"),
        ("dir/", "document"),
    ],
)
def test_sanitize_filename(raw: str, clean: str) -> None:
    assert sanitize_filename(raw) == clean


def test_sanitize_filename_caps_length_keeping_extension() -> None:
    cleaned = sanitize_filename("\u00e4" * 500 + ".pdf")
    assert len(cleaned) == 200
    assert cleaned.endswith("\u00e4.pdf")


def test_sanitize_filename_caps_names_without_extension() -> None:
    assert sanitize_filename("x" * 500) == "x" * 200

import io
import re
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docx
import pypdfium2 as pdfium
import pytest

from app.documents.detect import DocumentKind
from app.documents.parsing import Page, ParseError, count_pages, parse_document
from tests.hostile_files import lying_docx

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
READABLE_PDFS = {
    "GeoBase_NHNC1_Data_Model_UML_EN.pdf": 19,
    "Seige_of_Vicksburg_Sample_OCR.pdf": 6,
    "crazyones.pdf": 1,
    "example.pdf": 1,
}
FORBIDDEN_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def pdf(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def parse(data: bytes, kind: DocumentKind) -> list[Page]:
    return list(parse_document(data, kind))


def assert_well_formed(pages: list[Page]) -> None:
    assert [page.number for page in pages] == list(range(1, len(pages) + 1))
    for page in pages:
        assert not FORBIDDEN_CONTROL_CHARS.search(page.text)
        for block in page.blocks:
            assert block.text
            assert page.text[block.char_start : block.char_end] == block.text


def docx_file(build: Callable[[Any], object]) -> bytes:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def only_page(data: bytes, kind: DocumentKind) -> Page:
    pages = parse(data, kind)
    assert len(pages) == 1
    assert_well_formed(pages)
    return pages[0]


def paths(page: Page) -> list[tuple[str, tuple[str, ...]]]:
    return [(block.text, block.heading_path) for block in page.blocks]


# --- PDF ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "page_count"), READABLE_PDFS.items())
def test_corpus_pdfs_parse_with_exact_offsets(name: str, page_count: int) -> None:
    pages = parse(pdf(name), DocumentKind.PDF)
    assert len(pages) == page_count
    assert count_pages(pdf(name), DocumentKind.PDF) == page_count
    assert_well_formed(pages)
    assert all(block.heading_path == () for page in pages for block in page.blocks)


def test_pdf_text_content_and_page_numbers() -> None:
    pages = parse(pdf("GeoBase_NHNC1_Data_Model_UML_EN.pdf"), DocumentKind.PDF)
    assert pages[0].text.startswith("National Hydro Network, Canada, Level 1")
    assert "Copyright Notice" in pages[1].text
    assert sum(len(page.blocks) for page in pages) > 19


def test_ocr_layer_is_read_and_line_break_hyphens_are_joined() -> None:
    first = parse(pdf("Seige_of_Vicksburg_Sample_OCR.pdf"), DocumentKind.PDF)[0]
    assert "dangerous for use" in first.text


def test_pdf_pages_stream_lazily() -> None:
    pages = parse_document(pdf("GeoBase_NHNC1_Data_Model_UML_EN.pdf"), DocumentKind.PDF)
    assert isinstance(pages, Iterator)
    assert next(pages).number == 1
    pages.close()


def test_encrypted_pdf() -> None:
    with pytest.raises(ParseError) as raised:
        parse(pdf("bad-encrypted.pdf"), DocumentKind.PDF)
    assert "password-protected PDF" in raised.value.message
    assert raised.value.message == (
        "This is a password-protected PDF; remove the password and upload it again."
    )


def test_truncated_pdf_is_reported_as_damaged_not_recovered() -> None:
    with pytest.raises(ParseError) as raised:
        parse(pdf("bad-truncated.pdf"), DocumentKind.PDF)
    assert raised.value.message == "This PDF is damaged or incomplete and could not be read."
    assert count_pages(pdf("bad-truncated.pdf"), DocumentKind.PDF) is None


def test_garbage_after_pdf_header_is_damaged() -> None:
    with pytest.raises(ParseError, match="damaged or incomplete"):
        parse(b"%PDF-1.7\n" + b"garbage " * 200, DocumentKind.PDF)


def test_pdf_without_text_layer() -> None:
    document = pdfium.PdfDocument.new()
    for _ in range(3):
        document.new_page(595, 842)
    buffer = io.BytesIO()
    document.save(buffer)
    document.close()
    pages = parse_document(buffer.getvalue(), DocumentKind.PDF)
    numbers = []
    with pytest.raises(ParseError) as raised:
        numbers.extend(page.number for page in pages)
    assert numbers == [1, 2, 3]
    assert raised.value.message == "No extractable text (scanned PDF; OCR not enabled)."


def test_pdf_over_page_limit_is_rejected_before_reading_pages() -> None:
    with pytest.raises(ParseError, match="19 pages; the limit is 5 pages"):
        next(
            parse_document(
                pdf("GeoBase_NHNC1_Data_Model_UML_EN.pdf"), DocumentKind.PDF, max_pages=5
            )
        )


def test_count_pages_is_none_for_unpaged_formats() -> None:
    assert count_pages(b"hello", DocumentKind.TEXT) is None


# --- DOCX --------------------------------------------------------------------------------


def test_docx_headings_paragraphs_and_tables() -> None:
    def build(document: Any) -> None:
        document.add_heading("Annual Report", level=0)
        document.add_heading("Finance", level=1)
        document.add_paragraph("Revenue grew.\tA tab stays.")
        document.add_paragraph("   ")
        document.add_heading("Costs", level=2)
        document.add_paragraph("Costs fell.")
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text, table.cell(0, 1).text = "Year", "Total"
        table.cell(1, 0).text, table.cell(1, 1).text = "2024", "12"
        document.add_heading("People", level=1)
        document.add_paragraph("Headcount is stable.")

    page = only_page(docx_file(build), DocumentKind.DOCX)
    assert page.number == 1
    assert paths(page) == [
        ("Annual Report", ("Annual Report",)),
        ("Finance", ("Annual Report", "Finance")),
        ("Revenue grew.\tA tab stays.", ("Annual Report", "Finance")),
        ("Costs", ("Annual Report", "Finance", "Costs")),
        ("Costs fell.", ("Annual Report", "Finance", "Costs")),
        ("Year | Total", ("Annual Report", "Finance", "Costs")),
        ("2024 | 12", ("Annual Report", "Finance", "Costs")),
        ("People", ("Annual Report", "People")),
        ("Headcount is stable.", ("Annual Report", "People")),
    ]


def test_docx_without_text() -> None:
    data = docx_file(lambda document: document.add_paragraph(""))
    with pytest.raises(ParseError) as raised:
        parse(data, DocumentKind.DOCX)
    assert raised.value.message == "The document contains no extractable text."


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"PK\x03\x04 not really a zip", id="not-a-zip"),
        pytest.param(b"", id="empty"),
    ],
)
def test_invalid_docx_is_damaged(data: bytes) -> None:
    with pytest.raises(ParseError) as raised:
        parse(data, DocumentKind.DOCX)
    assert raised.value.message == "This Word document is damaged and could not be read."


def test_docx_with_broken_xml_is_damaged() -> None:
    original = docx_file(lambda document: document.add_paragraph("Hello"))
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(original)) as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for member in source.infolist():
            content = source.read(member)
            if member.filename == "word/document.xml":
                content = content[: len(content) // 2]
            target.writestr(member, content)
    with pytest.raises(ParseError, match="Word document is damaged"):
        parse(buffer.getvalue(), DocumentKind.DOCX)


def test_truncated_docx_is_damaged() -> None:
    data = docx_file(lambda document: document.add_paragraph("Hello"))
    with pytest.raises(ParseError, match="Word document is damaged"):
        parse(data[: len(data) - 100], DocumentKind.DOCX)


def with_extra_members(data: bytes, members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


ZIP_BOMB_MESSAGE = "This Word document is too large when uncompressed (possible zip bomb)."


def test_docx_zip_bomb_by_compression_ratio() -> None:
    base = docx_file(lambda document: document.add_paragraph("Hello"))
    bomb = with_extra_members(base, {"word/media/zeros.bin": bytes(11 * 1024 * 1024)})
    assert len(bomb) < 100_000
    with pytest.raises(ParseError) as raised:
        parse(bomb, DocumentKind.DOCX)
    assert raised.value.message == ZIP_BOMB_MESSAGE


def test_docx_that_lies_about_its_uncompressed_size_is_a_zip_bomb() -> None:
    """document.xml declares 4 kB and inflates to 64 MB: refused after the first 64 kB
    piece, as a zip bomb (the old check trusted the declared size, then zipfile inflated
    it all and the document was reported as damaged)."""
    bomb = lying_docx(64 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(ParseError) as raised:
            parse(bomb, DocumentKind.DOCX)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raised.value.message == ZIP_BOMB_MESSAGE
    assert peak < 8 * 1024 * 1024


def test_docx_zip_bomb_by_entry_count() -> None:
    base = docx_file(lambda document: document.add_paragraph("Hello"))
    entries = {f"bulk/item{index}.xml": b"" for index in range(10_001)}
    bomb = with_extra_members(base, entries)
    with pytest.raises(ParseError, match="possible zip bomb"):
        parse(bomb, DocumentKind.DOCX)


def test_docx_with_modest_media_is_fine() -> None:
    base = docx_file(lambda document: document.add_paragraph("Hello"))
    data = with_extra_members(base, {"word/media/zeros.bin": bytes(5 * 1024 * 1024)})
    assert only_page(data, DocumentKind.DOCX).text == "Hello"


# --- HTML --------------------------------------------------------------------------------

HTML_PAGE = b"""<!DOCTYPE html>
<html><head><title>Site Title</title>
<style>body { color: STYLE_LEAK }</style>
<script>var SCRIPT_LEAK = 1;</script></head>
<body>
<h1>Main   Heading</h1>
<p>First &amp; foremost,
   a paragraph   with <b>bold</b> text.</p>
<!-- COMMENT_LEAK -->
<noscript>NOSCRIPT_LEAK</noscript>
<template><p>TEMPLATE_LEAK</p></template>
<iframe src="x">IFRAME_LEAK</iframe>
<h2>Part A</h2><div>Loose text<p>Nested paragraph</p></div>
<h3>Detail</h3><ul><li>one</li><li>two</li></ul>
<h2>Part B</h2><script>document.write("INLINE_SCRIPT_LEAK")</script><p>Last words.</p>
</body></html>"""


def test_html_structure_and_headings() -> None:
    page = only_page(HTML_PAGE, DocumentKind.HTML)
    assert paths(page) == [
        ("Main Heading", ("Main Heading",)),
        ("First & foremost, a paragraph with bold text.", ("Main Heading",)),
        ("Part A", ("Main Heading", "Part A")),
        ("Loose text", ("Main Heading", "Part A")),
        ("Nested paragraph", ("Main Heading", "Part A")),
        ("Detail", ("Main Heading", "Part A", "Detail")),
        ("one", ("Main Heading", "Part A", "Detail")),
        ("two", ("Main Heading", "Part A", "Detail")),
        ("Part B", ("Main Heading", "Part B")),
        ("Last words.", ("Main Heading", "Part B")),
    ]


def test_html_never_indexes_hidden_content() -> None:
    page = only_page(HTML_PAGE, DocumentKind.HTML)
    assert "LEAK" not in page.text


def test_html_title_is_top_heading_without_h1() -> None:
    html = b"<html><head><title>Handbook</title></head><body><p>Intro.</p><h2>Rules</h2><p>Be kind.</p></body></html>"
    page = only_page(html, DocumentKind.HTML)
    assert paths(page) == [
        ("Handbook", ("Handbook",)),
        ("Intro.", ("Handbook",)),
        ("Rules", ("Handbook", "Rules")),
        ("Be kind.", ("Handbook", "Rules")),
    ]


def test_deeply_nested_html_does_not_overflow_the_stack() -> None:
    html = b"<html><body>" + b"<div>" * 5000 + b"deep text" + b"</div>" * 5000 + b"</body></html>"
    assert "deep text" in only_page(html, DocumentKind.HTML).text


def test_html_with_only_scripts_has_no_text() -> None:
    with pytest.raises(ParseError, match="no extractable text"):
        parse(b"<html><script>alert(1)</script></html>", DocumentKind.HTML)


# --- Markdown ----------------------------------------------------------------------------

MARKDOWN_DOC = """Guide
=====

Intro with *emphasis*, `code` and a [link](https://example.com).
Second line of the same paragraph. <script>INLINE_SCRIPT_LEAK</script> Tail.

## Install

- step one
- step two

```bash
pip install docchat
```

<script>
BLOCK_SCRIPT_LEAK
</script>

### Options

| name | default |
|------|---------|
| port | 8000    |

Setext Two
----------

Done.
"""


def test_markdown_structure_and_headings() -> None:
    page = only_page(MARKDOWN_DOC.encode(), DocumentKind.MARKDOWN)
    assert "LEAK" not in page.text
    assert paths(page) == [
        ("Guide", ("Guide",)),
        (
            "Intro with emphasis, code and a link.\nSecond line of the same paragraph. Tail.",
            ("Guide",),
        ),
        ("Install", ("Guide", "Install")),
        ("step one", ("Guide", "Install")),
        ("step two", ("Guide", "Install")),
        ("pip install docchat", ("Guide", "Install")),
        ("Options", ("Guide", "Install", "Options")),
        ("name | default", ("Guide", "Install", "Options")),
        ("port | 8000", ("Guide", "Install", "Options")),
        ("Setext Two", ("Guide", "Setext Two")),
        ("Done.", ("Guide", "Setext Two")),
    ]


# --- Plain text --------------------------------------------------------------------------


def test_text_paragraphs_newlines_and_control_characters() -> None:
    data = "\ufeffFirst line\r\nsame paragraph  \r\n\r\n\r\nSecond\x00 para\x07graph\rend\n\n\n".encode()
    page = only_page(data, DocumentKind.TEXT)
    assert page.text == "First line\nsame paragraph\n\nSecond paragraph\nend"
    assert [block.text for block in page.blocks] == [
        "First line\nsame paragraph",
        "Second paragraph\nend",
    ]
    assert all(block.heading_path == () for block in page.blocks)


def test_text_in_legacy_encoding() -> None:
    data = "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, na\u00efve fa\u00e7ade.".encode("cp1252")
    assert only_page(data, DocumentKind.TEXT).text == (
        "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, na\u00efve fa\u00e7ade."
    )


def test_utf16_text_with_bom() -> None:
    data = "Hello \u4e16\u754c".encode("utf-16")
    assert only_page(data, DocumentKind.TEXT).text == "Hello \u4e16\u754c"


@pytest.mark.parametrize("data", [b"", b"   \n\n\t  \r\n", b"\x00\x00"])
def test_blank_text_has_no_extractable_text(data: bytes) -> None:
    with pytest.raises(ParseError) as raised:
        parse(data, DocumentKind.TEXT)
    assert raised.value.message == "The document contains no extractable text."

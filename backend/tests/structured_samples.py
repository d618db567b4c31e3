"""Sample documents of the structured formats, written with the libraries DocChat reads them
with (openpyxl, python-pptx, ebooklib), plus hostile variants (decompression bombs)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import xlwt
from ebooklib import epub
from pptx import Presentation
from pptx.util import Inches

LIGHTHOUSE_ROWS = [
    ("Lighthouse", "Country", "First lit", "Height (m)", "Notes"),
    ("Bell Rock", "Scotland", 1810, 35, "Oldest surviving sea-washed lighthouse in the world"),
    ("Eddystone", "England", 1882, 49, "Fourth tower on the reef"),
    ("Hook Head", "Ireland", 1245, 35, "Monks kept a beacon here for centuries"),
    ("Fastnet", "Ireland", 1904, 54, "Known as Ireland's Teardrop"),
]
# A sentence in the second sheet, far down, with its row number.
SECOND_SHEET = "Keepers"
KEEPER_ROW = 42
KEEPER_SENTENCE = "Grace Darling rowed out through the storm to rescue nine survivors"


def xlsx_two_sheets() -> bytes:
    """Sheet "Lighthouses" (header + 4 rows), sheet "Keepers" (header, 40 filler rows, then
    the keeper sentence on row 42)."""
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.title = "Lighthouses"
    for row in LIGHTHOUSE_ROWS:
        first.append(row)
    second = workbook.create_sheet(SECOND_SHEET)
    second.append(("Keeper", "Station", "Year", "Deed"))
    for index in range(2, KEEPER_ROW):
        second.append((f"Keeper {index}", f"Station {index}", 1800 + index, "Routine watch"))
    second.append(("Grace Darling", "Longstone", 1838, KEEPER_SENTENCE))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xls_workbook() -> bytes:
    """An Excel 97-2003 workbook (xlwt): sheet "Tides" with a date column and a blank row."""
    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Tides")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    sheet.write(0, 0, "Date")
    sheet.write(0, 1, "Harbour")
    sheet.write(0, 2, "High water")
    sheet.write(1, 0, dt.date(2026, 3, 14), date_style)
    sheet.write(1, 1, "Arbroath")
    sheet.write(1, 2, 4.5)
    # Row 3 is left blank.
    sheet.write(3, 0, dt.date(2026, 3, 15), date_style)
    sheet.write(3, 1, "Stromness")
    sheet.write(3, 2, "Spring tide floods the slipway")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def pptx_with_notes_and_table() -> bytes:
    """Slide 1: title and bullet; slide 2: a table; slide 3: speaker notes."""
    presentation = Presentation()
    title_and_content = presentation.slide_layouts[1]
    slide = presentation.slides.add_slide(title_and_content)
    slide.shapes.title.text = "Fog signals"
    slide.placeholders[1].text = "Horns replaced bells in the late nineteenth century."
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "Signal ranges"
    table = slide.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(1.5)).table
    for row, cells in enumerate(
        [("Signal", "Range"), ("Diaphone", "5 miles"), ("Siren", "3 miles")]
    ):
        for column, value in enumerate(cells):
            table.cell(row, column).text = value
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "Questions"
    slide.notes_slide.notes_text_frame.text = (
        "Remind the audience that the keeper wound the clockwork every four hours."
    )
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def epub_two_chapters() -> bytes:
    book = epub.EpubBook()
    book.set_identifier("docchat-sample")
    book.set_title("A Keeper's Year")
    book.set_language("en")
    cover = epub.EpubHtml(
        title="Cover", file_name="cover.xhtml", content="<html><body><div> </div></body></html>"
    )
    first = epub.EpubHtml(title="Winter", file_name="winter.xhtml")
    first.content = (
        "<html><body><h1>Winter</h1><p>Ice forms on the lantern glass and must be scraped "
        "before dusk.</p></body></html>"
    )
    second = epub.EpubHtml(title="Summer", file_name="summer.xhtml")
    second.content = (
        "<html><body><h1>Summer</h1><h2>Visitors</h2><p>The supply boat brings paraffin "
        "and letters every second Tuesday.</p></body></html>"
    )
    for item in (cover, first, second):
        book.add_item(item)
    book.toc = [first, second]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = [cover, "nav", first, second]
    buffer = io.BytesIO()
    epub.write_epub(buffer, book)
    return buffer.getvalue()


def zip_bomb_like(valid: bytes, member: str, inflated_mb: int = 300) -> bytes:
    """``valid`` (an Office file or EPUB) with ``member`` replaced by ``inflated_mb`` MB of
    zeros: a few hundred kB on disk."""
    source = zipfile.ZipFile(io.BytesIO(valid))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == member:
                with target.open(member, "w", force_zip64=True) as stream:
                    chunk = b"\0" * (1024 * 1024)
                    for _ in range(inflated_mb):
                        stream.write(chunk)
            else:
                target.writestr(info, source.read(info.filename))
    return buffer.getvalue()

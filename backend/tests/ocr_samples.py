"""Scanned documents, images and tables made with the libraries DocChat reads them with.

Pages are drawn by Pillow as pictures of text: a PDF made from them has no text layer at all,
so only OCR can find their words. Also used by the Playwright specs:
``python -m tests.ocr_samples scanned-pdf OUT.pdf``.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence

import docx
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

# A letter page at 200 DPI.
PAGE_SIZE = (1700, 2200)
FONT_SIZE = 34
LINE_HEIGHT = 56
MARGIN = 150

LIGHTHOUSE_PAGES = (
    (
        "Lighthouse keeping",
        "The keeper records the weather in the log every morning at six.",
        "Storm warnings are raised when the barometer falls quickly.",
    ),
    (
        "Harbour pilots",
        "Pilots board incoming ships at the outer buoy, whatever the weather.",
        "A pilot stays on the bridge until the ship is moored.",
    ),
)
# On page 2 of the samples: what searches look for.
PILOT_SENTENCE = "Pilots board incoming ships at the outer buoy, whatever the weather."


def page_image(lines: Sequence[str], size: tuple[int, int] = PAGE_SIZE) -> Image.Image:
    """A white page with the lines printed in black, as a scanner would see it."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=FONT_SIZE)
    for index, line in enumerate(lines):
        draw.text((MARGIN, MARGIN + index * LINE_HEIGHT), line, fill=0, font=font)
    return image


def scanned_pdf(pages: Sequence[Sequence[str]] = LIGHTHOUSE_PAGES) -> bytes:
    """A PDF of page images and no text layer (Pillow's PDF writer embeds the pictures only)."""
    images = [page_image(lines) for lines in pages]
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=200)
    return buffer.getvalue()


def image_file(format_name: str, pages: Sequence[Sequence[str]] = LIGHTHOUSE_PAGES) -> bytes:
    """The pages as one image file: a multi-page TIFF holds all of them, other formats the
    first."""
    images = [page_image(lines) for lines in pages]
    buffer = io.BytesIO()
    if format_name == "TIFF":
        images[0].save(
            buffer, "TIFF", save_all=True, append_images=images[1:], compression="tiff_deflate"
        )
    else:
        images[0].save(buffer, format_name)
    return buffer.getvalue()


def mixed_pdf() -> bytes:
    """Page 1 has a text layer (fpdf2); page 2 is only a picture of text."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 7, "Tide tables are printed for every day of the year in the almanac.")
    pdf.add_page()
    pdf.image(page_image(LIGHTHOUSE_PAGES[1]), x=0, y=0, w=pdf.w, h=pdf.h)
    return bytes(pdf.output())


PILOTS_HEADER = ("Pilot", "Station", "Licence")


def pilot_rows(count: int) -> list[tuple[str, str, str]]:
    return [
        (f"Pilot {n:02d} Name{n}", f"Station {chr(65 + n % 6)}", f"L-{1000 + n}")
        for n in range(count)
    ]


def table_pdf(rows: int = 60) -> bytes:
    """Prose, a table of pilots that runs over two pages (its header row repeated on the second,
    as fpdf2 does), then prose."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Harbour pilots and their stations. The table lists every pilot.")
    with pdf.table(repeat_headings=1) as table:
        for values in [PILOTS_HEADER, *pilot_rows(rows)]:
            row = table.row()
            for value in values:
                row.cell(value)
    pdf.multi_cell(0, 6, "After the table comes closing prose about the harbour.")
    return bytes(pdf.output())


def table_docx(rows: int = 60) -> bytes:
    document = docx.Document()
    document.add_heading("Harbour pilots", level=1)
    document.add_paragraph("The table lists every pilot with the station and licence.")
    table = document.add_table(rows=1, cols=3)
    for cell, value in zip(table.rows[0].cells, PILOTS_HEADER, strict=True):
        cell.text = value
    for values in pilot_rows(rows):
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    document.add_paragraph("After the table comes closing prose about the harbour.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


SAMPLES = {
    "scanned-pdf": scanned_pdf,
    "tiff": lambda: image_file("TIFF"),
    "png": lambda: image_file("PNG"),
}

if __name__ == "__main__":
    name, path = sys.argv[1], sys.argv[2]
    with open(path, "wb") as out:
        out.write(SAMPLES[name]())

"""Tables: each row a block of its own, marked with its table and whether it is a header row.

Chunking (``app.documents.chunking``) keeps a table's rows together and starts every chunk
that continues a table with its header rows, so a passage of rows always says what its
columns are; a table that runs over a page break stays one table (one run of passages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from docx.oxml.ns import qn
from docx.table import Table

CELL_SEPARATOR = " | "
ANY_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class TableMark:
    table: int  # tables are numbered in reading order within a document
    header: bool


class TableRow(NamedTuple):
    """A raw block (text, heading level) that is a row of a table."""

    text: str
    level: None
    table: TableMark


def docx_table_rows(table: Table, number: int) -> list[TableRow]:
    """The rows as "cell | cell" lines. Header rows are those Word repeats on every page
    (``w:tblHeader``), else the first row."""
    rows: list[TableRow] = []
    marked_headers = [_repeats_as_header(row) for row in table.rows]
    for index, row in enumerate(table.rows):
        cells = [ANY_WHITESPACE.sub(" ", cell.text).strip() for cell in row.cells]
        # Merged cells are repeated by python-docx once per grid column they span.
        distinct = [
            cell for position, cell in enumerate(cells) if cell and cell not in cells[:position]
        ]
        header = marked_headers[index] if any(marked_headers) else index == 0
        rows.append(TableRow(CELL_SEPARATOR.join(distinct), None, TableMark(number, header)))
    return rows


def _repeats_as_header(row: object) -> bool:
    properties = getattr(row, "_tr").trPr  # noqa: B009 - python-docx has no public accessor
    if properties is None:
        return False
    flag = properties.find(qn("w:tblHeader"))
    return flag is not None and flag.get(qn("w:val"), "true") not in ("0", "false", "off")


# --- PDF ---------------------------------------------------------------------------------

# A gap wider than this many line heights between two text runs separates two cells.
CELL_GAP_LINE_HEIGHTS = 1.0
MIN_TABLE_ROWS = 3  # the header and two rows
# Longer cells are prose (two text columns side by side), not a table.
MAX_CELL_CHARS = 60
MAX_MEAN_CELL_CHARS = 24
# A first column of bullets ("-", "+", "•") is a list; one of labels ("Author:") a form.
LIST_MARKER = re.compile(r"^\W{1,2}$")
# A table that ends within this many lines of a page's end continues on the next page when
# that page starts (within as many lines) with rows of as many columns.
PAGE_EDGE_LINES = 3


@dataclass(frozen=True)
class _Run:
    left: float
    bottom: float
    right: float
    top: float
    text: str


@dataclass
class PdfTable:
    rows: list[list[str]]  # cell texts, in reading order
    first_line: int  # positions among the page's lines
    last_line: int
    line_count: int


def row_key(text: str) -> str:
    """What a row and a line of page text share whatever their spacing: no whitespace or bars."""
    return "".join(char for char in text if not char.isspace() and char != "|")


def pdf_tables(text_page: Any) -> list[PdfTable]:
    """Tables on a PDF page, found from where pdfium's text runs sit: three or more lines in
    a row that each split into the same number (two or more) of short cells, the cells of one
    column overlapping horizontally from line to line."""
    lines = _lines(_runs(text_page))
    tables: list[PdfTable] = []
    run: list[tuple[int, list[_Run]]] = []
    for position, cells in enumerate(lines):
        if run and not _aligned(run[-1][1], cells):
            _close(run, tables, len(lines))
            run = []
        if _is_row(cells):
            run.append((position, cells))
    _close(run, tables, len(lines))
    return tables


def _runs(text_page: Any) -> list[_Run]:
    runs = []
    for index in range(text_page.count_rects()):
        left, bottom, right, top = text_page.get_rect(index)
        text = ANY_WHITESPACE.sub(" ", text_page.get_text_bounded(left, bottom, right, top)).strip()
        if text:
            runs.append(_Run(left, bottom, right, top, text))
    return runs


def _lines(runs: list[_Run]) -> list[list[_Run]]:
    """Runs grouped into lines (top to bottom), each line's runs merged into cells."""
    lines: list[list[_Run]] = []
    for run in sorted(runs, key=lambda r: -r.top):
        line = lines[-1] if lines else None
        if line and _same_line(line[0], run):
            line.append(run)
        else:
            lines.append([run])
    return [_cells(sorted(line, key=lambda r: r.left)) for line in lines]


def _same_line(a: _Run, b: _Run) -> bool:
    middle = (b.top + b.bottom) / 2
    return a.bottom <= middle <= a.top


def _cells(runs: list[_Run]) -> list[_Run]:
    cells = [runs[0]]
    for run in runs[1:]:
        last = cells[-1]
        height = max(last.top - last.bottom, run.top - run.bottom, 1.0)
        if run.left - last.right > CELL_GAP_LINE_HEIGHTS * height:
            cells.append(run)
        else:
            cells[-1] = _Run(
                last.left, min(last.bottom, run.bottom), max(last.right, run.right),
                max(last.top, run.top), f"{last.text} {run.text}",
            )  # fmt: skip
    return cells


def _is_row(cells: list[_Run]) -> bool:
    return len(cells) >= 2 and max(len(cell.text) for cell in cells) <= MAX_CELL_CHARS


def _aligned(above: list[_Run], below: list[_Run]) -> bool:
    return len(above) == len(below) and all(
        a.left < b.right and b.left < a.right for a, b in zip(above, below, strict=True)
    )


def _close(run: list[tuple[int, list[_Run]]], tables: list[PdfTable], line_count: int) -> None:
    rows = [[cell.text for cell in cells] for _, cells in run]
    if len(rows) >= MIN_TABLE_ROWS and _looks_like_table(rows):
        tables.append(PdfTable(rows, run[0][0], run[-1][0], line_count))


def _looks_like_table(rows: list[list[str]]) -> bool:
    cells = [cell for row in rows for cell in row]
    first_column = [row[0] for row in rows]
    return (
        sum(len(cell) for cell in cells) / len(cells) <= MAX_MEAN_CELL_CHARS
        and not all(LIST_MARKER.match(cell) for cell in first_column)
        and sum(cell.endswith(":") for cell in first_column) * 2 < len(first_column)
    )


class PdfTableMarker:
    """Marks the lines of a PDF's pages that are table rows, page after page, numbering the
    tables and carrying a table over a page break (its repeated header row stays a header)."""

    def __init__(self) -> None:
        self._count = 0
        # The table that ended the previous page: (number, columns, header key).
        self._open: tuple[int, int, str] | None = None

    def page_rows(self, tables: list[PdfTable]) -> dict[str, list[TableRow]]:
        """For each row's key (``row_key`` of its line of page text), the rows with that key
        in reading order, as "cell | cell" text with their marks."""
        marks: dict[str, list[TableRow]] = {}
        open_table, self._open = self._open, None
        for index, table in enumerate(tables):
            columns = len(table.rows[0])
            continues = (
                index == 0
                and open_table is not None
                and open_table[1] == columns
                and table.first_line < PAGE_EDGE_LINES
            )
            if continues and open_table is not None:
                number, header_key = open_table[0], open_table[2]
                headers = [row_key(" ".join(table.rows[0])) == header_key]
            else:
                self._count += 1
                number, header_key = self._count, row_key(" ".join(table.rows[0]))
                headers = [True]
            headers += [False] * (len(table.rows) - 1)
            for row, header in zip(table.rows, headers, strict=True):
                marks.setdefault(row_key(" ".join(row)), []).append(
                    TableRow(CELL_SEPARATOR.join(row), None, TableMark(number, header))
                )
            if table.line_count - 1 - table.last_line < PAGE_EDGE_LINES:
                self._open = (number, columns, header_key)
        return marks

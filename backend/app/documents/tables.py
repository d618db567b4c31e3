"""Tables: each row a block of its own, marked with its table and whether it is a header row.

Chunking (``app.documents.chunking``) keeps a table's rows together and starts every chunk
that continues a table with its header rows, so a passage of rows always says what its
columns are; a table that runs over a page break stays one table (one run of passages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

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

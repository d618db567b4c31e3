"""Spreadsheets: XLSX (openpyxl, read-only and streaming), XLS (xlrd) and CSV/TSV.

A sheet becomes one page whose paragraphs are its non-empty rows, cells joined by
``" | "`` (trailing empty cells dropped, empty cells inside a row kept so columns line up),
and ``Page.row_numbers`` keeps each row's number in the sheet. The first non-empty row is
the header row that ``tables.chunk_table_pages`` repeats with every group of rows.

Bounds (``FormatLimits``): rows and cells of the whole workbook, and characters per row.
Reading stops at the first row past a bound, with a sentence saying which bound and where.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Sequence

from app.documents.bounded_zip import ArchiveError, ArchiveLimits, ArchiveTooLarge, BoundedZip
from app.documents.detect import decode_text
from app.documents.formats.limits import FormatLimits
from app.documents.parsing import PARAGRAPH_SEPARATOR, Block, Page, ParseError, clean_text

CELL_SEPARATOR = " | "
DAMAGED_XLSX = "This Excel workbook is damaged and could not be read."
DAMAGED_XLS = "This Excel 97-2003 workbook (.xls) is damaged or protected and could not be read."
XLSX_ZIP_BOMB = "This Excel workbook is too large when uncompressed (possible zip bomb)."
TOO_MANY_ROWS = (
    "This spreadsheet has more than {limit:,} rows with data (the limit of this server), "
    "reached on {where}. Split it into smaller files, or ask the administrator to raise "
    "SPREADSHEET_MAX_ROWS."
)
TOO_MANY_CELLS = (
    "This spreadsheet has more than {limit:,} cells (the limit of this server), reached on "
    "{where}. Split it into smaller files, or ask the administrator to raise "
    "SPREADSHEET_MAX_CELLS."
)
ROW_TOO_LONG = (
    "{where} is longer than {limit:,} characters (the limit of this server for one row). "
    "If it is a CSV file, check that its quotes are balanced; otherwise shorten that row."
)
CSV_UNREADABLE = "This CSV file could not be read at {where}: {reason}."

ARCHIVE_LIMITS = ArchiveLimits()
# How much of a CSV file the dialect is sniffed from.
SNIFF_CHARS = 64 * 1024
CSV_DELIMITERS = ",;\t|"
ANY_WHITESPACE = re.compile(r"\s+")


class RowBudget:
    """Counts rows and cells of a whole workbook against its limits."""

    def __init__(self, limits: FormatLimits) -> None:
        self._limits = limits
        self._rows = 0
        self._cells = 0

    def add(self, cells: Sequence[str], where: str) -> None:
        self._rows += 1
        self._cells += len(cells)
        if self._rows > self._limits.max_sheet_rows:
            raise ParseError(TOO_MANY_ROWS.format(limit=self._limits.max_sheet_rows, where=where))
        if self._cells > self._limits.max_sheet_cells:
            raise ParseError(TOO_MANY_CELLS.format(limit=self._limits.max_sheet_cells, where=where))
        length = sum(len(cell) for cell in cells) + len(CELL_SEPARATOR) * (len(cells) - 1)
        if length > self._limits.max_row_chars:
            raise ParseError(
                ROW_TOO_LONG.format(limit=self._limits.max_row_chars, where=where.capitalize())
            )


def table_page(
    number: int,
    title: str | None,
    rows: Iterable[tuple[int, Sequence[object]]],
    budget: RowBudget,
) -> Page | None:
    """The page of one sheet from its ``(row number, values)``; None when it has no data."""
    texts: list[str] = []
    row_numbers: list[int] = []
    for row_number, values in rows:
        cells = [cell_text(value) for value in values]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        place = f"row {row_number:,}" + (f' of sheet "{title}"' if title else "")
        budget.add(cells, place)
        texts.append(CELL_SEPARATOR.join(cells))
        row_numbers.append(row_number)
    if not texts:
        return None
    heading = (title,) if title else ()
    blocks: list[Block] = []
    offset = 0
    for text in texts:
        blocks.append(Block(text, heading, offset, offset + len(text)))
        offset += len(text) + len(PARAGRAPH_SEPARATOR)
    return Page(
        number,
        PARAGRAPH_SEPARATOR.join(texts),
        blocks,
        title=title,
        row_numbers=tuple(row_numbers),
    )


def cell_text(value: object) -> str:
    """A cell as a reader sees it: whole numbers without ".0", dates without a midnight time,
    whitespace (line breaks inside a cell included) collapsed to single spaces."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return ANY_WHITESPACE.sub(" ", clean_text(str(value))).strip()


# --- XLSX --------------------------------------------------------------------------------


def xlsx_pages(data: bytes, limits: FormatLimits) -> Iterator[Page]:
    import openpyxl

    _verify_archive(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as error:  # openpyxl fails in many ways on malformed packages
        raise ParseError(DAMAGED_XLSX) from error
    budget = RowBudget(limits)
    number = 0
    try:
        for sheet in workbook.worksheets:
            # The declared dimensions can lie (A1:XFD1048576): read the rows that exist.
            # The declared dimensions can lie (A1:XFD1048576): read the rows that exist.
            sheet.reset_dimensions()
            # Read-only rows come one per sheet row from row 1, missing rows as empty tuples.
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            page = table_page(number + 1, sheet.title, rows, budget)
            if page is not None:
                number += 1
                yield page
    except (ParseError, MemoryError):
        raise
    except Exception as error:
        raise ParseError(DAMAGED_XLSX) from error
    finally:
        workbook.close()


def _verify_archive(data: bytes) -> None:
    try:
        BoundedZip(data, ARCHIVE_LIMITS).verify()
    except ArchiveTooLarge as error:
        raise ParseError(XLSX_ZIP_BOMB) from error
    except ArchiveError as error:
        raise ParseError(DAMAGED_XLSX) from error


# --- XLS ---------------------------------------------------------------------------------


def xls_pages(data: bytes, limits: FormatLimits) -> Iterator[Page]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except MemoryError:
        raise
    except Exception as error:  # xlrd raises XLRDError, CompDocError, struct errors...
        raise ParseError(DAMAGED_XLS) from error
    budget = RowBudget(limits)
    number = 0
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            page = table_page(number + 1, sheet.name, _xls_rows(book, sheet), budget)
            book.unload_sheet(index)
            if page is not None:
                number += 1
                yield page
    except (ParseError, MemoryError):
        raise
    except Exception as error:
        raise ParseError(DAMAGED_XLS) from error
    finally:
        book.release_resources()


def _xls_rows(book: object, sheet: object) -> Iterator[tuple[int, list[object]]]:
    import xlrd

    datemode = book.datemode  # type: ignore[attr-defined]
    for index in range(sheet.nrows):  # type: ignore[attr-defined]
        values: list[object] = []
        for cell in sheet.row(index):  # type: ignore[attr-defined]
            if cell.ctype == xlrd.XL_CELL_DATE:
                try:
                    values.append(xlrd.xldate.xldate_as_datetime(cell.value, datemode))
                except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                    values.append(cell.value)
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                values.append(bool(cell.value))
            elif cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                values.append(None)
            else:
                values.append(cell.value)
        yield index + 1, values


# --- CSV / TSV ---------------------------------------------------------------------------


def csv_pages(data: bytes, limits: FormatLimits) -> Iterator[Page]:
    """One page of records; encoding detected (BOM, UTF-8, then charset detection) and
    dialect sniffed (delimiter among , ; tab |, quoting)."""
    text = decode_text(data)
    if text is None:
        text = data.decode("utf-8", errors="replace")
    dialect = _sniff_dialect(text[:SNIFF_CHARS])
    # A field may not be longer than a row; the csv module's own limit is module-wide.
    csv.field_size_limit(limits.max_row_chars)
    lines = _bounded_lines(io.StringIO(text, newline=""), limits.max_row_chars)
    reader = csv.reader(lines, dialect)
    budget = RowBudget(limits)
    page = table_page(1, None, _csv_rows(reader, limits), budget)
    if page is not None:
        yield page


class _LineTooLong(Exception):
    pass


def _bounded_lines(lines: Iterable[str], max_chars: int) -> Iterator[str]:
    """The file's lines, stopping at one longer than a row may be (before the csv module
    splits it into millions of fields)."""
    for line in lines:
        if len(line) > max_chars + 2:  # the line break
            raise _LineTooLong
        yield line


def _csv_rows(reader: Iterator[list[str]], limits: FormatLimits) -> Iterator[tuple[int, list[str]]]:
    number = 0
    while True:
        number += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, _LineTooLong) as error:
            if isinstance(error, _LineTooLong) or "field larger than field limit" in str(error):
                raise ParseError(
                    ROW_TOO_LONG.format(limit=limits.max_row_chars, where=f"Row {number:,}")
                ) from None
            raise ParseError(
                CSV_UNREADABLE.format(where=f"row {number:,}", reason=str(error))
            ) from None
        yield number, row


def _sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """The sample's dialect; a file the sniffer cannot settle is read with the delimiter
    its first line has most of (a one-column file: comma)."""
    # The sniffer judges whole lines: drop a last line cut short by the sample's end.
    if "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS)
    except csv.Error:
        first_line = sample.split("\n", 1)[0]
        delimiter = max(CSV_DELIMITERS, key=first_line.count)
        if not first_line.count(delimiter):
            delimiter = ","
        dialect = csv.excel()
        dialect.delimiter = delimiter
        return dialect

"""Bounds on what one document of a structured format may hold (settings in ``core.settings``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FormatLimits:
    # Rows of all sheets together (empty rows not counted).
    max_sheet_rows: int = 200_000
    # Cells of all sheets together, counted up to each row's last non-empty cell.
    max_sheet_cells: int = 5_000_000
    # Characters of one row (its cells joined), and so of one CSV field.
    max_row_chars: int = 100_000

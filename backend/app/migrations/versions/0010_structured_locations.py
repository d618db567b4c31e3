"""Locations of structured formats: a spreadsheet passage's sheet and rows, a page's title
(sheet, slide or chapter) and row numbers, and the address a document was imported from.

`chunks.sheet`, `row_start`, `row_end` name the rows a spreadsheet passage quotes (NULL for
other formats). `document_pages.title` is what the viewer calls the location; its
`row_numbers` give each row of a sheet's text its row number in the sheet.
`documents.source_url` is the address of a document imported from the web. All nullable
additions: the previous release neither reads nor writes them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("chunks", sa.Column("sheet", sa.Text(), nullable=True))
    op.add_column("chunks", sa.Column("row_start", sa.Integer(), nullable=True))
    op.add_column("chunks", sa.Column("row_end", sa.Integer(), nullable=True))
    op.add_column("document_pages", sa.Column("title", sa.Text(), nullable=True))
    op.add_column(
        "document_pages", sa.Column("row_numbers", postgresql.ARRAY(sa.Integer()), nullable=True)
    )
    op.add_column("documents", sa.Column("source_url", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("documents", "source_url")
    op.drop_column("document_pages", "row_numbers")
    op.drop_column("document_pages", "title")
    op.drop_column("chunks", "row_end")
    op.drop_column("chunks", "row_start")
    op.drop_column("chunks", "sheet")

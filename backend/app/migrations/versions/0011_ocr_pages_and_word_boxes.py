"""OCR: how many pages of a document OCR read, a notice for its owner, and word boxes per page.

`documents.ocr_pages` counts the pages whose text came from OCR (NULL: none) and
`documents.notice` says what the owner should know about a ready document (pages OCR could not
read). `document_pages.words` holds a box per word of an OCR page, so the viewer can mark a
cited sentence on the page image. All additions: the previous release neither reads nor writes
them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("documents", sa.Column("ocr_pages", sa.Integer(), nullable=True))
    op.add_column("documents", sa.Column("notice", sa.Text(), nullable=True))
    op.add_column("document_pages", sa.Column("words", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("document_pages", "words")
    op.drop_column("documents", "notice")
    op.drop_column("documents", "ocr_pages")

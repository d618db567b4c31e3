"""Page text for the document viewer, and where each chunk lies on its pages.

`document_pages` holds DocChat's extracted text of every page (a PDF page; the one "page"
of a DOCX, HTML, Markdown or text file; later a sheet, a slide, a chapter): the text that
every chunk span and citation highlight indexes, plus the spans of it that are running
headers, footers and page numbers. `chunks.spans` lists a chunk's (page, start, end) slices;
it is NULL for chunks written before this revision until their document is reindexed.
Both are additions: the previous release neither reads nor writes them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("chunks", sa.Column("spans", postgresql.JSONB(), nullable=True))
    op.create_table(
        "document_pages",
        sa.Column("document_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "furniture",
            postgresql.JSONB(),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint("number >= 1", name="ck_document_pages_number_positive"),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_document_pages_document_id_documents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", "number", name="pk_document_pages"),
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_table("document_pages")
    op.drop_column("chunks", "spans")

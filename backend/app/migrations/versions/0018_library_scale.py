"""Library at 100,000 documents: a folder per document, the list's indexes, bulk actions.

Expand: `documents` gains `folder` (the relative folder a file was uploaded from, NULL at the
top level); a new table `document_bulk_actions` holds select-all actions run as jobs. The
previous release reads neither.

The indexes serve the keyset-paginated library list, one per sort (date, name, size, status;
each ends in `id` so that ties page correctly), and a trigram index for the search by folder and filename.
They are built CONCURRENTLY: uploads and ingestion keep writing to `documents` meanwhile.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIST_INDEXES = {
    "ix_documents_user_id_created_at_id": "(user_id, created_at, id)",
    "ix_documents_user_id_lower_filename_id": "(user_id, lower(filename), id)",
    "ix_documents_user_id_size_bytes_id": "(user_id, size_bytes, id)",
    "ix_documents_user_id_status_created_at_id": "(user_id, status, created_at, id)",
    "ix_documents_search_trgm": (
        "USING gin (lower(COALESCE(folder || '/', '') || filename) gin_trgm_ops)"
    ),
    "ix_documents_user_id_folder": "(user_id, folder text_pattern_ops)",
}


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column("documents", sa.Column("folder", sa.Text(), nullable=True))
    op.create_table(
        "document_bulk_actions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("selection", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("collection_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("total", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("processed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("succeeded", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("denied", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("position", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "action IN ('delete', 'add_to_collection', 'reindex')",
            name=op.f("ck_document_bulk_actions_action_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f("ck_document_bulk_actions_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_document_bulk_actions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_bulk_actions")),
    )
    op.create_index(
        "ix_document_bulk_actions_user_id_created_at",
        "document_bulk_actions",
        ["user_id", "created_at"],
    )
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = '5s'")
        for name, columns in LIST_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON documents {columns}")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = '5s'")
        for name in LIST_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.drop_table("document_bulk_actions")
    op.drop_column("documents", "folder")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")

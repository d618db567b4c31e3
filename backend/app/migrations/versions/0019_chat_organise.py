"""Organising conversations: pin, archive, a model per chat, full-text search over messages,
feedback on answers and suggested questions per document.

Expand only: `chats` gains three nullable columns (`pinned_at`, `archived_at`, `model`) that
the previous release ignores; new tables `message_feedback` and `document_suggestions`. The
full-text indexes over message contents and chat titles are built concurrently (writes to
chats and messages go on meanwhile).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("chats", sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("chats", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("chats", sa.Column("model", sa.Text(), nullable=True))
    op.create_table(
        "message_feedback",
        sa.Column("id", UUID, nullable=False),
        sa.Column("message_id", UUID, nullable=False),
        sa.Column("chat_id", UUID, nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("search_query", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("scope", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column(
            "passages", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["chat_messages.id"],
            name="fk_message_feedback_message_id_chat_messages",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name="fk_message_feedback_chat_id_chats", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_message_feedback_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_message_feedback"),
        sa.UniqueConstraint("message_id", "user_id", name="uq_message_feedback_message_id_user_id"),
        sa.CheckConstraint("rating IN (-1, 1)", name="ck_message_feedback_rating_valid"),
    )
    op.create_index("ix_message_feedback_user_id", "message_feedback", ["user_id"])
    op.create_table(
        "document_suggestions",
        sa.Column("document_id", UUID, nullable=False),
        sa.Column("questions", postgresql.JSONB(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_document_suggestions_document_id_documents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name="pk_document_suggestions"),
        sa.CheckConstraint("source IN ('headings', 'llm')", name="ck_document_suggestions_source_valid"),
    )
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = '5s'")
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_chat_messages_content_fts "
            "ON chat_messages USING gin (to_tsvector('english', content))"
        )
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_chats_title_fts "
            "ON chats USING gin (to_tsvector('english', title))"
        )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_index("ix_chats_title_fts", table_name="chats")
    op.drop_index("ix_chat_messages_content_fts", table_name="chat_messages")
    op.drop_table("document_suggestions")
    op.drop_table("message_feedback")
    op.drop_column("chats", "model")
    op.drop_column("chats", "archived_at")
    op.drop_column("chats", "pinned_at")

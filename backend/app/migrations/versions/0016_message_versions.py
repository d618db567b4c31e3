"""Answer versions and answers in progress.

Expand: `chat_messages` gains `parent_id` (the message this one follows: a question's parent
is the answer before it, an answer's parent is its question), `selected_at` (among messages
with the same parent, the one selected most recently is the version shown), `status`
('streaming' while an answer is being written, then 'done' or 'failed') and `updated_at`
(the writer's heartbeat: an answer left 'streaming' without one is failed on read). Messages
sharing a parent are the versions of one turn (a regenerated answer, an edited question).

Migrate: existing chats are one line of messages, each following the one before it; an
answer stored with an error is 'failed'.

The previous release ignores the new columns; the messages it writes get the defaults
(a new root, 'done'), so a chat written to by both during a rolling deploy shows the old
release's messages as a new first question.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column(
        "chat_messages", sa.Column("parent_id", postgresql.UUID(as_uuid=True), nullable=True)
    )
    op.add_column(
        "chat_messages",
        sa.Column(
            "selected_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
    )
    op.add_column(
        "chat_messages",
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
    )
    op.add_column(
        "chat_messages",
        sa.Column("status", sa.String(16), server_default=sa.text("'done'"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_chat_messages_status_valid"),
        "chat_messages",
        "status IN ('streaming', 'done', 'failed')",
    )
    op.execute(
        """
        UPDATE chat_messages AS m
        SET parent_id = ordered.previous_id,
            selected_at = m.created_at,
            updated_at = m.created_at,
            status = CASE WHEN m.error IS NULL THEN 'done' ELSE 'failed' END
        FROM (
            SELECT id, lag(id) OVER (PARTITION BY chat_id ORDER BY created_at, id) AS previous_id
            FROM chat_messages
        ) AS ordered
        WHERE ordered.id = m.id
        """
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint(op.f("ck_chat_messages_status_valid"), "chat_messages", type_="check")
    op.drop_column("chat_messages", "status")
    op.drop_column("chat_messages", "updated_at")
    op.drop_column("chat_messages", "selected_at")
    op.drop_column("chat_messages", "parent_id")

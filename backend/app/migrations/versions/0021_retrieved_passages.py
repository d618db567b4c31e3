"""What an answer retrieved, kept with it and with a rating of it.

`chat_messages.retrieved`: the passages an answer was given to answer from (the relevant
retrieved passages, in rank order, cited or not), as references with their scores.
`message_feedback.retrieved`: the same passages with their text as they were when the answer
was rated, beside `passages` (the ones it cited), so a thumbs-down can be reviewed against
everything retrieval found. Both NULL for answers and ratings stored before. Additions only: the
previous release neither reads nor writes them.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("chat_messages", sa.Column("retrieved", postgresql.JSONB(), nullable=True))
    op.add_column("message_feedback", sa.Column("retrieved", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("message_feedback", "retrieved")
    op.drop_column("chat_messages", "retrieved")

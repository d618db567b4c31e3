"""Record which store holds each document's original (Postgres or an S3-compatible bucket).

Expand only: a nullable column, NULL meaning Postgres, which is where every original written
before this revision is and where the previous release looks.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("documents", sa.Column("original_storage", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("documents", "original_storage")

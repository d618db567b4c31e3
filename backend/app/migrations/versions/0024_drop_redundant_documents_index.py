"""The index (user_id, created_at) on documents goes: (user_id, created_at, id) of migration
0018 serves every query it served, as its prefix, and each document written paid for both.

The previous release's queries are planned on the remaining index the same way, so it runs
unchanged. Dropped CONCURRENTLY (uploads and ingestion keep writing); a downgrade builds it
again the same way.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_documents_user_id_created_at"


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = '5s'")
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_INDEX}")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = '5s'")
        # A failed concurrent build leaves an INVALID index behind: clear it first.
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_INDEX}")
        op.execute(f"CREATE INDEX CONCURRENTLY {_INDEX} ON documents (user_id, created_at)")

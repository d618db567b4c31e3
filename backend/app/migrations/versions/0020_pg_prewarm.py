"""The pg_prewarm extension, for cold search (app.search.prewarm reads a tenant's own HNSW index
into shared buffers with it).

Expand only. Where the server does not offer the extension, or the role may not create it (some
hosted PostgreSQL), the migration goes on without it and prewarming reads the tenant's rows but not its index.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_prewarm') THEN
                CREATE EXTENSION IF NOT EXISTS pg_prewarm;
            END IF;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_prewarm not installed: %', SQLERRM;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP EXTENSION IF EXISTS pg_prewarm")

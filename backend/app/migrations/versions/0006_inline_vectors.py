"""Keep chunk vectors in the table row (STORAGE MAIN) instead of the TOAST table.

pgvector's `vector` type defaults to EXTERNAL storage, and a chunk row (text + a 384-dim
vector, ~2.5 kB) is over the 2 kB TOAST threshold, so every vector went out of line: an
exact scan of a 10,000-chunk tenant read ~4 buffers per row (heap, TOAST index, TOAST heap)
and took 28 ms p95 at 1M chunks. MAIN keeps the vector in the row unless the row cannot fit
in a page at all (very wide models still work). Only rows written afterwards change;
`docs/migrations.md` says how to rewrite existing ones.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE MAIN")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE EXTERNAL")

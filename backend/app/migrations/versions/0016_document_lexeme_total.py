"""A document's BM25 length: `documents.lexeme_total`, the sum of its chunks' lexeme counts.

Written with the postings (app.documents.indexing), in the transaction that writes the
chunks, so that a search over shared documents adds up its corpus statistics (N and total
length) from one row per document instead of reading every chunk row. NULL means unknown
(documents indexed by the previous release, which neither reads nor writes it): the search
then counts that document's chunks, as before. The backfill below fills it for the chunks
that exist (and `chunk_count` from the same count); a document indexed by the previous release during a rolling deploy stays NULL
until it is reindexed, and stays correct.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("documents", sa.Column("lexeme_total", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE documents d SET lexeme_total = s.total, chunk_count = s.n "
        "FROM (SELECT document_id, count(*) AS n, sum(lexeme_count) AS total "
        "      FROM chunks GROUP BY document_id) s "
        "WHERE d.id = s.document_id"
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("documents", "lexeme_total")

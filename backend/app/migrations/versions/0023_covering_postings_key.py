"""The postings' primary key carries what BM25 reads; the separate covering index goes.

BM25 reads a query lexeme's postings as a range of (user_id, lexeme) and, for a large
tenant's commonest lexemes, probes single (user_id, lexeme, chunk_id) keys. Migration 0005
added an index covering the range scans, but the probes still went through the primary key
and the table: after a restart, a 10 % tenant's first searches read ~300 pages of the 4.6 GB
postings table each, so a prewarmed tenant still ran at twice its warm latency. The primary
key now includes document_id, tf and doc_len: both reads are index-only on one index, and
the covering index (as large again) is dropped, which also leaves one index fewer to write
per posting. See docs/benchmarks.md, "Cold search".

Online: the new key is built CONCURRENTLY, then swapped in under a brief lock (the columns
are NOT NULL already: no table scan), then the old covering index is dropped CONCURRENTLY.
The previous release reads postings through whichever index the planner picks, so it runs
unchanged during and after the upgrade. A downgrade rebuilds both former indexes the same way.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW_KEY = "uq_chunk_terms_covering_key"
_OLD_KEY = "uq_chunk_terms_key"
_COVERING = "ix_chunk_terms_user_id_lexeme_covering"


def _build_concurrently(name: str, definition: str) -> None:
    """CREATE INDEX CONCURRENTLY; a failed build leaves an INVALID index behind: cleared
    first (docs/migrations.md)."""
    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.execute(f"CREATE {definition.format(name=name)}")


def _swap_primary_key(index: str) -> None:
    """One statement, so one transaction: the table is never without its key."""
    op.execute(
        "ALTER TABLE chunk_terms DROP CONSTRAINT pk_chunk_terms, "
        f"ADD CONSTRAINT pk_chunk_terms PRIMARY KEY USING INDEX {index}"
    )


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = '5s'")
        _build_concurrently(
            _NEW_KEY,
            "UNIQUE INDEX CONCURRENTLY {name} ON chunk_terms "
            "(user_id, lexeme, chunk_id) INCLUDE (document_id, tf, doc_len)",
        )
        _swap_primary_key(_NEW_KEY)
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_COVERING}")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = '5s'")
        _build_concurrently(
            _COVERING,
            "INDEX CONCURRENTLY {name} ON chunk_terms (user_id, lexeme) "
            "INCLUDE (chunk_id, document_id, tf, doc_len)",
        )
        _build_concurrently(
            _OLD_KEY,
            "UNIQUE INDEX CONCURRENTLY {name} ON chunk_terms (user_id, lexeme, chunk_id)",
        )
        _swap_primary_key(_OLD_KEY)

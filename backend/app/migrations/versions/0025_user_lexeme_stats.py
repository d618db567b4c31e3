"""Each user's document frequency per lexeme, kept by the database as postings come and go.

BM25 over a user's corpus needs the df of each query lexeme: until now every search counted
it from the postings (a range scan of the lexeme's postings per query lexeme, ~3-8 ms for a
tenant of 100,000 chunks at 1M, before the scoring reads the same postings again). The table
user_lexeme_stats holds it, written by two statement-level triggers on chunk_terms in the
transaction that inserts or deletes the postings, so it is exact at every commit whichever
release writes them (the previous one runs unchanged during a rolling deploy).

Each trigger first locks the owners' user_corpus_stats rows, in user order, then the lexeme
rows in lexeme order: the order in which deleting a document (statistics, then postings)
already locks them, so writers of one user cannot deadlock.

Online: the table and triggers are created and committed first; from then on every write of
postings is counted. Then each user's counts are recomputed from their postings in a short
transaction of its own that holds that user's statistics row, so a write in flight either
commits before the count (and is in it) or waits and adds its own change after it. Writes
of postings wait only for one user's recount, never for the whole backfill.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = """
CREATE TABLE IF NOT EXISTS user_lexeme_stats (
    user_id uuid NOT NULL,
    lexeme text NOT NULL,
    df bigint NOT NULL,
    CONSTRAINT pk_user_lexeme_stats PRIMARY KEY (user_id, lexeme),
    CONSTRAINT fk_user_lexeme_stats_user_id_users FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
)
"""

_FUNCTION = """
CREATE OR REPLACE FUNCTION count_lexemes_of_postings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM user_corpus_stats
    WHERE user_id IN (SELECT DISTINCT user_id FROM changed_postings)
    ORDER BY user_id FOR NO KEY UPDATE;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO user_lexeme_stats AS s (user_id, lexeme, df)
        SELECT user_id, lexeme, count(*) FROM changed_postings
        GROUP BY user_id, lexeme ORDER BY user_id, lexeme
        ON CONFLICT (user_id, lexeme) DO UPDATE SET df = s.df + excluded.df;
    ELSE
        MERGE INTO user_lexeme_stats AS s
        USING (SELECT user_id, lexeme, count(*) AS n FROM changed_postings
               GROUP BY user_id, lexeme) AS d
        ON s.user_id = d.user_id AND s.lexeme = d.lexeme
        WHEN MATCHED AND s.df <= d.n THEN DELETE
        WHEN MATCHED THEN UPDATE SET df = s.df - d.n;
    END IF;
    RETURN NULL;
END
$$
"""

_TRIGGERS = (
    "CREATE OR REPLACE TRIGGER chunk_terms_count_inserted AFTER INSERT ON chunk_terms "
    "REFERENCING NEW TABLE AS changed_postings "
    "FOR EACH STATEMENT EXECUTE FUNCTION count_lexemes_of_postings()",
    "CREATE OR REPLACE TRIGGER chunk_terms_count_deleted AFTER DELETE ON chunk_terms "
    "REFERENCING OLD TABLE AS changed_postings "
    "FOR EACH STATEMENT EXECUTE FUNCTION count_lexemes_of_postings()",
)

_LOCK_USER = sa.text(
    "SELECT 1 FROM user_corpus_stats WHERE user_id = :user_id FOR NO KEY UPDATE"
)
_CLEAR_USER = sa.text("DELETE FROM user_lexeme_stats WHERE user_id = :user_id")
_COUNT_USER = sa.text(
    "INSERT INTO user_lexeme_stats (user_id, lexeme, df) "
    "SELECT user_id, lexeme, count(*) FROM chunk_terms WHERE user_id = :user_id "
    "GROUP BY user_id, lexeme"
)


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(_TABLE)
    op.execute(_FUNCTION)
    for trigger in _TRIGGERS:
        op.execute(trigger)
    # Leaving the migration's transaction commits the triggers: every later write counts.
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        bind.exec_driver_sql("SET lock_timeout = '5s'")
        users = bind.execute(sa.text("SELECT user_id FROM user_corpus_stats ORDER BY user_id"))
        for user_id in users.scalars().all():
            bind.exec_driver_sql("BEGIN")
            bind.execute(_LOCK_USER, {"user_id": user_id})
            # A later statement, so a later snapshot: it sees every write that held the lock.
            bind.execute(_CLEAR_USER, {"user_id": user_id})
            bind.execute(_COUNT_USER, {"user_id": user_id})
            bind.exec_driver_sql("COMMIT")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP TRIGGER IF EXISTS chunk_terms_count_inserted ON chunk_terms")
    op.execute("DROP TRIGGER IF EXISTS chunk_terms_count_deleted ON chunk_terms")
    op.execute("DROP FUNCTION IF EXISTS count_lexemes_of_postings()")
    op.execute("DROP TABLE IF EXISTS user_lexeme_stats")

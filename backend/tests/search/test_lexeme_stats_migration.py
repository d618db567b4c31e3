"""Migration 0025: each user's document frequency per lexeme, counted from the postings that
exist at upgrade time, then kept by the triggers on chunk_terms."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from app.core import migrate
from tests.conftest import database_at_revision


@pytest.fixture
def database_at_0024(pg_admin_url: str) -> Iterator[str]:
    with database_at_revision(pg_admin_url, "0024") as url:
        yield url


def _stored(url: str) -> dict[tuple[uuid.UUID, str], int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT user_id, lexeme, df FROM user_lexeme_stats").fetchall()
    return {(user, lexeme): df for user, lexeme, df in rows}


def test_existing_postings_are_counted_and_later_writes_kept(database_at_0024: str) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    document = uuid.uuid4()
    postings = [
        (ada, "river", 1), (ada, "river", 2), (ada, "river", 3),
        (ada, "yeast", 1), (ada, "yeast", 4),
        (bob, "river", 10),
    ]  # fmt: skip
    with psycopg.connect(database_at_0024, autocommit=True) as conn:
        for user, email in ((ada, "ada@example.com"), (bob, "bob@example.com")):
            conn.execute(
                "INSERT INTO users (id, email, full_name, password_hash) VALUES (%s, %s, 'U', 'x')",
                (user, email),
            )
            conn.execute(
                "INSERT INTO user_corpus_stats (user_id, chunk_count, total_length)"
                " VALUES (%s, 4, 40)",
                (user,),
            )
        for user, lexeme, chunk in postings:
            conn.execute(
                "INSERT INTO chunk_terms (user_id, lexeme, chunk_id, document_id, tf, doc_len)"
                " VALUES (%s, %s, %s, %s, 1, 10)",
                (user, lexeme, chunk, document),
            )

    migrate.upgrade(database_at_0024)

    assert _stored(database_at_0024) == {(ada, "river"): 3, (ada, "yeast"): 2, (bob, "river"): 1}
    with psycopg.connect(database_at_0024, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO chunk_terms (user_id, lexeme, chunk_id, document_id, tf, doc_len)"
            " VALUES (%s, 'river', 5, %s, 1, 10), (%s, 'salt', 5, %s, 1, 10)",
            (ada, document, ada, document),
        )
        conn.execute("DELETE FROM chunk_terms WHERE user_id = %s AND lexeme = 'yeast'", (ada,))
        conn.execute("DELETE FROM chunk_terms WHERE user_id = %s AND chunk_id = 1", (ada,))
    assert _stored(database_at_0024) == {(ada, "river"): 3, (ada, "salt"): 1, (bob, "river"): 1}
    with psycopg.connect(database_at_0024, autocommit=True) as conn:
        conn.execute("DELETE FROM users WHERE id = %s", (bob,))
    assert (bob, "river") not in _stored(database_at_0024)

"""Migration 0022: the kept questions made without a language model (the old way: frequent
words, the file's name) are deleted, to be made again; those a model wrote stay."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.types.json import Jsonb

from app.core import migrate
from tests.conftest import database_at_revision


@pytest.fixture
def database_at_0021(pg_admin_url: str) -> Iterator[str]:
    with database_at_revision(pg_admin_url, "0021") as url:
        yield url


def test_questions_from_frequent_words_are_made_again(database_at_0021: str) -> None:
    user, by_words, by_model = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(database_at_0021, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, full_name, password_hash)"
            " VALUES (%s, 'old@example.com', 'Old', 'x')",
            (user,),
        )
        for document, filename in ((by_words, "notes.txt"), (by_model, "guide.txt")):
            conn.execute(
                "INSERT INTO documents (id, user_id, filename, content_type, kind, size_bytes,"
                " sha256, status) VALUES (%s, %s, %s, 'text/plain', 'text', 10, %s, 'ready')",
                (document, user, filename, document.hex),
            )
        conn.execute(
            "INSERT INTO document_suggestions (document_id, questions, source)"
            " VALUES (%s, %s, 'headings'), (%s, %s, 'llm')",
            (
                by_words,
                Jsonb(["What does the document say about leave?", "What is notes about?"]),
                by_model,
                Jsonb(["When do the ferries leave?"]),
            ),
        )
    migrate.upgrade(database_at_0021)
    with psycopg.connect(database_at_0021) as conn:
        kept = conn.execute("SELECT document_id, questions FROM document_suggestions").fetchall()
    assert kept == [(by_model, ["When do the ferries leave?"])]

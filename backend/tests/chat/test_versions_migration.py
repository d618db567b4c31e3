"""Migration 0017 on a database with chats: every existing chat becomes one line of
messages, each following the one before it, and an answer stored with an error is failed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from app.core import migrate
from tests.conftest import database_at_revision


@pytest.fixture
def database_at_0016(pg_admin_url: str) -> Iterator[str]:
    with database_at_revision(pg_admin_url, "0016") as url:
        yield url


def test_existing_chats_become_one_line_of_versions(database_at_0016: str) -> None:
    user, chat, other_chat = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    messages = [uuid.uuid4() for _ in range(4)]
    lone = uuid.uuid4()
    with psycopg.connect(database_at_0016, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, full_name, password_hash)"
            " VALUES (%s, 'old@example.com', 'Old', 'x')",
            (user,),
        )
        for chat_id in (chat, other_chat):
            conn.execute("INSERT INTO chats (id, user_id) VALUES (%s, %s)", (chat_id, user))
        rows = [
            (messages[0], chat, "user", "First?", None),
            (messages[1], chat, "assistant", "One [1].", None),
            (messages[2], chat, "user", "Second?", None),
            (messages[3], chat, "assistant", "", "The answer was interrupted: timeout."),
            (lone, other_chat, "user", "Alone?", None),
        ]
        for minute, (message_id, chat_id, role, content, error) in enumerate(rows):
            conn.execute(
                "INSERT INTO chat_messages (id, chat_id, user_id, role, content, error, created_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, now() + make_interval(mins => %s))",
                (message_id, chat_id, user, role, content, error, minute),
            )
    migrate.upgrade(database_at_0016)
    with psycopg.connect(database_at_0016) as conn:
        migrated = conn.execute(
            "SELECT id, parent_id, status, selected_at = created_at FROM chat_messages"
            " ORDER BY created_at"
        ).fetchall()
    assert migrated == [
        (messages[0], None, "done", True),
        (messages[1], messages[0], "done", True),
        (messages[2], messages[1], "done", True),
        (messages[3], messages[2], "failed", True),
        (lone, None, "done", True),
    ]

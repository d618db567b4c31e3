"""Alembic environment: runs on the connection handed over by app.core.migrate (which holds the
advisory lock), or connects itself for plain `alembic` CLI use."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from app.core.database_url import sqlalchemy_url
from app.core.db import PSYCOPG_CONNECT_ARGS
from app.models import metadata

config = context.config

# Objects that exist only in migrations, never in the ORM metadata: procrastinate's queue
# tables (with their indexes and constraints) and the per-model HNSW vector indexes (partial
# expression indexes, created by 0003 and app.search.vector_index). Everything else, including
# a column or index that merely shares one of these prefixes, is still compared.
MIGRATION_ONLY_TABLE_PREFIX = "procrastinate_"
MIGRATION_ONLY_INDEX_PREFIX = "ix_chunks_embedding_"
# The library's expression and operator-class indexes (0018): Alembic cannot compare their
# text with a model's, so they live in the migration alone (app.documents.models says so).
MIGRATION_ONLY_INDEXES = frozenset(
    {
        "ix_documents_user_id_lower_filename_id",
        "ix_documents_search_trgm",
        "ix_documents_user_id_folder",
    }
)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if not name:
        return True
    if type_ == "table":
        return not name.startswith(MIGRATION_ONLY_TABLE_PREFIX)
    if type_ == "index" and reflected and compare_to is None:
        return not (name.startswith(MIGRATION_ONLY_INDEX_PREFIX) or name in MIGRATION_ONLY_INDEXES)
    return True


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

"""Apply migrations exactly once even when several replicas start together."""

from __future__ import annotations

import logging
import time
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, pool, text

from app.core.database_url import sqlalchemy_url
from app.core.db import PSYCOPG_CONNECT_ARGS

logger = logging.getLogger(__name__)

# pg_advisory_lock key: any constant unique to this application ("docchat" in ASCII).
MIGRATION_LOCK_KEY = 0x646F6363686174


class SchemaAheadError(Exception):
    """The database holds a revision this code does not know, and was asked to go down."""


def alembic_config(script_location: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", script_location or str(files("app") / "migrations"))
    return config


def unknown_revisions(connection: Connection, config: Config) -> list[str]:
    """The database's revisions that this code's migrations do not contain: a newer release
    migrated it (this code is a rollback, or an old replica still starting)."""
    current = MigrationContext.configure(connection).get_current_heads()
    script = ScriptDirectory.from_config(config)
    known = {revision.revision for revision in script.walk_revisions()}
    return [revision for revision in current if revision not in known]


LOCK_POLL_S = 0.25


def _acquire_lock(connection: Connection) -> None:
    """Poll with pg_try_advisory_lock, committing between tries: a runner blocked inside
    pg_advisory_lock would hold a snapshot, and CREATE INDEX CONCURRENTLY in the running
    migration waits for every older snapshot: a deadlock."""
    waiting_logged = False
    while True:
        acquired = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
        ).scalar_one()
        connection.commit()
        if acquired:
            return
        if not waiting_logged:
            logger.info("migrations_waiting_for_lock")
            waiting_logged = True
        time.sleep(LOCK_POLL_S)


def _run(url: str, action: str, revision: str, script_location: str | None) -> list[str]:
    """Run the alembic command, or nothing and return the database's revisions this code
    does not know when it is ahead."""
    engine = create_engine(
        sqlalchemy_url(url), poolclass=pool.NullPool, connect_args=PSYCOPG_CONNECT_ARGS
    )
    try:
        with engine.connect() as connection:
            _acquire_lock(connection)
            try:
                config = alembic_config(script_location)
                ahead = unknown_revisions(connection, config)
                connection.commit()
                if ahead:
                    if action != "upgrade":
                        raise SchemaAheadError(
                            f"the database is at revision {', '.join(ahead)}, which this "
                            f"release does not know: it cannot {action} it; run the "
                            "release that wrote it"
                        )
                    return ahead
                config.attributes["connection"] = connection
                getattr(command, action)(config, revision)
                connection.commit()
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                connection.commit()
    finally:
        engine.dispose()
    return []


def upgrade(url: str, revision: str = "head", *, script_location: str | None = None) -> bool:
    """`alembic upgrade` under a Postgres advisory lock: concurrent runners wait, then no-op.

    A database migrated by a newer release (a rollback to this one, or an old replica that
    starts during a rollout) is left alone with a warning, and this returns False: expand →
    contract keeps the newer schema working for this code (docs/migrations.md)."""
    logger.info("migrations_upgrade_start", extra={"revision": revision})
    ahead = _run(url, "upgrade", revision, script_location)
    if ahead:
        logger.warning(
            "migrations_database_ahead_of_code",
            extra={
                "database_revision": ", ".join(ahead),
                "detail": "a newer release migrated this database; nothing to do here "
                "(expected after a rollback)",
            },
        )
        return False
    logger.info("migrations_upgrade_done", extra={"revision": revision})
    return True


def downgrade(url: str, revision: str, *, script_location: str | None = None) -> None:
    """`alembic downgrade`; refuses (SchemaAheadError) a database ahead of this code."""
    _run(url, "downgrade", revision, script_location)


def check(url: str) -> None:
    """Fail when the ORM models and the migrations disagree (`alembic check`)."""
    engine = create_engine(
        sqlalchemy_url(url), poolclass=pool.NullPool, connect_args=PSYCOPG_CONNECT_ARGS
    )
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.check(config)
    finally:
        engine.dispose()

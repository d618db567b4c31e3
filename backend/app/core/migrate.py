"""Apply migrations exactly once even when several replicas start together."""

from __future__ import annotations

import logging
import time
from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, pool, text

from app.core.db import PSYCOPG_CONNECT_ARGS, sqlalchemy_url

logger = logging.getLogger(__name__)

# pg_advisory_lock key: any constant unique to this application ("docchat" in ASCII).
MIGRATION_LOCK_KEY = 0x646F6363686174


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("app") / "migrations"))
    return config


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


def _run(url: str, action: str, revision: str) -> None:
    engine = create_engine(
        sqlalchemy_url(url), poolclass=pool.NullPool, connect_args=PSYCOPG_CONNECT_ARGS
    )
    try:
        with engine.connect() as connection:
            _acquire_lock(connection)
            try:
                config = alembic_config()
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


def upgrade(url: str, revision: str = "head") -> None:
    """`alembic upgrade` under a Postgres advisory lock: concurrent runners wait, then no-op."""
    logger.info("migrations_upgrade_start", extra={"revision": revision})
    _run(url, "upgrade", revision)
    logger.info("migrations_upgrade_done", extra={"revision": revision})


def downgrade(url: str, revision: str) -> None:
    _run(url, "downgrade", revision)


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

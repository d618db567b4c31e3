"""Apply migrations exactly once even when several replicas start together."""

from __future__ import annotations

import logging
from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool, text

from app.core.db import PSYCOPG_CONNECT_ARGS, sqlalchemy_url

logger = logging.getLogger(__name__)

# pg_advisory_lock key: any constant unique to this application ("docchat" in ASCII).
MIGRATION_LOCK_KEY = 0x646F6363686174


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("app") / "migrations"))
    return config


def _run(url: str, action: str, revision: str) -> None:
    engine = create_engine(
        sqlalchemy_url(url), poolclass=pool.NullPool, connect_args=PSYCOPG_CONNECT_ARGS
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()
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

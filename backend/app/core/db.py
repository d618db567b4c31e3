"""Database engine, sessions and the request-scoped session dependency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from psycopg import sql
from sqlalchemy import MetaData, TextClause, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from app.core.database_url import sqlalchemy_url
from app.core.errors import AppError
from app.core.settings import ConfigError, Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def database_error(exc: BaseException) -> str:
    """A failed connection in one line, for a `configuration error:` message: the driver's
    first line (it names host and port, never the password), without SQLAlchemy's wrapping."""
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return f"cannot connect: {lines[0] if lines else type(cause).__name__}"


# Server-side prepared statements break behind PgBouncer in transaction mode and let
# psycopg switch hot parameterised queries to slow generic plans: never prepare.
PSYCOPG_CONNECT_ARGS: dict[str, Any] = {"prepare_threshold": None, "connect_timeout": 5}


def compose_sql(template: str, **parts: sql.Composable) -> TextClause:
    """A statement from a fixed template whose ``{name}`` parts are psycopg.sql pieces
    (identifiers, literals that cannot be parameters, fixed clauses); its ``:name`` values
    stay bind parameters. The one way SQL text is put together from pieces."""
    return text(sql.SQL(template).format(**parts).as_string())


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, pool_timeout_s: float = 5
) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_timeout=pool_timeout_s,
        pool_recycle=1800,
        connect_args=PSYCOPG_CONNECT_ARGS,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


# For work that outlives the request's transaction (a streamed answer stores itself when the
# stream ends): each use opens, and commits, its own session.
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


async def get_session(
    sessionmaker: SessionmakerDep,
) -> AsyncIterator[AsyncSession]:
    """The request's transaction, and its only owner: committed when the handler returns
    (before a streamed body starts), rolled back on error. Services flush, never commit."""
    async with sessionmaker() as session:
        try:
            yield session
        except AppError as exc:
            await (session.commit() if exc.keeps_changes else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server in development when it is unset."""
    if settings.database_url:
        return settings.database_url
    if settings.is_production:
        raise ConfigError("DATABASE_URL is not set")
    from app.core.embedded_pg import start_embedded

    settings.database_url = start_embedded(settings.data_dir)
    return settings.database_url

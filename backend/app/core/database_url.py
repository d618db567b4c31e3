"""PostgreSQL URLs as providers hand them out, in the forms SQLAlchemy and libpq want."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

# libpq parameters SQLAlchemy must not see in the URL; sslmode etc. pass through to psycopg.
_DRIVER_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"}


def _postgres_parts(url: str) -> tuple[str, str, str, str, str]:
    parts = urlsplit(url)
    if parts.scheme not in _DRIVER_SCHEMES:
        raise ValueError(f"not a PostgreSQL URL (postgresql://…): scheme {parts.scheme!r}")
    return parts.scheme, parts.netloc, parts.path, parts.query, parts.fragment


def sqlalchemy_url(url: str) -> str:
    """Accept provider URLs (`postgres://…`, `postgresql://…?sslmode=require`) and pick psycopg 3."""
    _, netloc, path, query, fragment = _postgres_parts(url)
    return urlunsplit(("postgresql+psycopg", netloc, path, query, fragment))


def libpq_url(url: str) -> str:
    """The same URL in plain libpq form (for psycopg and procrastinate)."""
    _, netloc, path, query, fragment = _postgres_parts(url)
    return urlunsplit(("postgresql", netloc, path, query, fragment))

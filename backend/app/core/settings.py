"""Configuration from environment variables (and an optional `.env` file)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "your-secret-here",
        "replace-me",
        "dev-secret",
        "development-secret-change-me-please-0123456789",
    }
)
# Fragments that mark a copied example value rather than a generated secret.
PLACEHOLDER_MARKERS = ("changeme", "change-me", "change_me", "replace-me", "replace_me", "your-")
MIN_SECRET_BYTES = 32
MIN_DISTINCT_CHARS = 8
DEV_SECRET = secrets.token_urlsafe(48)


class ConfigError(Exception):
    """A setting that makes it unsafe or impossible to start; the message names the variable."""


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    # An empty variable (`FRONTEND_DIST=` in .env, `SENTRY_DSN: ""` in compose) means "unset":
    # otherwise it would become Path(".") or an empty model name instead of the default.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", env_file_encoding="utf-8", env_ignore_empty=True
    )

    environment: Literal["development", "production"] = "development"
    log_level: str = "INFO"
    git_sha: str = "dev"
    port: int = 8000
    data_dir: Path = Path(".docchat")

    database_url: str | None = None
    database_direct_url: str | None = None
    db_pool_size: int = 10
    db_max_overflow: int = 10

    jwt_secret: str | None = None
    jwt_previous_secrets: Annotated[list[str], NoDecode] = Field(default_factory=list)
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600

    frontend_origin: Annotated[list[str], NoDecode] = Field(default_factory=list)
    frontend_dist: Path | None = None
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)

    rate_limit_storage_uri: str = "memory://"
    rate_limit_enabled: bool = True

    sentry_dsn: str | None = None
    sentry_traces_sample_rate: float = 0.1

    openai_api_key: str | None = None
    openai_base_url: str | None = None
    llm_provider: Literal["auto", "openai", "extractive"] = "auto"
    llm_model: str = "gpt-4o-mini"
    llm_timeout_s: float = 60.0
    embedding_provider: Literal["local", "openai"] = "local"
    embedding_model: str | None = None
    embedding_batch_size: int = 32

    max_upload_mb: int = 50
    run_worker: bool = True
    # Jobs at once per worker process. The model is one shared child process that embeds one
    # piece at a time, so more jobs only overlap parsing and database writes with it.
    worker_concurrency: int = 4
    worker_shutdown_grace_s: float = 10.0
    # Documents are read (parsed and chunked) in child processes, one document each at a time,
    # each within these limits: memory on top of the reader's own ~70 MB, and wall-clock time.
    parse_processes: int = Field(default=1, ge=1)
    parse_memory_limit_mb: int = Field(default=512, ge=64)
    parse_timeout_s: float = Field(default=300.0, gt=0)

    @field_validator(
        "jwt_previous_secrets", "frontend_origin", "forwarded_allow_ips", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        return _comma_list(value)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def signing_secret(self) -> str:
        """The secret that signs new tokens; in development a per-process random one if unset."""
        return self.jwt_secret or DEV_SECRET

    def validate_for_startup(self) -> None:
        """Refuse to run production with unsafe secrets, CORS or no database; raises ConfigError
        whose message starts with the variable's name."""
        if not self.is_production:
            return
        secret = self.jwt_secret
        if not secret:
            raise ConfigError(
                "JWT_SECRET is not set; production needs a random secret of 32+ bytes"
            )
        _check_secret("JWT_SECRET", secret)
        for previous in self.jwt_previous_secrets:
            # Tokens signed with a previous secret are still accepted: it must be as strong.
            _check_secret("JWT_PREVIOUS_SECRETS", previous)
        if not self.frontend_origin:
            raise ConfigError("FRONTEND_ORIGIN is not set; list the exact frontend origin(s)")
        for origin in self.frontend_origin:
            if origin == "*" or "*" in origin:
                raise ConfigError("FRONTEND_ORIGIN must list exact origins, not '*'")
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise ConfigError(
                    f"FRONTEND_ORIGIN entry {origin!r} is not an origin like "
                    "https://app.example.com (scheme and host, no path or trailing slash)"
                )
        if not self.database_url:
            raise ConfigError("DATABASE_URL is not set; production needs a PostgreSQL URL")


def _check_secret(variable: str, secret: str) -> None:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"{variable} is shorter than {MIN_SECRET_BYTES} bytes")
    lowered = secret.strip().lower()
    if (
        lowered in PLACEHOLDER_SECRETS
        or any(marker in lowered for marker in PLACEHOLDER_MARKERS)
        or len(set(secret)) < MIN_DISTINCT_CHARS
    ):
        raise ConfigError(f"{variable} is a known placeholder value; generate a random one")


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment; a malformed value raises ConfigError naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = str(error["loc"][0]).upper() if error["loc"] else "settings"
        raise ConfigError(f"{variable} is invalid: {error['msg']}") from None

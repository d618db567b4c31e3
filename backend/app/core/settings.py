"""Configuration from environment variables (and an optional `.env` file)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import Depends, Request
from limits import parse_many
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.database_url import sqlalchemy_url

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
# Transaction-mode poolers: Neon's pooled host ("ep-…-pooler.…"), PgBouncer's default port and
# Supabase's transaction pooler (Supavisor). Session advisory locks, LISTEN/NOTIFY and
# CREATE INDEX CONCURRENTLY do not work through them.
POOLER_HOST_MARKER = "-pooler."
POOLER_PORTS = frozenset({6432, 6543})


class ConfigError(Exception):
    """A setting that makes it unsafe or impossible to start; the message names the variable."""


def is_transaction_pooler(url: str) -> bool:
    """Whether a database URL points at a transaction-mode pooler (by its host or port)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return False
    return POOLER_HOST_MARKER in f"{parts.hostname or ''}." or port in POOLER_PORTS


class LLMModelConfig(BaseModel):
    """One chat model people can pick per chat (LLM_MODELS). The key itself stays in the
    environment: ``api_key_env`` names the variable that holds it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    label: str = Field(min_length=1, max_length=80)
    model: str = Field(min_length=1, max_length=200)
    base_url: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None


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
    # None: JSON lines in production, readable coloured lines in development.
    log_format: Literal["json", "console"] | None = None
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
    # No longer used, only detected: startup refuses it (validate_for_startup).
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
    # Chat models to choose from per chat, a JSON list (docs/chat.md, "Model choice").
    llm_models: list[LLMModelConfig] = Field(default_factory=list)
    embedding_provider: Literal["local", "openai"] = "local"
    embedding_model: str | None = None
    embedding_batch_size: int = 128

    max_upload_mb: int = 50
    run_worker: bool = True
    # Jobs at once per worker process. The model is one shared child process that embeds one
    # piece at a time, so more jobs only overlap parsing and database writes with it.
    worker_concurrency: int = 4
    worker_shutdown_grace_s: float = 10.0
    # `docchat worker` serves /health (200 while its job loop runs) and /metrics on this port;
    # 0 = off.
    worker_health_port: int = 0

    # Where uploaded originals live: "postgres" (the document_files table) or "s3" (any
    # S3-compatible object store: AWS S3, Cloudflare R2, Supabase Storage, MinIO).
    originals_storage: Literal["postgres", "s3"] = "postgres"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    # Object keys are "<prefix><document id>".
    s3_prefix: str = "originals/"
    # Path-style URLs (https://host/bucket/key): MinIO and most self-hosted servers need them.
    s3_force_path_style: bool = False

    # Limits against abuse (docs/runbook.md, "Limits"). Rates are in the `limits` notation:
    # "5/minute", "10 per 15 minutes", several separated by ";".
    max_request_body_kb: int = Field(default=1024, ge=1)
    # Where the client address comes from (docs/deploy.md): a header that the platform's edge
    # sets itself (Fly-Client-IP, True-Client-IP), else the entry this many places from the
    # right of X-Forwarded-For (the one the outermost trusted proxy appended), else the peer.
    client_ip_header: str | None = None
    trusted_proxy_hops: int = Field(default=0, ge=0, le=10)
    login_rate_limit_per_ip: str = "20/minute"
    login_rate_limit_per_account_ip: str = "5/minute"
    login_rate_limit_per_account: str = "10/hour"
    login_rate_limit_guarded_account_ip: str = "3/hour"
    register_rate_limit_per_ip: str = "10/hour;30/day"
    chat_rate_limit: str = "20/minute;300/hour"
    search_rate_limit: str = "60/minute"
    upload_rate_limit: str = "30/minute;500/day"
    download_rate_limit: str = "120/minute"
    api_key_rate_limit: str = "120/minute;5000/hour"
    llm_max_tokens: int = Field(default=1024, ge=16)
    answer_store_timeout_s: float = Field(default=60.0, gt=0)
    db_pool_timeout_s: float = Field(default=5.0, gt=0)
    # Empty: /docs, /redoc and /openapi.json in development only.
    api_docs_enabled: bool | None = None
    # /metrics needs `Authorization: Bearer <METRICS_TOKEN>`; METRICS_PORT serves it instead on
    # a port of its own for a private-network scraper. Neither in production: no metrics.
    metrics_token: str | None = None
    metrics_port: int | None = Field(default=None, ge=1, le=65535)

    # Accounts (docs/authentication.md). The web app's public address: links in emails and the
    # single sign-on redirect back to the app start with it.
    public_url: str | None = None
    # Password reset by email: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://
    # (TLS from the start). Empty: no reset mail; an admin runs `docchat reset-password`.
    smtp_url: str | None = None
    mail_from: str | None = None
    password_reset_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    password_reset_rate_limit_per_ip: str = "10/hour"  # noqa: S105
    password_reset_rate_limit_per_email: str = "3/hour"  # noqa: S105
    # Single sign-on with OpenID Connect (authorization code + PKCE).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_provider_name: str = "SSO"
    oidc_scopes: str = "openid email profile"
    oidc_allowed_email_domains: Annotated[list[str], NoDecode] = Field(default_factory=list)
    oidc_groups_claim: str | None = None
    # Empty: <PUBLIC_URL>/api/v1/auth/oidc/callback (the API serving the web app).
    oidc_redirect_uri: str | None = None
    password_login_enabled: bool = True

    # Documents are read (parsed and chunked) in child processes, one document each at a time,
    # each within these limits: memory on top of the reader's own ~70 MB, and wall-clock time.
    parse_processes: int = Field(default=1, ge=1)
    parse_memory_limit_mb: int = Field(default=512, ge=64)
    parse_timeout_s: float = Field(default=300.0, gt=0)
    # Spreadsheets (XLSX, XLS, CSV/TSV): rows and cells of a whole workbook, characters of
    # one row; a file past a bound fails with a sentence naming it (docs/formats.md).
    spreadsheet_max_rows: int = Field(default=200_000, ge=1)
    spreadsheet_max_cells: int = Field(default=5_000_000, ge=1)
    spreadsheet_max_row_chars: int = Field(default=100_000, ge=1_000)

    # Import from URL (POST /api/v1/documents/url; docs/url-import.md).
    url_import_rate_limit: str = "10/minute;200/day"
    url_import_timeout_s: float = Field(default=20.0, gt=0, le=300)
    url_import_max_mb: int = Field(default=20, ge=1)
    url_import_max_redirects: int = Field(default=5, ge=0, le=20)
    # Lets imports reach private and loopback addresses (a server on your own network);
    # link-local and cloud metadata addresses stay blocked whatever this says.
    url_import_allow_private: bool = False

    # OCR (Tesseract) of scanned pages and images, inside the reader's limits above.
    # Tesseract language packs joined by "+" (Debian: tesseract-ocr-<lang>).
    ocr_languages: str = Field(default="eng", pattern=r"^[A-Za-z_]+(\+[A-Za-z_]+)*$")
    # Resolution a scanned PDF page is rendered at for OCR.
    ocr_dpi: int = Field(default=300, ge=72, le=600)
    # Wall-clock seconds for one page: a page over it is skipped with a note, not the document.
    ocr_page_timeout_s: float = Field(default=60.0, gt=0)
    # OCR seconds one document may add to PARSE_TIMEOUT_S in total.
    ocr_timeout_s: float = Field(default=1800.0, ge=0)
    # Largest image (or rendered page) in pixels; a larger image fails with a sentence saying so.
    max_image_pixels: int = Field(default=50_000_000, ge=1_000_000)

    # Accounts (docs/admin.md). Who may sign up until an admin sets it in the admin console:
    # open (anyone), invite (with an invite link) or closed (accounts come from the CLI).
    registration_mode: Literal["open", "invite", "closed"] = "open"
    # How long a new invite link works unless its creator says otherwise, and at most.
    invite_default_hours: int = Field(default=72, ge=1)
    invite_max_hours: int = Field(default=24 * 30, ge=1)
    # Default per-account quotas checked at upload (0: no limit); an admin sets others per user.
    quota_storage_mb: int = Field(default=0, ge=0)
    quota_documents: int = Field(default=0, ge=0)

    @field_validator(
        "jwt_previous_secrets",
        "frontend_origin",
        "forwarded_allow_ips",
        "oidc_allowed_email_domains",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        return _comma_list(value)

    @field_validator(
        "login_rate_limit_per_ip",
        "login_rate_limit_per_account_ip",
        "login_rate_limit_per_account",
        "login_rate_limit_guarded_account_ip",
        "register_rate_limit_per_ip",
        "chat_rate_limit",
        "search_rate_limit",
        "upload_rate_limit",
        "download_rate_limit",
        "api_key_rate_limit",
        "url_import_rate_limit",
        "password_reset_rate_limit_per_ip",
        "password_reset_rate_limit_per_email",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        parse_many(value)  # ValueError names what is wrong
        return value

    @field_validator("llm_models")
    @classmethod
    def _unique_model_ids(cls, value: list[LLMModelConfig]) -> list[LLMModelConfig]:
        ids = [model.id for model in value]
        duplicates = sorted({model_id for model_id in ids if ids.count(model_id) > 1})
        if duplicates:
            raise ValueError(f"LLM_MODELS lists the id {duplicates[0]!r} more than once")
        return value

    def llm_model_config(self, model_id: str | None) -> LLMModelConfig | None:
        """The LLM_MODELS entry with this id (None for the default, or an id no longer listed)."""
        return next((model for model in self.llm_models if model.id == model_id), None)

    @field_validator("oidc_allowed_email_domains")
    @classmethod
    def _lower_domains(cls, value: list[str]) -> list[str]:
        return [domain.lower().lstrip("@") for domain in value]

    @field_validator("public_url", "oidc_issuer")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_url)

    @property
    def oidc_callback_url(self) -> str:
        return self.oidc_redirect_uri or f"{self.public_url}/api/v1/auth/oidc/callback"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def log_output(self) -> Literal["json", "console"]:
        """LOG_FORMAT, or what suits ENVIRONMENT."""
        return self.log_format or ("json" if self.is_production else "console")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def max_request_body_bytes(self) -> int:
        return self.max_request_body_kb * 1024

    @property
    def api_docs(self) -> bool:
        return not self.is_production if self.api_docs_enabled is None else self.api_docs_enabled

    @property
    def signing_secret(self) -> str:
        """The secret that signs new tokens; in development a per-process random one if unset."""
        return self.jwt_secret or DEV_SECRET

    def validate_for_startup(self, *, serves_http: bool = True) -> None:
        """Refuse to run production with unsafe secrets, CORS or no database, and any
        environment behind a transaction pooler without a direct URL; raises ConfigError whose
        message starts with the variable's name. Processes that serve no HTTP (worker,
        migrate, create-user) do not need JWT_SECRET or FRONTEND_ORIGIN, but still refuse
        weak or malformed values of them."""
        if self.forwarded_allow_ips:
            # uvicorn trusts it for X-Forwarded-For and, with "*", takes the left-most entry,
            # which the client writes: a forged address for every rate limit.
            raise ConfigError(
                "FORWARDED_ALLOW_IPS is no longer used: remove it and set CLIENT_IP_HEADER or "
                "TRUSTED_PROXY_HOPS for your platform (docs/deploy.md, 'Client addresses')"
            )
        self._check_direct_database_url()
        self._check_embeddings()
        self._check_originals_storage()
        self._check_accounts()
        if not self.is_production:
            return
        self._check_web(required=serves_http)
        if not self.database_url:
            raise ConfigError("DATABASE_URL is not set; production needs a PostgreSQL URL")

    def _check_direct_database_url(self) -> None:
        for variable, url in (
            ("DATABASE_URL", self.database_url),
            ("DATABASE_DIRECT_URL", self.database_direct_url),
        ):
            try:
                if url:
                    sqlalchemy_url(url)
            except ValueError as exc:
                raise ConfigError(f"{variable} is invalid: {exc}") from None
        if self.database_direct_url and is_transaction_pooler(self.database_direct_url):
            raise ConfigError(
                "DATABASE_DIRECT_URL points at a transaction pooler (a '-pooler' host or port "
                "6432/6543); use the direct connection"
            )
        if (
            self.database_url
            and not self.database_direct_url
            and is_transaction_pooler(self.database_url)
        ):
            raise ConfigError(
                "DATABASE_DIRECT_URL is not set, and DATABASE_URL is a transaction pooler (a "
                "'-pooler' host or port 6432/6543): migrations and the job queue need the "
                "direct URL"
            )

    def _check_embeddings(self) -> None:
        # Checked at startup: the API resolves its embedding model id then (/ready compares it
        # with what is indexed), and a worker would otherwise fail every job instead.
        if self.embedding_provider != "openai":
            return
        if not self.embedding_model:
            raise ConfigError(
                "EMBEDDING_MODEL is not set; EMBEDDING_PROVIDER=openai needs a model name"
            )
        if not self.openai_api_key and not self.openai_base_url:
            raise ConfigError(
                "OPENAI_API_KEY is not set; EMBEDDING_PROVIDER=openai calls api.openai.com "
                "(or set OPENAI_BASE_URL for a local server)"
            )

    def _check_originals_storage(self) -> None:
        if self.originals_storage == "s3" and not self.s3_bucket:
            raise ConfigError("S3_BUCKET is not set; ORIGINALS_STORAGE=s3 needs a bucket")

    def _check_accounts(self) -> None:
        if self.public_url:
            parts = urlsplit(self.public_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(
                    f"PUBLIC_URL {self.public_url!r} is not an address like "
                    "https://docchat.example.com"
                )
        if self.smtp_url:
            if (
                urlsplit(self.smtp_url).scheme not in ("smtp", "smtps")
                or not urlsplit(self.smtp_url).hostname
            ):
                raise ConfigError("SMTP_URL must look like smtp://user:pass@host:587 or smtps://")
            if not self.mail_from:
                raise ConfigError("MAIL_FROM is not set; SMTP_URL needs a sender address")
            if not self.public_url:
                raise ConfigError("PUBLIC_URL is not set; reset emails link to the web app")
        if self.oidc_issuer:
            for variable, value in (
                ("OIDC_CLIENT_ID", self.oidc_client_id),
                ("OIDC_CLIENT_SECRET", self.oidc_client_secret),
            ):
                if not value:
                    raise ConfigError(f"{variable} is not set; OIDC_ISSUER needs it")
            if not self.public_url:
                raise ConfigError(
                    "PUBLIC_URL is not set; single sign-on returns the browser to the web app"
                )
            issuer = urlsplit(self.oidc_issuer)
            if issuer.scheme != "https" and issuer.hostname not in ("localhost", "127.0.0.1"):
                # The client secret and the code travel to the provider's token endpoint.
                raise ConfigError("OIDC_ISSUER must be an https:// URL")
            if "openid" not in self.oidc_scopes.split():
                raise ConfigError("OIDC_SCOPES must include openid")
        elif not self.password_login_enabled:
            raise ConfigError(
                "PASSWORD_LOGIN_ENABLED is false but OIDC_ISSUER is not set: nobody could sign in"
            )

    def _check_web(self, *, required: bool) -> None:
        """Secrets and origins: refused when weak or malformed, wherever they are set; required
        only by processes that serve HTTP."""
        secret = self.jwt_secret
        if not secret and required:
            raise ConfigError(
                "JWT_SECRET is not set; production needs a random secret of 32+ bytes"
            )
        if secret:
            _check_secret("JWT_SECRET", secret)
        for previous in self.jwt_previous_secrets:
            # Tokens signed with a previous secret are still accepted: it must be as strong.
            _check_secret("JWT_PREVIOUS_SECRETS", previous)
        if not self.frontend_origin and required:
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


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]

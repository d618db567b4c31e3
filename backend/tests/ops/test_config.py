"""Configuration: production refuses unsafe settings with one clear line, .env.example lists
every variable without secrets, and provider database URLs are normalised."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.database_url import libpq_url, sqlalchemy_url
from app.core.settings import ConfigError, Settings, get_settings
from tests.conftest import SCRATCH_VARIABLES

REPO_ROOT = Path(__file__).resolve().parents[3]
BACKEND = REPO_ROOT / "backend"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
GOOD_SECRET = "Qx7-vR2pL9sK4mN8wT1yB6cF3hJ0dG5zA_eU"  # 36 bytes, many distinct characters
GOOD_ORIGIN = "https://docchat.example.com"
GOOD_DB = "postgresql://u:p@db.example.com/docchat"
NEON_POOLED = "postgresql://u:p@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb"
NEON_DIRECT = "postgresql://u:p@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb"
UNREACHABLE_DB = "postgresql://u:p@127.0.0.1:1/docchat"


def _production(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "production",
        "jwt_secret": GOOD_SECRET,
        "frontend_origin": [GOOD_ORIGIN],
        "database_url": GOOD_DB,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_valid_production_settings_pass() -> None:
    _production().validate_for_startup()
    _production(
        frontend_origin=[GOOD_ORIGIN, "http://localhost:3000"],
        jwt_previous_secrets=[GOOD_SECRET[::-1]],
    ).validate_for_startup()


def test_development_accepts_missing_secret_and_origin() -> None:
    Settings(_env_file=None, environment="development").validate_for_startup()


def test_a_pooler_with_a_direct_url_passes() -> None:
    _production(database_url=NEON_POOLED, database_direct_url=NEON_DIRECT).validate_for_startup()
    # Supabase's session pooler (port 5432) keeps a session: it is a valid direct URL.
    _production(
        database_url="postgresql://u:p@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
        database_direct_url="postgresql://u:p@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
    ).validate_for_startup()


def test_a_pooler_without_a_direct_url_is_refused_in_development_too() -> None:
    with pytest.raises(ConfigError, match=r"^DATABASE_DIRECT_URL is not set"):
        Settings(
            _env_file=None, environment="development", database_url=NEON_POOLED
        ).validate_for_startup()


def test_processes_without_http_need_no_web_settings() -> None:
    """A separate worker (Railway, Render) gets only the database and model variables."""
    worker = _production(jwt_secret=None, frontend_origin=[])
    worker.validate_for_startup(serves_http=False)
    with pytest.raises(ConfigError, match="^JWT_SECRET "):
        worker.validate_for_startup()
    # ... but a placeholder that is set is refused by every process (a pre-deploy
    # `docchat migrate` stops the deploy before it migrates).
    with pytest.raises(ConfigError, match="^JWT_SECRET "):
        _production(jwt_secret="please-change-me-to-a-long-random-value").validate_for_startup(
            serves_http=False
        )


BAD_PRODUCTION = [
    pytest.param({"jwt_secret": None}, "JWT_SECRET", id="secret-missing"),
    pytest.param({"jwt_secret": ""}, "JWT_SECRET", id="secret-empty"),
    pytest.param({"jwt_secret": "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P"}, "JWT_SECRET", id="secret-31"),
    pytest.param(
        {"jwt_secret": "development-secret-change-me-please-0123456789"},
        "JWT_SECRET",
        id="secret-known-placeholder",
    ),
    pytest.param(
        {"jwt_secret": "please-change-me-to-a-long-random-value"},
        "JWT_SECRET",
        id="secret-change-me",
    ),
    pytest.param({"jwt_secret": "x" * 64}, "JWT_SECRET", id="secret-one-character"),
    pytest.param({"jwt_previous_secrets": ["short"]}, "JWT_PREVIOUS_SECRETS", id="old-short"),
    pytest.param({"frontend_origin": []}, "FRONTEND_ORIGIN", id="origin-missing"),
    pytest.param({"frontend_origin": ["*"]}, "FRONTEND_ORIGIN", id="origin-star"),
    pytest.param(
        {"frontend_origin": [GOOD_ORIGIN, "*"]}, "FRONTEND_ORIGIN", id="origin-star-in-list"
    ),
    pytest.param(
        {"frontend_origin": ["https://docchat.example.com/"]},
        "FRONTEND_ORIGIN",
        id="origin-trailing-slash",
    ),
    pytest.param({"frontend_origin": ["docchat.example.com"]}, "FRONTEND_ORIGIN", id="no-scheme"),
    pytest.param({"database_url": None}, "DATABASE_URL", id="database-missing"),
    pytest.param({"database_url": "mysql://u:p@db/x"}, "DATABASE_URL", id="database-not-postgres"),
    pytest.param(
        {"database_url": NEON_POOLED}, "DATABASE_DIRECT_URL", id="neon-pooler-without-direct"
    ),
    pytest.param(
        {"database_url": "postgresql://u:p@pgbouncer.internal:6432/docchat"},
        "DATABASE_DIRECT_URL",
        id="pgbouncer-port-without-direct",
    ),
    pytest.param(
        {
            "database_url": "postgresql://u.ref:p@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
        },
        "DATABASE_DIRECT_URL",
        id="supabase-transaction-pooler-without-direct",
    ),
    pytest.param(
        {"database_url": NEON_POOLED, "database_direct_url": NEON_POOLED},
        "DATABASE_DIRECT_URL",
        id="direct-url-is-the-pooler",
    ),
    pytest.param({"originals_storage": "s3"}, "S3_BUCKET", id="s3-without-bucket"),
    pytest.param(
        {"embedding_provider": "openai", "openai_api_key": "sk-test"},
        "EMBEDDING_MODEL",
        id="openai-embeddings-without-model",
    ),
    pytest.param(
        {"embedding_provider": "openai", "embedding_model": "text-embedding-3-small"},
        "OPENAI_API_KEY",
        id="openai-embeddings-without-key-or-server",
    ),
]


@pytest.mark.parametrize(("overrides", "variable"), BAD_PRODUCTION)
def test_validate_for_startup_names_the_variable(
    overrides: dict[str, object], variable: str
) -> None:
    settings = _production(**overrides)
    with pytest.raises(ConfigError) as caught:
        settings.validate_for_startup()
    message = str(caught.value)
    assert message.startswith(variable + " ")
    assert "\n" not in message
    if settings.jwt_secret:
        assert settings.jwt_secret not in message  # the secret itself is never echoed


# --- the real process ----------------------------------------------------------------------

BASE_PRODUCTION_ENV = {
    "ENVIRONMENT": "production",
    "JWT_SECRET": GOOD_SECRET,
    "FRONTEND_ORIGIN": GOOD_ORIGIN,
    "DATABASE_URL": GOOD_DB,
}
IMPORT_APP = ["-c", "import app.main"]
UVICORN = ["-m", "uvicorn", "app.main:app", "--port", "0"]
DOCCHAT_MIGRATE = ["-m", "app.cli", "migrate"]
DOCCHAT_WORKER = ["-m", "app.cli", "worker"]
# case -> (command, environment changes, the variable the one line must name)
PROCESS_CASES: dict[str, tuple[list[str], dict[str, str | None], str]] = {
    "secret-missing": (IMPORT_APP, {"JWT_SECRET": None}, "JWT_SECRET"),
    "secret-placeholder": (
        IMPORT_APP,
        {"JWT_SECRET": "development-secret-change-me-please-0123456789"},
        "JWT_SECRET",
    ),
    "origin-star": (IMPORT_APP, {"FRONTEND_ORIGIN": "*"}, "FRONTEND_ORIGIN"),
    "uvicorn-secret-short": (UVICORN, {"JWT_SECRET": "tooshort"}, "JWT_SECRET"),
    "uvicorn-origin-missing": (UVICORN, {"FRONTEND_ORIGIN": None}, "FRONTEND_ORIGIN"),
    "uvicorn-database-not-postgres": (
        UVICORN,
        {"DATABASE_URL": "mysql://u:p@db.example.com/docchat"},
        "DATABASE_URL",
    ),
    "uvicorn-pooler-without-direct": (
        UVICORN,
        {"DATABASE_URL": NEON_POOLED},
        "DATABASE_DIRECT_URL",
    ),
    "migrate-pgbouncer-without-direct": (
        DOCCHAT_MIGRATE,
        {"DATABASE_URL": "postgresql://u:p@127.0.0.1:6432/docchat"},
        "DATABASE_DIRECT_URL",
    ),
    "migrate-unreachable": (DOCCHAT_MIGRATE, {"DATABASE_URL": UNREACHABLE_DB}, "DATABASE_URL"),
    "migrate-unreachable-direct": (
        DOCCHAT_MIGRATE,
        {"DATABASE_DIRECT_URL": UNREACHABLE_DB},
        "DATABASE_DIRECT_URL",
    ),
    # A worker started with only the database variables gets past every web-only check and
    # names the database it cannot reach (not JWT_SECRET or FRONTEND_ORIGIN).
    "worker-unreachable-without-web-variables": (
        DOCCHAT_WORKER,
        {"DATABASE_URL": UNREACHABLE_DB, "JWT_SECRET": None, "FRONTEND_ORIGIN": None},
        "DATABASE_URL",
    ),
}


def _clean_env(overrides: dict[str, str | None]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "PYTHONPATH", "HF_HUB_OFFLINE", *SCRATCH_VARIABLES)
    }
    env["PYTHONPATH"] = str(BACKEND)
    for key, value in {**BASE_PRODUCTION_ENV, **overrides}.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.fixture(scope="module")
def production_processes(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[int, str, str]]:
    """`python -c "import app.main"` or `uvicorn app.main:app` per bad environment, all started
    at once (in a directory without a .env file). Returns case -> (exit code, stdout, stderr)."""
    cwd = tmp_path_factory.mktemp("no-dotenv")
    processes = {
        case: subprocess.Popen(
            [sys.executable, *command],
            cwd=cwd,
            env=_clean_env(overrides),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for case, (command, overrides, _) in PROCESS_CASES.items()
    }
    results = {}
    for case, process in processes.items():
        stdout, stderr = process.communicate(timeout=60)
        results[case] = (process.returncode, stdout, stderr)
    return results


@pytest.mark.parametrize("case", list(PROCESS_CASES))
def test_production_process_refuses_to_start_with_one_line(
    production_processes: dict[str, tuple[int, str, str]], case: str
) -> None:
    returncode, stdout, stderr = production_processes[case]
    _, overrides, variable = PROCESS_CASES[case]
    assert returncode != 0
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert re.match(rf"configuration error: {variable}\b", lines[0]), lines[0]
    assert "Started server process" not in stdout
    secret = overrides.get("JWT_SECRET")
    if secret:
        assert secret not in stderr + stdout


# --- .env.example ----------------------------------------------------------------------------


def _example_assignments() -> dict[str, str]:
    assignments = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            assignments[match.group(1)] = match.group(2)
    return assignments


def test_env_example_lists_every_setting() -> None:
    from app.search.config import SearchSettings

    names = {name.upper() for name in Settings.model_fields}
    names |= {f"SEARCH_{name.upper()}" for name in SearchSettings.model_fields}
    assignments = _example_assignments()
    assert sorted(names - set(assignments)) == []
    assert sorted(set(assignments) - names) == []


def test_env_example_holds_no_working_secret() -> None:
    assignments = _example_assignments()
    for name in ("JWT_SECRET", "JWT_PREVIOUS_SECRETS", "OPENAI_API_KEY", "SENTRY_DSN"):
        assert assignments[name] == "", f"{name} has a value in .env.example"
    # Loaded as-is it is a valid development configuration ...
    settings = Settings(_env_file=ENV_EXAMPLE)
    assert settings.environment == "development"
    assert settings.frontend_dist is None  # empty values mean "unset", not Path(".")
    # ... and production with it refuses to start for lack of a secret.
    with pytest.raises(ConfigError, match="^JWT_SECRET"):
        Settings(_env_file=ENV_EXAMPLE, environment="production").validate_for_startup()


# --- values from the environment ---------------------------------------------------------


def test_comma_lists_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTEND_ORIGIN", " https://a.example.com, https://b.example.com ,")
    monkeypatch.setenv("JWT_PREVIOUS_SECRETS", "first-old-secret,second-old-secret")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.1,10.0.0.2")
    settings = Settings(_env_file=None)
    assert settings.frontend_origin == ["https://a.example.com", "https://b.example.com"]
    assert settings.jwt_previous_secrets == ["first-old-secret", "second-old-secret"]
    assert settings.forwarded_allow_ips == ["10.0.0.1", "10.0.0.2"]


def test_empty_environment_values_mean_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FRONTEND_DIST", "SENTRY_DSN", "EMBEDDING_MODEL", "MAX_UPLOAD_MB"):
        monkeypatch.setenv(name, "")
    settings = Settings(_env_file=None)
    assert settings.frontend_dist is None
    assert settings.sentry_dsn is None
    assert settings.embedding_model is None
    assert settings.max_upload_mb == 50


def test_get_settings_turns_malformed_values_into_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "prod")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError, match="^ENVIRONMENT is invalid"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_a_malformed_rate_limit_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_RATE_LIMIT", "twenty a minute")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError, match="^CHAT_RATE_LIMIT is invalid"):
            get_settings()
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgres://u:p@h/db?sslmode=require",
            "postgresql+psycopg://u:p@h/db?sslmode=require",
        ),
        (
            "postgresql://u:p@h:6543/db?sslmode=require&application_name=docchat",
            "postgresql+psycopg://u:p@h:6543/db?sslmode=require&application_name=docchat",
        ),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        (
            "postgresql://postgres:@/docchat?host=/tmp/pg",
            "postgresql+psycopg://postgres:@/docchat?host=/tmp/pg",
        ),
    ],
)
def test_sqlalchemy_url_picks_psycopg_and_keeps_parameters(url: str, expected: str) -> None:
    assert sqlalchemy_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h/db?sslmode=require", "postgresql://u:p@h/db?sslmode=require"),
        (
            "postgresql+psycopg://u:p@h/db?sslmode=verify-full",
            "postgresql://u:p@h/db?sslmode=verify-full",
        ),
        ("postgresql://u:p%40x@h/db", "postgresql://u:p%40x@h/db"),
    ],
)
def test_libpq_url_is_plain_postgresql(url: str, expected: str) -> None:
    assert libpq_url(url) == expected


def test_non_postgres_url_is_rejected() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        sqlalchemy_url("mysql://u:p@h/db")
    with pytest.raises(ValueError, match="PostgreSQL"):
        libpq_url("sqlite:///x.db")


async def test_provider_url_connects_to_the_real_database(database_url: str) -> None:
    """The embedded server's URL, rewritten to the postgres:// form, still connects."""
    from sqlalchemy import text

    from app.core.db import create_engine

    provider_form = database_url.replace("postgresql://", "postgres://", 1)
    engine = create_engine(provider_form, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT current_database()"))).scalar_one()
    finally:
        await engine.dispose()

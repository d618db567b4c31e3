"""The app behind PgBouncer in transaction pooling mode (what Neon's pooled URL is): the web
app uses the pooled URL, migrations and the worker's LISTEN/NOTIFY the direct one. Every
endpoint is hit often enough (>= 20 times, concurrently) that psycopg's automatic prepared
statements would have broken it, had they not been disabled."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from app.main import create_app
from tests.conftest import free_port, make_settings, pdf, upload, wait_until_settled

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
ROUNDS = 20
POOL_SIZE = 4  # fewer server connections than the app's pool: clients share them


@pytest.fixture
def pgbouncer(database_url: str) -> Iterator[str]:
    """A pgbouncer in front of the test database; yields its URL."""
    if not os.access(PGBOUNCER, os.X_OK):
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    target = conninfo_to_dict(database_url)
    host = str(target.get("host") or "127.0.0.1")
    run_as: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        try:
            owner = pwd.getpwnam("embedded_postgres")
        except KeyError:
            pytest.skip("running as root without an unprivileged user for pgbouncer")
        run_as = ["-u", owner.pw_name]
    workdir = Path(tempfile.mkdtemp(prefix="docchat-pgbouncer-"))
    if owner is not None:
        os.chown(workdir, owner.pw_uid, owner.pw_gid)
    workdir.chmod(0o755)
    port = free_port()
    user = str(target.get("user") or "postgres")
    database = str(target["dbname"])
    backend = f"host={host} port={target.get('port') or 5432} dbname={database} user={user}"
    if target.get("password"):
        backend += f" password={target['password']}"
    (workdir / "users.txt").write_text(f'"{user}" ""\n')
    config = workdir / "pgbouncer.ini"
    config.write_text(
        f"""[databases]
{database} = {backend}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / "users.txt"}
admin_users = {user}
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_client_conn = 200
ignore_startup_parameters = extra_float_digits,options
server_reset_query =
stats_period = 1
logfile = {workdir / "pgbouncer.log"}
pidfile = {workdir / "pgbouncer.pid"}
"""
    )
    for path in workdir.iterdir():
        path.chmod(0o644)
    process = subprocess.Popen(
        [PGBOUNCER, *run_as, str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"postgresql://{user}@127.0.0.1:{port}/{database}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with psycopg.connect(url, connect_timeout=2, prepare_threshold=None) as conn:
                    conn.execute("SELECT 1")
                break
            except psycopg.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (workdir / "pgbouncer.log").read_text(errors="replace")
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"pgbouncer did not start:\n{output}\n{log}")
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _transactions(pooled_url: str) -> int:
    """Transactions pgbouncer has passed on for the test database (its admin console)."""
    parts = conninfo_to_dict(pooled_url)
    admin = f"postgresql://{parts['user']}@127.0.0.1:{parts['port']}/pgbouncer"
    with psycopg.connect(admin, autocommit=True, prepare_threshold=None) as conn:
        cursor = conn.cursor()
        cursor.execute("SHOW STATS")
        columns = [c.name for c in cursor.description or []]
        for row in cursor.fetchall():
            record = dict(zip(columns, row, strict=True))
            if record["database"] == parts["dbname"]:
                return int(record["total_xact_count"])
    return 0


def test_pgbouncer_really_pools_in_transaction_mode(pgbouncer: str) -> None:
    """The control: WITH psycopg's prepared statements, two clients sharing a server
    connection through this pgbouncer break. So the smoke test below can fail."""
    failures: list[str] = []
    first = psycopg.connect(pgbouncer, autocommit=True, prepare_threshold=0)
    second = psycopg.connect(pgbouncer, autocommit=True, prepare_threshold=0)
    try:
        for i in range(ROUNDS):
            for conn in (first, second):
                try:
                    conn.execute("SELECT %s::int + 1", (i,)).fetchone()
                except psycopg.Error as exc:
                    failures.append(type(exc).__name__)
    finally:
        first.close()
        second.close()
    assert failures, "prepared statements survived: pgbouncer is not in transaction mode"


async def test_the_app_through_pgbouncer(pgbouncer: str, database_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        pgbouncer,
        tmp_path,
        database_direct_url=database_url,  # the job queue: LISTEN/NOTIFY needs a session
        rate_limit_enabled=False,  # ROUNDS logins from one address
        db_pool_size=8,
        db_max_overflow=4,
    )
    app = create_app(settings)
    before = _transactions(pgbouncer)
    statuses: dict[str, list[int]] = {}

    def record(name: str, response: httpx.Response) -> httpx.Response:
        statuses.setdefault(name, []).append(response.status_code)
        return response

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=60
        ) as client:
            emails = [f"bouncer-{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(ROUNDS)]

            # Argon2 holds a pooled connection while it hashes (see docs/benchmarks.md, Load):
            # sign-ups go a few at a time so this test is about PgBouncer, not that limit.
            gate = asyncio.Semaphore(4)

            async def register(email: str) -> dict[str, str]:
                async with gate:
                    return await _register(email)

            async def _register(email: str) -> dict[str, str]:
                body = {"email": email, "password": "correct-horse-battery", "full_name": "B"}
                record("register", await client.post("/api/v1/auth/register", json=body))
                login = record(
                    "login",
                    await client.post(
                        "/api/v1/auth/login",
                        json={"email": email, "password": "correct-horse-battery"},
                    ),
                )
                assert login.status_code == 200, login.text
                return {"Authorization": f"Bearer {login.json()['access_token']}"}

            users = await asyncio.gather(*(register(email) for email in emails))
            owner = users[0]
            doc = record("upload", await upload(client, owner, pdf("crazyones.pdf"))).json()[0]
            texts = [
                (f"note-{i}.txt", f"Note {i}: the crazy ones push the human race.".encode())
                for i in range(ROUNDS - 1)
            ]
            uploaded = await asyncio.gather(
                *(upload(client, owner, (name, data, "text/plain")) for name, data in texts)
            )
            ids = [doc["id"]]
            for response in uploaded:
                record("upload", response)
                ids.append(response.json()[0]["id"])
            for document_id in ids:
                settled = await wait_until_settled(client, owner, document_id)
                assert settled["status"] == "ready", settled

            async def reads(headers: dict[str, str]) -> None:
                record("me", await client.get("/api/v1/auth/me", headers=headers))
                record("list", await client.get("/api/v1/documents", headers=owner))
                record("get", await client.get(f"/api/v1/documents/{doc['id']}", headers=owner))
                record(
                    "search",
                    await client.post(
                        "/api/v1/search",
                        headers=owner,
                        json={"query": "the crazy ones", "k": 5},
                    ),
                )

            await asyncio.gather(*(reads(headers) for headers in users))

            chat = record("chat", await client.post("/api/v1/chats", headers=owner, json={}))
            chat_id = chat.json()["id"]

            async def answer(i: int) -> None:
                response = record(
                    "answer",
                    await client.post(
                        f"/api/v1/chats/{chat_id}/messages",
                        headers=owner,
                        json={"content": f"What do the crazy ones do? ({i})"},
                    ),
                )
                assert '"type":"finish"' in response.text, response.text[-300:]

            await asyncio.gather(*(answer(i) for i in range(ROUNDS)))
            # Questions sent at once to one chat all follow the same answer: versions of one
            # turn. Every message is in the chat's export, whichever version is shown.
            detail = record("chat", await client.get(f"/api/v1/chats/{chat_id}", headers=owner))
            exported = await client.get(
                f"/api/v1/chats/{chat_id}/export?format=json", headers=owner
            )
            assert detail.json()["messages"]
            assert len(exported.json()["all_messages"]) == 2 * ROUNDS

    expected = {"register": 201, "upload": 202, "chat": 201}
    for name, codes in statuses.items():
        if name == "chat":
            assert codes == [201, 200], codes
            continue
        assert len(codes) >= ROUNDS, (name, len(codes))
        assert set(codes) == {expected.get(name, 200)}, (name, codes)
    # The traffic really went through pgbouncer.
    await asyncio.sleep(1.5)  # stats_period
    assert _transactions(pgbouncer) - before > 10 * ROUNDS

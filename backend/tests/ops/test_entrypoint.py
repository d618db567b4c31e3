"""backend/entrypoint.sh itself, run with bash against a real, initially EMPTY database:
migrations, readiness, JSON logs, SIGTERM, concurrent replicas, the `migrate` role and the
refusal to start production with a placeholder secret."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from alembic.script import ScriptDirectory
from psycopg import sql

from app.core import migrate
from app.core.embedded_pg import ensure_database
from app.core.settings import Settings
from tests.conftest import free_port

BACKEND = Path(__file__).resolve().parents[2]
ENTRYPOINT = BACKEND / "entrypoint.sh"
VENV_BIN = BACKEND.parent / ".venv" / "bin"
if not (VENV_BIN / "docchat").exists():
    VENV_BIN = Path(sys.executable).parent
HEAD = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
MIGRATION_COUNT = len(list(ScriptDirectory.from_config(migrate.alembic_config()).walk_revisions()))
STRONG_SECRET = secrets.token_urlsafe(48)

# Import + migrations + startup take ~7 s on an idle laptop; the scenarios boot in parallel.
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0  # SIGTERM to exit, idle server
EXIT_TIMEOUT_S = 60.0  # the `migrate` role and configuration errors


class Databases:
    """Brand-new databases with nothing in them (not even the migrations), dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.names: list[str] = []

    def create(self) -> str:
        name = f"ep_{uuid.uuid4().hex[:16]}"
        self.names.append(name)
        return ensure_database(self.admin_url, name)

    def drop_all(self) -> None:
        # In parallel: every DROP DATABASE waits for a checkpoint, and concurrent ones share it.
        def drop(name: str) -> None:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )

        with ThreadPoolExecutor(max_workers=len(self.names) or 1) as pool:
            list(pool.map(drop, self.names))


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def base_env(database_url: str, port: int, data_dir: Path, **overrides: str) -> dict[str, str]:
    """The test runner's environment without any DocChat setting, plus a production setup."""
    app_vars = {name.upper() for name in Settings.model_fields} | {
        "MIGRATE_ON_START",
        "GRACEFUL_TIMEOUT_S",
        "RENDER_GIT_COMMIT",
        "RAILWAY_GIT_COMMIT_SHA",
        "TEST_DATABASE_URL",
    }
    env = {k: v for k, v in os.environ.items() if k.upper() not in app_vars}
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        DATABASE_URL=database_url,
        ENVIRONMENT="production",
        JWT_SECRET=STRONG_SECRET,
        FRONTEND_ORIGIN="https://app.example.com",
        PORT=str(port),
        RUN_WORKER="true",
        GIT_SHA="abc123",
        DATA_DIR=str(data_dir),
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


@dataclass
class Entrypoint:
    """One `bash entrypoint.sh ...` process in its own process group, output in files."""

    process: subprocess.Popen[bytes]
    port: int
    stdout_path: Path
    stderr_path: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def output(self) -> str:
        return f"--- stdout ---\n{self.stdout[-6000:]}\n--- stderr ---\n{self.stderr[-6000:]}"

    def log_events(self) -> list[dict[str, Any]]:
        """Every stdout line, parsed: fails unless each one is a JSON object."""
        events = []
        for line in self.stdout.splitlines():
            if not line.strip():
                continue
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                pytest.fail(f"stdout line is not JSON: {line!r}\n{self.output()}")
            assert isinstance(entry, dict), line
            assert {"timestamp", "level", "logger", "event"} <= entry.keys(), line
            events.append(entry)
        return events

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> float:
        """Poll /ready until 200; return the seconds it took. Fails if the process exits."""
        deadline = self.started + timeout_s
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    pytest.fail(
                        f"entrypoint exited with {self.process.returncode}\n{self.output()}"
                    )
                try:
                    if client.get(f"http://127.0.0.1:{self.port}/ready").status_code == 200:
                        return time.monotonic() - self.started
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"/ready not 200 within {timeout_s} s\n{self.output()}")
                time.sleep(0.2)

    def terminate(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {timeout_s} s after SIGTERM\n{self.output()}")

    def wait(self, timeout_s: float = EXIT_TIMEOUT_S) -> int:
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"did not exit within {timeout_s} s\n{self.output()}")

    def group_is_gone(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return True
        return False


class Launcher:
    """Starts entrypoint.sh processes; `close` SIGKILLs whatever is still running."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[Entrypoint] = []

    def __call__(self, database_url: str, *args: str, **env_overrides: str) -> Entrypoint:
        port = free_port()
        workdir = self.workdir / f"run{len(self.started)}"  # no stray .env in the cwd
        workdir.mkdir(parents=True)
        stdout_path, stderr_path = workdir / "stdout.log", workdir / "stderr.log"
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            process = subprocess.Popen(
                ["bash", str(ENTRYPOINT), *args],
                cwd=workdir,
                env=base_env(database_url, port, workdir / "data", **env_overrides),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group, for cleanup
            )
        entrypoint = Entrypoint(process, port, stdout_path, stderr_path)
        self.started.append(entrypoint)
        return entrypoint

    def close(self) -> None:
        for entrypoint in self.started:
            if entrypoint.process.poll() is None or not entrypoint.group_is_gone():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(entrypoint.process.pid, signal.SIGKILL)
                entrypoint.process.wait(timeout=10)


@dataclass
class Scenario:
    database_url: str
    processes: list[Entrypoint]


@pytest.fixture(scope="module")
def scenarios(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Scenario]]:
    """The slow scenarios, all started at once (each on its own empty database) so that their
    imports, migrations and startups overlap; each test then checks its own."""
    databases = Databases(pg_admin_url)
    launch = Launcher(tmp_path_factory.mktemp("entrypoint"))
    try:
        single, pair, job, refused = (databases.create() for _ in range(4))
        assert alembic_versions(single) is None
        yield {
            "web": Scenario(single, [launch(single)]),
            "two_replicas": Scenario(pair, [launch(pair), launch(pair)]),
            "migrate": Scenario(job, [launch(job, "migrate")]),
            # Both roles, production, a placeholder secret: must refuse, leaving `refused` empty.
            "bad_secret": Scenario(
                refused,
                [
                    launch(refused, JWT_SECRET="changeme"),
                    launch(refused, "migrate", JWT_SECRET="changeme"),
                ],
            ),
        }
    finally:
        launch.close()
        databases.drop_all()


def alembic_versions(url: str) -> list[str] | None:
    """The rows of alembic_version, or None when the table does not exist."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        exists = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return None
        return [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]


def migrations_run(events: list[dict[str, Any]]) -> list[str]:
    return [e["event"] for e in events if str(e["event"]).startswith("Running upgrade")]


def assert_clean_exit(entrypoint: Entrypoint, returncode: int) -> None:
    # uvicorn re-raises the SIGTERM it handled once shutdown is complete, so "clean" is
    # 0 or -SIGTERM after a completed lifespan shutdown, never a kill mid-way.
    assert returncode in (0, -signal.SIGTERM), entrypoint.output()
    events = [e["event"] for e in entrypoint.log_events()]
    assert "Application shutdown complete." in events, entrypoint.output()
    assert "shutdown" in events  # app.main's lifespan ran to its end
    assert entrypoint.group_is_gone(), "a child process outlived the entrypoint"


def test_web_role_migrates_an_empty_database_serves_and_stops_on_sigterm(
    scenarios: dict[str, Scenario],
) -> None:
    scenario = scenarios["web"]
    (web,) = scenario.processes

    web.wait_ready()
    assert alembic_versions(scenario.database_url) == [HEAD]
    health = httpx.get(f"http://127.0.0.1:{web.port}/health", timeout=5)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "version": "abc123"}

    assert_clean_exit(web, web.terminate())
    events = web.log_events()
    names = [e["event"] for e in events]
    assert len(migrations_run(events)) == MIGRATION_COUNT
    assert names.index("migrations_upgrade_done") < names.index("startup")
    startup = next(e for e in events if e["event"] == "startup")
    assert startup["version"] == "abc123"
    assert startup["environment"] == "production"
    assert "Starting worker on all queues" in names  # RUN_WORKER=true
    ready = [e for e in events if e["event"] == "request" and e.get("path") == "/ready"]
    assert ready, "no JSON request log line for /ready"
    assert ready[-1]["status"] == 200
    assert ready[-1]["request_id"]
    assert STRONG_SECRET not in web.stdout + web.stderr
    assert web.stderr.strip() == "", web.output()
    assert not port_is_open(web.port)


def test_two_replicas_starting_at_once_migrate_once(scenarios: dict[str, Scenario]) -> None:
    scenario = scenarios["two_replicas"]
    first, second = scenario.processes

    first.wait_ready()
    second.wait_ready()
    assert alembic_versions(scenario.database_url) == [HEAD]
    for web in (first, second):
        health = httpx.get(f"http://127.0.0.1:{web.port}/health", timeout=5)
        assert health.json() == {"status": "ok", "version": "abc123"}

    first.process.send_signal(signal.SIGTERM)
    assert_clean_exit(second, second.terminate())
    assert_clean_exit(first, first.wait(STOP_TIMEOUT_S))
    ran = [migrations_run(web.log_events()) for web in (first, second)]
    # Both took the advisory lock and ran `upgrade head`; only the first one had work to do.
    assert sorted(len(r) for r in ran) == [0, MIGRATION_COUNT], ran
    for web in (first, second):
        assert "migrations_upgrade_done" in [e["event"] for e in web.log_events()]


def test_migrate_role_applies_migrations_and_exits(scenarios: dict[str, Scenario]) -> None:
    scenario = scenarios["migrate"]
    (job,) = scenario.processes

    assert job.wait() == 0, job.output()
    assert alembic_versions(scenario.database_url) == [HEAD]
    events = job.log_events()
    assert len(migrations_run(events)) == MIGRATION_COUNT
    assert "migrations_upgrade_done" in [e["event"] for e in events]
    assert not any(str(e["logger"]).startswith("uvicorn") for e in events), job.output()
    assert job.group_is_gone()  # nothing left running, no server
    assert not port_is_open(job.port)


@pytest.mark.parametrize("index", [0, 1], ids=["web", "migrate"])
def test_production_refuses_a_placeholder_jwt_secret(
    scenarios: dict[str, Scenario], index: int
) -> None:
    scenario = scenarios["bad_secret"]
    bad = scenario.processes[index]

    assert bad.wait() != 0, bad.output()
    lines = [line for line in bad.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, bad.output()
    assert "JWT_SECRET" in lines[0]
    assert "changeme" not in bad.stdout + bad.stderr  # the message names it, never echoes it
    assert bad.stdout.strip() == ""
    assert alembic_versions(scenario.database_url) is None  # refused before any migration
    assert bad.group_is_gone()
    assert not port_is_open(bad.port)

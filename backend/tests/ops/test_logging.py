"""Structured logs: a real uvicorn process of the app writes one JSON object per stdout line,
with request context, and never a password, token or Authorization header value."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.logging import (
    REDACTED,
    ConsoleFormatter,
    JsonFormatter,
    RoutineJobsAtDebug,
    redact,
    redact_text,
    request_id_var,
)
from app.core.settings import Settings
from tests.conftest import TEST_SECRET

BACKEND = Path(__file__).resolve().parents[2]

# Runs the app the way `docchat serve` does (uvicorn + its log config, no access log) on a
# listening socket inherited from the test, so there is no race for a free port.
_LAUNCHER = """
import sys
import uvicorn
from app.core.logging import uvicorn_log_config
from app.core.settings import get_settings
uvicorn.run(
    "app.main:app", fd=int(sys.argv[1]), log_config=uvicorn_log_config(get_settings().log_output),
    access_log=False, timeout_graceful_shutdown=2,
)
"""


@dataclass
class LiveServer:
    """A uvicorn subprocess serving app.main:app; `stop()` returns everything it printed."""

    process: subprocess.Popen[bytes]
    port: int
    stdout: str = ""
    stderr: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                out, err = self.process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                out, err = self.process.communicate()
        else:
            out, err = self.process.communicate()
        self.stdout += out.decode()
        self.stderr += err.decode()
        return self.stdout


def server_env(database_url: str, tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key.startswith(("PATH", "HOME", "LANG", "LC_", "TMP", "PYTHON", "HF_", "TOKENIZERS"))
    }
    env.update(
        ENVIRONMENT="development",
        DATABASE_URL=database_url,
        JWT_SECRET=TEST_SECRET,
        FRONTEND_ORIGIN="http://localhost:3000",
        FRONTEND_DIST=str(tmp_path / "no-frontend"),
        DATA_DIR=str(tmp_path / "data"),
        GIT_SHA="live-sha",
        LOG_LEVEL="INFO",
        RUN_WORKER="true",
        HF_HUB_OFFLINE="1",
        PYTHONPATH=str(BACKEND),
    )
    env.update(overrides)
    return env


def start_server(env: dict[str, str], cwd: Path, *, timeout_s: float = 30.0) -> LiveServer:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-c", _LAUNCHER, str(listener.fileno())],
        env=env,
        cwd=cwd,
        pass_fds=[listener.fileno()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    listener.close()
    server = LiveServer(process=process, port=port)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            server.stop()
            raise AssertionError(f"server exited early:\n{server.stdout}\n{server.stderr}")
        try:
            if httpx.get(f"{server.base_url}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    raise AssertionError(f"server did not start:\n{server.stdout}\n{server.stderr}")


PASSWORD = "log-test-password-Zq81"


@dataclass
class Session:
    stdout: str
    output: str
    lines: list[dict[str, Any]]
    secrets: dict[str, str]
    user_id: str
    generated_request_id: str
    oversize_response: tuple[bytes, float]


@pytest.fixture(scope="module")
def logged_session(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Session:
    tmp_path = tmp_path_factory.mktemp("live")
    server = start_server(server_env(module_database_url, tmp_path, LOG_FORMAT="json"), tmp_path)
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            email = "logger@example.com"
            registered = client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "full_name": "Log Test"},
            )
            assert registered.status_code == 201, registered.text
            login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.text
            tokens = login.json()
            refreshed = client.post(
                "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
            )
            assert refreshed.status_code == 200, refreshed.text
            new_tokens = refreshed.json()
            authorization = f"Bearer {new_tokens['access_token']}"
            me = client.get(
                "/api/v1/auth/me",
                headers={"Authorization": authorization, "X-Request-ID": "my-request-0001"},
            )
            assert me.status_code == 200, me.text
            assert me.headers["x-request-id"] == "my-request-0001"
            bad = client.get("/api/v1/auth/me", headers={"X-Request-ID": "bad id <script>"})
            assert bad.status_code == 401
            generated = bad.headers["x-request-id"]
            assert generated != "bad id <script>"
            assert re.fullmatch(r"[0-9a-f]{32}", generated)
            assert bad.json()["error"]["request_id"] == generated
            # A wrong password attempt: its value must not be logged either.
            wrong = client.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD + "-wrong"}
            )
            assert wrong.status_code == 401
        oversize = _raw_oversize_upload(server.port)
    finally:
        output = server.stop()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return Session(
        stdout=output,
        output=output + server.stderr,
        lines=lines,
        secrets={
            "password": PASSWORD,
            "access token": tokens["access_token"],
            "refresh token": tokens["refresh_token"],
            "new access token": new_tokens["access_token"],
            "new refresh token": new_tokens["refresh_token"],
            "authorization header": authorization,
        },
        user_id=registered.json()["id"],
        generated_request_id=generated,
        oversize_response=oversize,
    )


def _raw_oversize_upload(port: int) -> tuple[bytes, float]:
    """Declare a 10 GB upload, send only the headers, and time the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        started = time.perf_counter()
        conn.sendall(
            b"POST /api/v1/documents HTTP/1.1\r\nHost: t\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"X-Request-ID: oversize-upload-01\r\n"
            b"Content-Length: 10737418240\r\n\r\n--x\r\n"
        )
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
        return received, time.perf_counter() - started


def test_oversize_upload_is_answered_413_before_the_body(logged_session: Session) -> None:
    """Against the real server: the 413 arrives promptly although the body never comes."""
    raw, elapsed = logged_session.oversize_response
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), raw
    assert elapsed < 2
    error = json.loads(body)["error"]
    assert error["code"] == "payload_too_large"
    assert error["request_id"] == "oversize-upload-01"
    [logged] = [e for e in logged_session.lines if e.get("request_id") == "oversize-upload-01"]
    assert logged["status"] == 413


def _access_lines(session: Session) -> list[dict[str, Any]]:
    return [line for line in session.lines if line.get("event") == "request"]


def test_every_stdout_line_is_a_json_object(logged_session: Session) -> None:
    stdout_lines = logged_session.stdout.splitlines()
    assert len(stdout_lines) > 10, "the server printed almost nothing"
    for line in stdout_lines:
        assert isinstance(json.loads(line), dict), line
    for entry in logged_session.lines:
        assert {"timestamp", "level", "event", "logger"} <= entry.keys(), entry


def test_uvicorn_startup_lines_are_json(logged_session: Session) -> None:
    events = [entry["event"] for entry in logged_session.lines]
    assert any(event.startswith("Started server process") for event in events), events
    assert any(event.startswith("Application startup complete") for event in events), events
    assert any(entry["event"] == "startup" for entry in logged_session.lines)
    assert any(event.startswith("Shutting down") for event in events), events


def test_access_lines_carry_request_context(logged_session: Session) -> None:
    access = _access_lines(logged_session)
    paths = [(entry["method"], entry["path"], entry["status"]) for entry in access]
    assert ("POST", "/api/v1/auth/register", 201) in paths
    assert ("POST", "/api/v1/auth/login", 200) in paths
    assert ("POST", "/api/v1/auth/refresh", 200) in paths
    assert ("GET", "/api/v1/auth/me", 200) in paths
    for entry in access:
        assert {
            "timestamp",
            "level",
            "event",
            "request_id",
            "method",
            "path",
            "status",
            "duration_ms",
        } <= entry.keys(), entry
        assert isinstance(entry["duration_ms"], int | float)
        assert entry["duration_ms"] >= 0
    [me] = [entry for entry in access if entry["request_id"] == "my-request-0001"]
    assert me["path"] == "/api/v1/auth/me"
    assert me["client"] == "127.0.0.1"  # the address rate limits key on
    assert me["user_id"] == logged_session.user_id
    [rejected] = [
        entry for entry in access if entry["request_id"] == logged_session.generated_request_id
    ]
    assert rejected["status"] == 401
    assert "user_id" not in rejected
    # Unauthenticated requests carry no user id.
    assert all("user_id" not in entry for entry in access if entry["path"].endswith("register"))


def test_no_secret_reaches_the_logs(logged_session: Session) -> None:
    for name, value in logged_session.secrets.items():
        assert value not in logged_session.output, f"the {name} was logged"
    # The token without its scheme prefix, too.
    token = logged_session.secrets["new access token"]
    assert token.split(".")[2] not in logged_session.output


# --- unit tests of the formatter and the redaction ----------------------------------------


def _record(msg: str, *args: object, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("app.test", logging.WARNING, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_development_logs_are_readable_lines_and_quiet_when_idle(
    module_database_url: str, tmp_path: Path
) -> None:
    """`make dev`: ENVIRONMENT=development and no LOG_FORMAT. One plain line per request, and
    nothing from the periodic maintenance job that runs every 2 s in the in-process worker."""
    env = server_env(module_database_url, tmp_path)
    assert "LOG_FORMAT" not in env
    server = start_server(env, tmp_path)
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            secret = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl"
            assert (
                client.get("/api/v1/auth/me", headers={"Authorization": secret}).status_code == 401
            )
            assert client.get("/api/v1/nope").status_code == 404
            time.sleep(6)  # three runs of the periodic job
            assert client.get("/ready").status_code == 200
    finally:
        output = server.stop()
    lines = output.splitlines()
    assert lines, server.stderr
    assert not [line for line in lines if line.lstrip().startswith("{")], output
    assert re.search(r"^\d\d:\d\d:\d\d INFO: +GET /api/v1/auth/me 401 [\d.]+ ms ", output, re.M)
    assert re.search(r"GET /api/v1/nope 404 [\d.]+ ms ", output)
    assert re.search(r"GET /ready 200 [\d.]+ ms ", output)
    assert len([line for line in lines if "GET /api/v1/auth/me" in line]) == 1
    assert "retry_stalled_jobs" not in output, output
    assert "eyJhbGciOiJIUzI1NiJ9" not in output
    assert "Application startup complete" in output  # uvicorn's own lines, readable too


@pytest.mark.parametrize(
    ("environment", "log_format", "expected"),
    [
        ("development", None, "console"),
        ("production", None, "json"),
        ("development", "json", "json"),
        ("production", "console", "console"),
    ],
)
def test_log_format_follows_environment_unless_set(
    environment: str, log_format: str | None, expected: str
) -> None:
    values: dict[str, Any] = {"environment": environment}
    if log_format:
        values["log_format"] = log_format
    assert Settings(_env_file=None, **values).log_output == expected


def test_routine_job_lines_go_to_debug() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ConsoleFormatter())
    handler.addFilter(RoutineJobsAtDebug())
    procrastinate = logging.getLogger("procrastinate.worker")
    procrastinate.addHandler(handler)
    root = logging.getLogger()
    level = root.level
    try:
        for root_level in (logging.INFO, logging.DEBUG):
            root.setLevel(root_level)
            for task in ("maintenance:retry_stalled_jobs", "documents:ingest_document"):
                procrastinate.info(f"Starting job {task}", extra={"job": {"task_name": task}})
            procrastinate.info(
                "Deferred 1 job", extra={"jobs": [{"task_name": "maintenance:retry_stalled_jobs"}]}
            )
            procrastinate.warning(
                "Job failed", extra={"job": {"task_name": "maintenance:retry_stalled_jobs"}}
            )
    finally:
        root.setLevel(level)
        procrastinate.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        # INFO: the routine job's lines are gone, its warning and other jobs' lines stay
        "INFO:     procrastinate.worker: Starting job documents:ingest_document",
        "WARNING:  procrastinate.worker: Job failed",
        # DEBUG: everything, the routine job's lines at DEBUG
        "DEBUG:    procrastinate.worker: Starting job maintenance:retry_stalled_jobs",
        "INFO:     procrastinate.worker: Starting job documents:ingest_document",
        "DEBUG:    procrastinate.worker: Deferred 1 job",
        "WARNING:  procrastinate.worker: Job failed",
    ]


def test_json_formatter_fields_and_context() -> None:
    token = request_id_var.set("rid-12345678")
    try:
        line = JsonFormatter().format(_record("hello %s", "world", path="/x", status=200))
    finally:
        request_id_var.reset(token)
    entry = json.loads(line)
    assert entry["event"] == "hello world"
    assert entry["level"] == "warning"
    assert entry["logger"] == "app.test"
    assert entry["request_id"] == "rid-12345678"
    assert entry["path"] == "/x"
    assert entry["status"] == 200
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["timestamp"])
    assert "\n" not in line


def test_json_formatter_redacts_extra_fields_message_and_exception() -> None:
    jwt_like = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXZhbHVl"
    try:
        raise ValueError(f"failed with password=hunter2hunter2 and {jwt_like}")
    except ValueError:
        record = _record(
            "auth header Bearer abc.def.ghi",
            headers={"Authorization": "Bearer s3cr3t-value", "Accept": "text/plain"},
            password="plain-password-value",
        )
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    for secret in ("hunter2hunter2", jwt_like, "abc.def.ghi", "s3cr3t-value", "plain-password"):
        assert secret not in line
    entry = json.loads(line)
    assert entry["headers"] == {"Authorization": REDACTED, "Accept": "text/plain"}
    assert entry["password"] == REDACTED
    assert "ValueError" in entry["exception"]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"password": "pa55word-xyz", "email": "a@b.c"}', "pa55word-xyz"),
        ("password=pa55word-xyz&email=a", "pa55word-xyz"),
        ("refresh_token: r-token-value-123", "r-token-value-123"),
        ("Authorization: Bearer tok.en.value", "tok.en.value"),
        ("key sk-proj-abcdefghijklmnop used", "sk-proj-abcdefghijklmnop"),
    ],
)
def test_redact_text_patterns(text: str, secret: str) -> None:
    redacted = redact_text(text)
    assert secret not in redacted
    assert REDACTED in redacted


def test_redact_nested_structures_keeps_other_values() -> None:
    value = {
        "user": {"email": "a@example.com", "Password": "x"},
        "items": [{"access_token": "t"}, "plain"],
        "count": 3,
    }
    assert redact(value) == {
        "user": {"email": "a@example.com", "Password": REDACTED},
        "items": [{"access_token": REDACTED}, "plain"],
        "count": 3,
    }

"""The `docchat` command as real processes against a fresh database."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from app.core.embedded_pg import ensure_database
from tests.chat.test_organise import FERRY_QUESTION, harbour_answer
from tests.conftest import CORPUS, SCRATCH_VARIABLES

BACKEND = Path(__file__).resolve().parents[2]
DOCCHAT = Path(sys.executable).parent / "docchat"
PASSWORD = "cli-password-Vb93-long"


@pytest.fixture(scope="module")
def cli_database(pg_admin_url: str) -> Iterator[str]:
    name = f"c_{uuid.uuid4().hex[:16]}"
    yield ensure_database(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _env(database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k in ("PATH", "HOME", "LANG", "HF_HUB_OFFLINE", *SCRATCH_VARIABLES)
    }
    env.update(ENVIRONMENT="development", DATABASE_URL=database_url, PYTHONPATH=str(BACKEND))
    return env


def _start(args: list[str], database_url: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(DOCCHAT), *args],
        env=_env(database_url),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


def _create_user(email: str, password: str) -> list[str]:
    return ["create-user", "--email", email, "--full-name", "CLI User", "--password", password]


@pytest.fixture(scope="module")
def cli_runs(
    cli_database: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[int, str, str]]:
    cwd = tmp_path_factory.mktemp("cli")
    results = {"migrate": _finish(_start(["migrate"], cli_database, cwd))}
    results["create"] = _finish(
        _start(_create_user("Cli@Example.com", PASSWORD), cli_database, cwd)
    )
    # These two do not depend on each other: run them at once.
    duplicate = _start(_create_user("cli@example.com", PASSWORD + "-other"), cli_database, cwd)
    weak = _start(_create_user("weak@example.com", "short"), cli_database, cwd)
    results["duplicate"] = _finish(duplicate)
    results["weak"] = _finish(weak)
    return results


def _users(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return [(r[0], r[1]) for r in conn.execute("SELECT email, password_hash FROM users")]


def test_migrate_applies_all_migrations(
    cli_runs: dict[str, tuple[int, str, str]], cli_database: str
) -> None:
    returncode, stdout, stderr = cli_runs["migrate"]
    assert returncode == 0, stdout + stderr
    with psycopg.connect(cli_database) as conn:
        versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
    from alembic.script import ScriptDirectory

    from app.core import migrate

    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert versions == [head]


def test_create_user(cli_runs: dict[str, tuple[int, str, str]], cli_database: str) -> None:
    returncode, stdout, stderr = cli_runs["create"]
    assert returncode == 0, stdout + stderr
    assert "created user cli@example.com" in stdout  # stored in its normal form
    users = _users(cli_database)
    assert [email for email, _ in users] == ["cli@example.com"]
    assert users[0][1].startswith("$argon2")  # stored hashed
    assert PASSWORD not in stdout + stderr


def test_duplicate_email_fails_clearly(
    cli_runs: dict[str, tuple[int, str, str]], cli_database: str
) -> None:
    returncode, _, stderr = cli_runs["duplicate"]
    assert returncode != 0
    assert "already" in stderr.lower(), stderr
    assert "Traceback" not in stderr
    assert len(_users(cli_database)) == 1


def test_weak_password_fails(cli_runs: dict[str, tuple[int, str, str]], cli_database: str) -> None:
    returncode, _, stderr = cli_runs["weak"]
    assert returncode != 0
    assert "password" in stderr.lower(), stderr
    assert "Traceback" not in stderr
    assert "weak@example.com" not in [email for email, _ in _users(cli_database)]


def test_reindex_all_gives_old_documents_their_page_text(
    cli_runs: dict[str, tuple[int, str, str]], cli_database: str, tmp_path: Path
) -> None:
    """Documents indexed by an earlier release have no page text and no page spans:
    `docchat reindex --all` gives them both, with a progress bar."""
    assert cli_runs["migrate"][0] == 0
    email = "reindex@example.com"
    assert _finish(_start(_create_user(email, PASSWORD), cli_database, tmp_path))[0] == 0
    notes = tmp_path / "notes.txt"
    notes.write_text("The lamp is trimmed at dawn.\n\nThe horn sounds twice a minute in fog.\n")
    ingest = _start(["ingest", str(notes), "--user", email], cli_database, tmp_path)
    stdout, stderr = ingest.communicate(timeout=300)
    assert ingest.returncode == 0, stdout + stderr
    with psycopg.connect(cli_database) as conn:
        conn.execute("DELETE FROM document_pages")
        conn.execute("UPDATE chunks SET spans = NULL")

    returncode, _, stderr = _finish(_start(["reindex"], cli_database, tmp_path))
    assert returncode == 2
    assert "--all, or --user EMAIL" in stderr
    reindex = _start(["reindex", "--all"], cli_database, tmp_path)
    stdout, stderr = reindex.communicate(timeout=300)
    assert reindex.returncode == 0, stdout + stderr
    assert "1 ready, 0 failed (of 1 documents)" in stdout
    assert "Indexing" in stderr  # the progress bar
    with psycopg.connect(cli_database) as conn:
        pages = conn.execute("SELECT number, text FROM document_pages").fetchall()
        spans = conn.execute("SELECT spans FROM chunks").fetchall()
    assert pages == [(1, "The lamp is trimmed at dawn.\n\nThe horn sounds twice a minute in fog.")]
    assert spans and all(row[0] for row in spans)


def test_ingest_a_folder_keeps_its_paths_resumes_by_hash_and_sums_up_failures(
    cli_runs: dict[str, tuple[int, str, str]], cli_database: str, tmp_path: Path
) -> None:
    assert cli_runs["migrate"][0] == 0
    email = "folder@example.com"
    assert _finish(_start(_create_user(email, PASSWORD), cli_database, tmp_path))[0] == 0
    archive = tmp_path / "archive"
    (archive / "2024" / "q1").mkdir(parents=True)
    (archive / ".git").mkdir()
    (archive / "harbour.txt").write_text("The harbour lamp is trimmed at dawn.\n")
    (archive / "2024" / "tides.md").write_text("# Tides\n\nHigh tide comes twice a day.\n")
    (archive / "2024" / "q1" / "locked.pdf").write_bytes(
        (CORPUS / "bad-encrypted.pdf").read_bytes()
    )
    (archive / "2024" / "empty.txt").write_bytes(b"")
    (archive / "program.bin").write_bytes(bytes(range(256)) * 4)
    (archive / ".git" / "HEAD").write_text("ref: refs/heads/main\n")

    first = _start(["ingest", str(archive), "--user", email], cli_database, tmp_path)
    stdout, stderr = first.communicate(timeout=300)

    assert first.returncode == 1, stdout + stderr  # something was not indexed
    assert "2 ready, 1 failed, 2 rejected, 0 already there (of 5 files)" in stdout, stdout
    assert "Not indexed:" in stderr
    assert "password-protected" in stderr and "locked.pdf" in stderr
    assert f"{archive / '2024' / 'empty.txt'}" in stderr
    assert "is empty" in stderr
    assert "ETA" in stderr  # the progress bars
    with psycopg.connect(cli_database) as conn:
        folders = dict(
            conn.execute(
                "SELECT filename, folder FROM documents d JOIN users u ON u.id = d.user_id "
                "WHERE u.email = %s",
                (email,),
            ).fetchall()
        )
    assert folders == {"harbour.txt": None, "tides.md": "2024", "locked.pdf": "2024/q1"}

    # A second run (stopped midway or repeated) skips what is there by content.
    (archive / "2024" / "currents.txt").write_text("Currents turn with the tide.\n")
    second = _start(["ingest", str(archive), "--user", email, "--no-wait"], cli_database, tmp_path)
    stdout, stderr = second.communicate(timeout=300)
    assert "1 queued, 2 rejected, 3 already there (of 6 files)" in stdout, stdout + stderr


def test_serve_stops_its_embedded_postgres_on_sigterm(tmp_path: Path) -> None:
    """uvicorn re-raises SIGTERM after its graceful shutdown; `docchat serve` must still exit
    through its cleanup, or every stopped development server leaves PostgreSQL running."""
    tmp_path.chmod(0o755)  # the embedded server runs as another OS user when we are root
    env = {
        k: v
        for k, v in os.environ.items()
        if k in ("PATH", "HOME", "LANG", "HF_HUB_OFFLINE", *SCRATCH_VARIABLES)
    }
    env.update(
        ENVIRONMENT="development",
        DATA_DIR=str(tmp_path / "data"),
        FRONTEND_DIST=str(tmp_path / "no-frontend"),
        JWT_SECRET="serve-test-" + "x" * 40,
        PYTHONPATH=str(BACKEND),
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(DOCCHAT), "serve", "--port", str(port), "--no-worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    postmaster = tmp_path / "data" / "pg" / "postmaster.pid"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, "docchat serve exited early"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "docchat serve never became ready"
            time.sleep(0.3)
        assert postmaster.exists()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 128 + signal.SIGTERM
        assert not postmaster.exists(), "the embedded PostgreSQL was left running"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_eval_feedback_and_regression_commands(
    cli_runs: dict[str, tuple[int, str, str]], cli_database: str, tmp_path: Path
) -> None:
    assert cli_runs["create"][0] == 0
    out = tmp_path / "feedback"
    code, stdout, stderr = _finish(
        _start(["eval", "feedback", "--out", str(out)], cli_database, tmp_path)
    )
    assert code == 0, stdout + stderr
    assert stdout.strip().splitlines()[-1] == '{"reviewed": 0, "cases": 0}'
    assert (out / "review.md").read_text().startswith("# Answers rated down")
    assert (out / "cases.jsonl").read_text() == ""

    code, _, stderr = _finish(
        _start(["eval", "feedback", "--user", "nobody@example.com"], cli_database, tmp_path)
    )
    assert code == 1 and "No account with the email nobody@example.com." in stderr

    # A case whose document is gone is skipped, not failed: exit 0.
    cases = tmp_path / "cases.jsonl"
    case = {
        "id": "c1",
        "user_id": str(uuid.uuid4()),
        "user_email": "x@example.com",
        "question": "Where?",
        "search_query": "Where?",
        "scope": {},
        "expected": [
            {
                "document_id": str(uuid.uuid4()),
                "chunk_id": 1,
                "filename": "a.md",
                "page_start": 1,
                "page_end": 1,
                "char_start": 0,
                "char_end": 10,
            }
        ],
        "rated_at": "2026-11-30T12:00:00+00:00",
    }
    cases.write_text(json.dumps(case) + "\n")
    code, stdout, stderr = _finish(
        _start(["eval", "regression", str(cases)], cli_database, tmp_path)
    )
    assert code == 0, stdout + stderr
    assert stdout.strip().splitlines()[-1] == (
        '{"cases": 1, "passed": 0, "failed": 0, "skipped": 1, "recall": 1.0}'
    )
    code, _, stderr = _finish(
        _start(["eval", "regression", str(cases), "--param", "nonsense=1"], cli_database, tmp_path)
    )
    assert code == 2 and "unknown retrieval parameter 'nonsense'" in stderr


async def test_eval_regression_fails_when_a_liked_answers_passages_are_lost(
    worker_client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    """The whole loop as an operator runs it: a person likes an answer, `eval feedback`
    exports it as a case, `eval regression` passes it (exit 0), then fails it (exit 1, the
    case named) once retrieval no longer finds the cited passage; a deleted document makes
    the case skipped, not failed."""
    headers, document_id, chat_id, answer_id = await harbour_answer(worker_client)
    liked = await worker_client.put(
        f"/api/v1/chats/{chat_id}/messages/{answer_id}/feedback",
        headers=headers,
        json={"rating": 1},
    )
    assert liked.status_code == 200, liked.text

    async def docchat(*args: str) -> tuple[int, str, str]:
        # In a thread: the app's worker keeps running in this event loop meanwhile.
        return await asyncio.to_thread(_finish, _start(list(args), database_url, tmp_path))

    out = tmp_path / "feedback"
    code, stdout, stderr = await docchat("eval", "feedback", "--out", str(out))
    assert code == 0, stdout + stderr
    assert stdout.strip().splitlines()[-1] == '{"reviewed": 0, "cases": 1}'
    cases = out / "cases.jsonl"
    [case] = [json.loads(line) for line in cases.read_text().splitlines()]
    assert case["question"] == FERRY_QUESTION
    assert [e["document_id"] for e in case["expected"]] == [document_id]

    code, stdout, stderr = await docchat("eval", "regression", str(cases))
    assert code == 0, stdout + stderr
    assert "FAILED" not in stdout
    assert json.loads(stdout.strip().splitlines()[-1]) == {
        "cases": 1,
        "passed": 1,
        "failed": 0,
        "skipped": 0,
        "recall": 1.0,
    }

    # A retrieval change under which no passage is relevant enough loses the liked one.
    strict = ["--param", "min_similarity=1.01", "--param", "min_keyword_coverage=1.01"]
    code, stdout, stderr = await docchat("eval", "regression", str(cases), *strict)
    assert code == 1, stdout + stderr
    assert f"FAILED   {case['id']}  {FERRY_QUESTION!r}: 0/1 expected passages retrieved" in (
        stdout.splitlines()
    )
    assert json.loads(stdout.strip().splitlines()[-1]) == {
        "cases": 1,
        "passed": 0,
        "failed": 1,
        "skipped": 0,
        "recall": 0.0,
    }

    # Its document deleted: nothing to retrieve, and nothing wrong with retrieval.
    deleted = await worker_client.delete(f"/api/v1/documents/{document_id}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    code, stdout, stderr = await docchat("eval", "regression", str(cases))
    assert code == 0, stdout + stderr
    skipped = f"skipped  {case['id']}  {FERRY_QUESTION!r}: "
    assert any(line.startswith(skipped) for line in stdout.splitlines()), stdout
    assert json.loads(stdout.strip().splitlines()[-1])["skipped"] == 1

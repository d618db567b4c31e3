"""Faults of the AI providers, end to end.

* The embedding service down: the ingestion job is retried with exponential waits, the
  document ends `failed` with a reason, and a reindex succeeds once the service is back.
* The language model misbehaving (hang, slow first token, 429 then success, 500 forever, a
  stream cut mid-answer) and the browser going away mid-answer (the answer is still written), through a REAL uvicorn
  server and real sockets on both sides (client → API → fake OpenAI server).

(PostgreSQL going away under the API is test_db_outage.py's subject.)
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from psycopg import sql

from app.core.embedded_pg import ensure_database
from app.main import create_app
from tests.conftest import (
    TEMPLATE_DB,
    make_settings,
    pdf,
    register,
    upload,
    wait_until_settled,
)
from tests.fakes import FakeOpenAI, hang, http_error, ok, slow_first_token, stream_cut_after

API = "/api/v1"
QUESTION = "What does the text say about the crazy ones?"
LLM_TIMEOUT_S = 1.5

# --------------------------------------------------------------------------- shared helpers


class LiveServer:
    """The app under a real uvicorn on 127.0.0.1 (free port), in a thread with its own event
    loop, lifespan included, so requests cross a real socket."""

    def __init__(self, app: FastAPI, **config: Any) -> None:
        self.app = app
        self._config = config
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="on",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
            **self._config,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
        self._server = self._thread = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def module_database(pg_admin_url: str, prefix: str) -> Iterator[str]:
    """A database cloned from the migrated template, for one module."""
    name = f"t_{prefix}_{uuid.uuid4().hex[:12]}"
    yield ensure_database(pg_admin_url, name, template=TEMPLATE_DB)
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def sse_events(body: str) -> list[dict[str, Any] | str]:
    events: list[dict[str, Any] | str] = []
    for block in body.split("\n\n"):
        if block.startswith("data: "):
            payload = block[len("data: ") :]
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def kinds(events: list[dict[str, Any] | str]) -> list[str]:
    return [e if isinstance(e, str) else e["type"] for e in events]


def text_of(events: list[dict[str, Any] | str]) -> str:
    return "".join(e["delta"] for e in events if isinstance(e, dict) and e["type"] == "text-delta")


def error_of(events: list[dict[str, Any] | str]) -> str:
    return next(str(e["errorText"]) for e in events if isinstance(e, dict) and e["type"] == "error")


# --------------------------------------------------------------------------- embeddings down


async def _document_row(app: FastAPI, document_id: str) -> tuple[str, str | None, int, int]:
    from sqlalchemy import text

    async with app.state.sessionmaker() as session:
        row = (
            await session.execute(
                text(
                    "SELECT d.status, d.error, d.attempts, "
                    "coalesce((SELECT max(attempts) FROM procrastinate_jobs "
                    "WHERE lock = 'document:' || d.id::text), -1) "
                    "FROM documents d WHERE d.id = :id"
                ),
                {"id": document_id},
            )
        ).one()
    return row[0], row[1], row[2], row[3]


async def test_embedding_service_down_retries_with_backoff_then_fails_then_reindexes(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ai import embeddings
    from app.documents import tasks

    # The product's strategy is exponential (4, 16, 64, ... s over MAX_ATTEMPTS runs); the
    # test keeps its shape and its retried exceptions but waits 2, 4 s over 3 runs.
    strategy = tasks.ingest_document.retry_strategy
    assert isinstance(strategy, tasks.RetryStrategy)
    assert strategy.max_attempts == tasks.MAX_ATTEMPTS  # the constant drives both
    assert strategy.exponential_wait == 4
    assert strategy.retry_exceptions is not None
    assert embeddings.EmbeddingError in strategy.retry_exceptions
    fast_strategy = tasks.RetryStrategy(
        max_attempts=3, exponential_wait=2, retry_exceptions=strategy.retry_exceptions
    )
    monkeypatch.setattr(tasks.ingest_document, "retry_strategy", fast_strategy)
    assert tasks.MAX_ATTEMPTS == 5
    monkeypatch.setattr(tasks, "MAX_ATTEMPTS", 3)
    # The client's own retries inside one run (6 requests) without their sleeps.
    monkeypatch.setattr(embeddings, "backoff_delay", lambda attempt, **_: 0.01)

    with FakeOpenAI() as fake:
        fake.push(http_error(503, times=1000), endpoint="embeddings")
        settings = make_settings(
            database_url,
            tmp_path,
            embedding_provider="openai",
            embedding_model="fake-embedding",
            openai_base_url=fake.base_url,
            llm_provider="extractive",
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                headers = await register(client)
                doc = (
                    await upload(
                        client,
                        headers,
                        ("rivers.md", b"# Rivers\n\nThe Fraser river floods in June.\n", "text/md"),
                    )
                ).json()[0]
                seen: list[tuple[str, str | None, int, int]] = []
                deadline = time.monotonic() + 90
                while True:
                    row = await _document_row(app, doc["id"])
                    if not seen or seen[-1] != row:
                        seen.append(row)
                    if row[0] == "failed":
                        break
                    assert time.monotonic() < deadline, seen
                    await asyncio.sleep(0.05)

                _, error, attempts, _ = seen[-1]
                assert attempts == 3, seen
                assert error is not None and "embedding service" in error, error
                assert "503" in error
                # Between runs the document says why it waits.
                waiting = [r for r in seen if r[0] == "queued" and r[1]]
                assert waiting and all("embedding service" in (r[1] or "") for r in waiting)
                # procrastinate retried the same job (its attempts counter grew).
                assert max(r[3] for r in seen) >= 2, seen
                api_view = (
                    await client.get(f"{API}/documents/{doc['id']}", headers=headers)
                ).json()
                assert api_view["status"] == "failed"
                assert "embedding service" in api_view["error"]

                # Each run sent 6 requests (1 + 5 client retries); runs are separated by the
                # job's exponential waits (2 s then 4 s, plus up to 1 s of polling).
                times = [r.received_at for r in fake.requests_to("embeddings")]
                assert len(times) == 18, len(times)
                gaps = [times[i] - times[i - 1] for i in (6, 12)]
                assert 1.8 <= gaps[0] < gaps[1], gaps
                assert gaps[1] >= 3.8, gaps

                # The service recovers: a reindex now succeeds and the text is searchable.
                fake.reset()
                response = await client.post(
                    f"{API}/documents/{doc['id']}/reindex", headers=headers
                )
                assert response.status_code == 202
                ready = await wait_until_settled(client, headers, doc["id"])
                assert ready["status"] == "ready", ready
                assert ready["error"] is None
                hits = (
                    await client.post(
                        f"{API}/search", headers=headers, json={"query": "Fraser river floods"}
                    )
                ).json()["results"]
                assert hits and hits[0]["document_id"] == doc["id"]


# --------------------------------------------------------------------------- LLM faults


@pytest.fixture(scope="module")
def faults_database_url(pg_admin_url: str, template_url: str) -> Iterator[str]:
    yield from module_database(pg_admin_url, "faults")


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key="sk-test-key") as server:
        yield server


@pytest.fixture(scope="module")
def live(
    faults_database_url: str, fake_llm: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    settings = make_settings(
        faults_database_url,
        tmp_path_factory.mktemp("faults"),
        openai_base_url=fake_llm.base_url,
        openai_api_key="sk-test-key",
        llm_model="gpt-fake",
        llm_timeout_s=LLM_TIMEOUT_S,
    )
    with LiveServer(create_app(settings)) as server:
        yield server


@pytest.fixture(scope="module")
async def owner(live: LiveServer) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        headers = await register(client)
        doc = (await upload(client, headers, pdf("crazyones.pdf"))).json()[0]
        assert (await wait_until_settled(client, headers, doc["id"]))["status"] == "ready"
        return headers


@pytest.fixture
async def http(
    live: LiveServer, fake_llm: FakeOpenAI, owner: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    fake_llm.reset()
    async with httpx.AsyncClient(base_url=live.base_url, headers=owner, timeout=30) as client:
        yield client
    assert fake_llm.pending("chat") == 0, "a scripted LLM response was never requested"


async def _ask(
    client: httpx.AsyncClient, question: str = QUESTION
) -> tuple[str, list[dict[str, Any] | str], float]:
    chat_id = (await client.post(f"{API}/chats", json={})).json()["id"]
    started = time.monotonic()
    response = await client.post(f"{API}/chats/{chat_id}/messages", json={"content": question})
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return chat_id, sse_events(response.text), elapsed


async def _stored_answer(client: httpx.AsyncClient, chat_id: str) -> dict[str, Any]:
    detail = (await client.get(f"{API}/chats/{chat_id}")).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"], detail
    return dict(detail["messages"][1])


@pytest.mark.parametrize(
    "scenario",
    [hang(), slow_first_token(20, text="Too late [1].")],
    ids=["hang", "slow-first-token"],
)
async def test_llm_timeout_ends_the_stream_with_an_error(
    http: httpx.AsyncClient, fake_llm: FakeOpenAI, scenario: Any
) -> None:
    fake_llm.push(scenario)
    chat_id, events, elapsed = await _ask(http)
    assert kinds(events)[-2:] == ["error", "[DONE]"]
    assert "timed out after 1.5 s" in error_of(events)
    # Bounded by LLM_TIMEOUT_S (not the 30 s first-token budget) and not retried.
    assert elapsed < LLM_TIMEOUT_S + 5, elapsed
    (request,) = fake_llm.requests_to("chat")
    assert request.disconnected.wait(5), "the upstream request was left open"
    answer = await _stored_answer(http, chat_id)
    assert answer["partial"] is True
    assert answer["content"] == ""


async def test_llm_429_then_success(http: httpx.AsyncClient, fake_llm: FakeOpenAI) -> None:
    fake_llm.push(http_error(429, retry_after=0.2), ok("They see things differently [1]."))
    chat_id, events, _ = await _ask(http)
    assert kinds(events)[-3:] == ["data-citations", "finish", "[DONE]"]
    assert text_of(events) == "They see things differently [1]."
    assert [r.scenario for r in fake_llm.requests_to("chat")] == ["http_error", "ok"]
    answer = await _stored_answer(http, chat_id)
    assert answer["partial"] is False
    assert answer["content"] == "They see things differently [1]."
    assert [c["n"] for c in answer["citations"]] == [1]


async def test_llm_500_forever_gives_up_with_an_error(
    http: httpx.AsyncClient, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(http_error(500, times=4))
    chat_id, events, elapsed = await _ask(http)
    assert kinds(events)[-2:] == ["error", "[DONE]"]
    assert "unavailable (HTTP 500) after 4 attempts" in error_of(events)
    assert len(fake_llm.requests_to("chat")) == 4  # 1 + 3 retries with backoff
    assert elapsed < 15
    answer = await _stored_answer(http, chat_id)
    assert answer["partial"] is True


async def test_llm_stream_cut_mid_answer_keeps_the_partial_text(
    http: httpx.AsyncClient, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        stream_cut_after(4, text="The crazy ones are the misfits and rebels", chunk_size=5)
    )
    chat_id, events, _ = await _ask(http)
    assert kinds(events)[-2:] == ["error", "[DONE]"]
    assert "interrupted" in error_of(events)
    assert "data-citations" not in kinds(events)
    received = text_of(events)
    assert received == "The crazy ones are t"  # four 5-character chunks arrived
    answer = await _stored_answer(http, chat_id)
    assert answer["partial"] is True
    assert answer["content"] == received


async def test_client_disconnect_keeps_the_answer_written_and_a_reload_reads_it(
    http: httpx.AsyncClient, fake_llm: FakeOpenAI
) -> None:
    full = " ".join(f"word{i}" for i in range(60))  # ~420 characters: about 3 s at this pace
    fake_llm.push(ok(full, chunk_size=7, delay_s=0.05))
    chat_id = (await http.post(f"{API}/chats", json={})).json()["id"]
    received = ""
    deltas = 0
    async with http.stream(
        "POST", f"{API}/chats/{chat_id}/messages", json={"content": QUESTION}
    ) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: {"):
                event = json.loads(line[len("data: ") :])
                if event["type"] == "text-delta":
                    received += event["delta"]
                    deltas += 1
                    if deltas == 3:
                        break  # the browser tab reloads: leaving the block drops the connection
    # The reloaded page finds the answer still being written, growing, then complete.
    (upstream,) = fake_llm.requests_to("chat")
    seen = []
    deadline = time.monotonic() + 20
    while True:
        detail = (await http.get(f"{API}/chats/{chat_id}")).json()
        answer = detail["messages"][1]
        seen.append((answer["status"], answer["content"]))
        if answer["status"] != "streaming":
            break
        assert time.monotonic() < deadline, "the answer was never finished"
        await asyncio.sleep(0.2)
    assert ("streaming", seen[0][1]) == seen[0], seen[0]
    assert any(status == "streaming" and content for status, content in seen)
    assert answer["status"] == "done" and answer["partial"] is False
    assert answer["content"] == full
    assert answer["content"].startswith(received)
    assert upstream.finished.wait(5) and not upstream.disconnected.is_set()

"""What the model sends cannot lose an answer or leak to the user: NULs, a database pool that
is busy, an answer far longer than asked for, upstream error texts that quote keys."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from app.chat.models import ChatMessage
from app.core.logging import JsonFormatter
from app.core.settings import Settings
from app.main import create_app
from tests.chat.test_chat import answer_text, ask, by_type, event_types, new_chat
from tests.conftest import register, upload, wait_until_settled
from tests.fakes import FakeOpenAI, http_error, ok, slow_first_token

QUESTION = "What does the text say about lighthouses?"
DOCUMENT = (
    "lighthouses.txt",
    b"Lighthouses guide ships at night. The keeper lit the lamp of the lighthouse at dusk.",
    "text/plain",
)


@pytest.fixture
async def llm_app(settings: Settings, fake_llm: FakeOpenAI) -> AsyncIterator[FastAPI]:
    configured = settings.model_copy(
        update={
            "run_worker": True,
            "openai_base_url": fake_llm.base_url,
            "openai_api_key": "sk-test-key",
            "llm_model": "gpt-fake",
            # One connection, given up on after 0.2 s: "the pool is exhausted" on demand.
            "db_pool_size": 1,
            "db_max_overflow": 0,
            "db_pool_timeout_s": 0.2,
            "llm_max_tokens": 50,
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


async def _chat_with_a_source(client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    headers = await register(client)
    doc = (await upload(client, headers, DOCUMENT)).json()[0]
    assert (await wait_until_settled(client, headers, doc["id"]))["status"] == "ready"
    return headers, await new_chat(client, headers)


async def _model_asked(fake: FakeOpenAI) -> None:
    """Return once the app has sent the model its prompt (the question is stored by then)."""
    for _ in range(1000):
        if fake.requests_to("chat"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the model was never asked")


async def _stored_answer(app: FastAPI, message_id: str) -> ChatMessage | None:
    async with app.state.sessionmaker() as session:
        return await session.get(ChatMessage, uuid.UUID(message_id))


async def test_nul_in_the_answer_is_stripped_and_the_answer_stored(
    llm_app: FastAPI, llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI
) -> None:
    headers, chat_id = await _chat_with_a_source(llm_client)
    fake_llm.push(ok("Keepers lit\u0000 the lamp\u0000 [1].", chunk_size=3))
    _, events = await ask(llm_client, headers, chat_id, QUESTION)
    assert event_types(events)[-2:] == ["finish", "[DONE]"], events
    assert answer_text(events) == "Keepers lit the lamp [1]."
    stored = await _stored_answer(llm_app, by_type(events, "start")["messageId"])
    assert stored is not None
    assert stored.content == "Keepers lit the lamp [1]."
    assert stored.partial is False


async def test_answer_waits_for_a_busy_pool_instead_of_being_dropped(
    llm_app: FastAPI,
    llm_client: httpx.AsyncClient,
    fake_llm: FakeOpenAI,
    captured_logs: io.StringIO,
) -> None:
    headers, chat_id = await _chat_with_a_source(llm_client)
    fake_llm.push(slow_first_token(1.0, "The keeper lit the lamp [1]."))

    async def hold_the_only_connection() -> None:
        await _model_asked(fake_llm)  # the question is stored, the pool is free
        async with llm_app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await asyncio.sleep(2.0)  # the answer is done after 1 s; storing it must wait

    holder = asyncio.create_task(hold_the_only_connection())
    _, events = await ask(llm_client, headers, chat_id, QUESTION)
    await holder
    assert event_types(events)[-2:] == ["finish", "[DONE]"], events
    stored = await _stored_answer(llm_app, by_type(events, "start")["messageId"])
    assert stored is not None
    assert stored.content == "The keeper lit the lamp [1]."
    assert '"event":"answer_store_retry"' in captured_logs.getvalue()  # it did have to wait


async def test_storage_failure_ends_the_stream_with_an_error(
    llm_app: FastAPI, llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI
) -> None:
    headers, chat_id = await _chat_with_a_source(llm_client)
    fake_llm.push(slow_first_token(0.5, "An answer for a chat that is gone [1]."))

    async def delete_the_chat_meanwhile() -> None:
        await _model_asked(fake_llm)
        response = await llm_client.delete(f"/api/v1/chats/{chat_id}", headers=headers)
        assert response.status_code == 204

    deleter = asyncio.create_task(delete_the_chat_meanwhile())
    _, events = await ask(llm_client, headers, chat_id, QUESTION)
    await deleter
    assert event_types(events)[-2:] == ["error", "[DONE]"], events
    assert (
        by_type(events, "error")["errorText"]
        == "The answer could not be saved. Ask again in a moment."
    )


async def test_answer_is_bounded_by_max_tokens(
    llm_app: FastAPI, llm_client: httpx.AsyncClient, fake_llm: FakeOpenAI
) -> None:
    headers, chat_id = await _chat_with_a_source(llm_client)
    fake_llm.push(ok("lamp " * 40_000, chunk_size=500))  # 200 kB: the server ignores max_tokens
    _, events = await ask(llm_client, headers, chat_id, QUESTION)
    assert fake_llm.requests_to("chat")[-1].body["max_tokens"] == 50  # LLM_MAX_TOKENS
    assert event_types(events)[-2:] == ["finish", "[DONE]"]
    cap = 50 * 8
    assert len(answer_text(events)) == cap
    stored = await _stored_answer(llm_app, by_type(events, "start")["messageId"])
    assert stored is not None
    assert len(stored.content) == cap


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


async def test_upstream_error_text_reaches_the_log_not_the_user(
    llm_app: FastAPI,
    llm_client: httpx.AsyncClient,
    fake_llm: FakeOpenAI,
    captured_logs: io.StringIO,
) -> None:
    headers, chat_id = await _chat_with_a_source(llm_client)
    leak = "Incorrect API key provided: sk-proj-AbCd1234567890WxYz"
    fake_llm.push(http_error(401, message=leak))
    _, events = await ask(llm_client, headers, chat_id, QUESTION)
    error_text = by_type(events, "error")["errorText"]
    assert error_text == (
        "The answer was interrupted: The language model service rejected the API key (HTTP 401)."
    )
    detail = (await llm_client.get(f"/api/v1/chats/{chat_id}", headers=headers)).text
    assert "sk-proj" not in detail
    assert "Incorrect API key provided" in captured_logs.getvalue()  # the operator sees it
    async with llm_app.state.sessionmaker() as session:
        errors = (await session.execute(select(ChatMessage.error))).scalars().all()
    assert not any(e and "sk-proj" in e for e in errors)

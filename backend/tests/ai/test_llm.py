"""OpenAIChatLLM against the fake OpenAI server over real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from app.ai.llm import LLM, ChatMessage, LLMError, OpenAIChatLLM
from tests.fakes import (
    FakeOpenAI,
    hang,
    http_error,
    ok,
    slow_first_token,
    standalone_scenarios,
    stream_cut_after,
)

KEY = "sk-test-123"
MESSAGES = [
    ChatMessage("system", "Answer from the sources."),
    ChatMessage("user", "What is the capital of France?"),
]
ANSWER = "Paris is the capital of France [1]."


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as s:
        yield s


@pytest.fixture(autouse=True)
def _fresh(server: FakeOpenAI) -> None:
    server.reset()


@pytest.fixture
async def llm(server: FakeOpenAI) -> AsyncIterator[OpenAIChatLLM]:
    client = OpenAIChatLLM(
        base_url=server.base_url,
        api_key=KEY,
        model="gpt-fake",
        timeout_s=5,
        max_retries=3,
        first_token_timeout_s=1,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
    )
    yield client
    await client.aclose()


async def _collect(llm: OpenAIChatLLM, deltas: list[str] | None = None) -> list[str]:
    out = [] if deltas is None else deltas
    async for delta in llm.stream(MESSAGES, max_tokens=100):
        out.append(delta)
    return out


def test_implements_protocol(llm: OpenAIChatLLM) -> None:
    assert isinstance(llm, LLM)
    assert llm.name == "gpt-fake"


async def test_stream_ok_sends_model_messages_and_key(
    server: FakeOpenAI, llm: OpenAIChatLLM
) -> None:
    server.push(ok(ANSWER, chunk_size=5))
    deltas = await _collect(llm)
    assert "".join(deltas) == ANSWER
    assert deltas[0] == "Paris"
    assert len(deltas) == 7
    assert all(deltas)  # empty role/finish chunks are skipped
    (req,) = server.requests
    assert req.authorization == f"Bearer {KEY}"
    assert req.body["model"] == "gpt-fake"
    assert req.body["stream"] is True
    assert req.body["max_tokens"] == 100
    assert req.body["temperature"] == pytest.approx(0.1)
    assert req.body["messages"] == [
        {"role": "system", "content": "Answer from the sources."},
        {"role": "user", "content": "What is the capital of France?"},
    ]


async def test_complete_non_streaming(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(http_error(503), ok("Rewritten question?"))
    text = await llm.complete(MESSAGES)
    assert text == "Rewritten question?"
    assert [r.scenario for r in server.requests] == ["http_error", "ok"]
    assert "stream" not in server.requests[-1].body
    assert server.requests[-1].body["temperature"] == 0.0


async def test_429_then_ok_respects_retry_after(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(http_error(429, retry_after=1), ok(ANSWER))
    started = time.monotonic()
    deltas = await _collect(llm)
    assert "".join(deltas) == ANSWER
    reqs = server.requests
    assert len(reqs) == 2
    assert reqs[1].received_at - reqs[0].received_at >= 0.95
    assert time.monotonic() - started < 3


async def test_500_twice_then_ok(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(http_error(500, times=2), ok(ANSWER))
    assert "".join(await _collect(llm)) == ANSWER
    assert [r.scenario for r in server.requests] == ["http_error", "http_error", "ok"]


async def test_500_forever_gives_clear_error(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(http_error(500, times=10))
    with pytest.raises(LLMError) as info:
        await _collect(llm)
    assert info.value.message == (
        "The language model service is unavailable (HTTP 500) after 4 attempts."
    )
    assert info.value.status_code == 500
    assert not info.value.partial
    assert len(server.requests) == 4  # max_retries=3


async def test_huge_retry_after_fails_fast(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(http_error(429, retry_after=3600))
    with pytest.raises(LLMError, match=r"rate-limiting requests \(HTTP 429\).*3600 s"):
        await _collect(llm)
    assert len(server.requests) == 1


async def test_client_errors_are_not_retried(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(http_error(400, message="This model's maximum context length is 8192 tokens."))
    with pytest.raises(LLMError) as info:
        await _collect(llm)
    assert info.value.message == "The language model refused the request (HTTP 400)."
    # What the provider said is for the log, never the user (it can quote key fragments).
    assert info.value.detail == (
        f"{server.base_url}: This model's maximum context length is 8192 tokens."
    )
    assert len(server.requests) == 1


async def test_wrong_key(server: FakeOpenAI) -> None:
    bad = OpenAIChatLLM(base_url=server.base_url, api_key="wrong", model="m")
    try:
        with pytest.raises(LLMError, match=r"rejected the API key \(HTTP 401\)"):
            await bad.complete(MESSAGES)
    finally:
        await bad.aclose()


async def test_stream_cut_mid_answer_keeps_partial(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(stream_cut_after(3, ANSWER, chunk_size=5))
    deltas: list[str] = []
    with pytest.raises(LLMError) as info:
        await _collect(llm, deltas)
    assert deltas == ["Paris", " is t", "he ca"]
    assert info.value.partial
    assert "stopped mid-answer" in info.value.message
    assert len(server.requests) == 1  # never retried after the first token


async def test_read_timeout_mid_answer_is_partial(server: FakeOpenAI) -> None:
    server.push(ok(ANSWER, chunk_size=5, delay_s=2))
    client = OpenAIChatLLM(base_url=server.base_url, api_key=KEY, model="m", timeout_s=0.3)
    deltas: list[str] = []
    try:
        with pytest.raises(LLMError) as info:
            await _collect(client, deltas)
    finally:
        await client.aclose()
    assert deltas == ["Paris"]
    assert info.value.partial
    assert info.value.message == "The language model is not responding (timed out after 0.3 s)."
    assert server.requests[0].disconnected.wait(2)


async def test_cut_before_first_token_is_retried(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(stream_cut_after(0, ANSWER), ok(ANSWER))
    assert "".join(await _collect(llm)) == ANSWER
    assert len(server.requests) == 2


async def test_slow_first_token_times_out(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(slow_first_token(30, ANSWER))
    started = time.monotonic()
    with pytest.raises(LLMError) as info:
        await _collect(llm)
    assert info.value.message == "The language model is not responding (timed out after 1 s)."
    assert 0.95 <= time.monotonic() - started < 3
    assert len(server.requests) == 1
    assert server.requests[0].disconnected.wait(2)  # the upstream stream was closed


async def test_slow_but_in_time_first_token(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(slow_first_token(0.3, ANSWER))
    assert "".join(await _collect(llm)) == ANSWER


async def test_hang_times_out(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(hang())
    with pytest.raises(LLMError, match="not responding"):
        await _collect(llm)
    assert server.requests[0].disconnected.wait(2)


async def test_connection_refused(server: FakeOpenAI) -> None:
    with FakeOpenAI() as gone:
        url = gone.base_url
    client = OpenAIChatLLM(base_url=url, api_key="k", model="m", max_retries=1, backoff_base_s=0.01)
    try:
        with pytest.raises(LLMError) as info:
            await _collect(client)
    finally:
        await client.aclose()
    assert info.value.message == (
        "The language model service could not be reached after 2 attempts."
    )
    assert info.value.detail is not None
    assert info.value.detail.startswith(url)


async def test_aclose_closes_upstream(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(ok("word " * 200, chunk_size=5, delay_s=0.02))
    agen = llm.stream(MESSAGES)
    got = [await anext(agen), await anext(agen)]
    assert got == ["word ", "word "]
    await agen.aclose()
    req = server.requests[0]
    assert req.disconnected.wait(2), "the fake server did not see the connection close"
    assert req.finished.wait(2)


async def test_task_cancellation_closes_upstream(server: FakeOpenAI, llm: OpenAIChatLLM) -> None:
    server.push(ok("word " * 200, chunk_size=5, delay_s=0.05))
    received: list[str] = []
    two_received = asyncio.Event()

    async def consume() -> None:
        async for delta in llm.stream(MESSAGES):
            received.append(delta)
            if len(received) == 2:
                two_received.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(two_received.wait(), 5)
    task.cancel()  # what Starlette does when the browser goes away
    with pytest.raises(asyncio.CancelledError):
        await task
    assert server.requests[0].disconnected.wait(2)


async def test_connection_is_reused_after_complete_stream(
    server: FakeOpenAI, llm: OpenAIChatLLM
) -> None:
    for _ in range(3):
        assert "".join(await _collect(llm)) != ""
    assert not any(r.disconnected.is_set() for r in server.requests)


async def test_the_browser_tests_slow_and_flaky_models() -> None:
    """The fake's command-line models (scripts/e2e-server.sh): a slow one streams a chunk
    per delay; a flaky one breaks off its first answer to a question and answers a retry."""
    scenarios = standalone_scenarios(
        chunk_size=10, slow_models={"gpt-slow": 0.2}, flaky_models=["gpt-flaky"]
    )
    with FakeOpenAI(reply=ANSWER, default_scenario=scenarios) as fake:

        def client(model: str) -> OpenAIChatLLM:
            return OpenAIChatLLM(base_url=fake.base_url, api_key=KEY, model=model, max_retries=0)

        slow = client("gpt-slow")
        started = time.monotonic()
        assert "".join(await _collect(slow)) == ANSWER
        assert time.monotonic() - started >= 0.2 * (len(ANSWER) // 10)
        await slow.aclose()

        flaky = client("gpt-flaky")
        with pytest.raises(LLMError, match="mid-answer") as broken:
            await _collect(flaky)
        assert broken.value.partial
        assert "".join(await _collect(flaky)) == ANSWER  # the same question, asked again
        other = [ChatMessage("user", "Another question?")]
        with pytest.raises(LLMError, match="mid-answer"):
            async for _ in flaky.stream(other):
                pass
        assert await flaky.complete(other) == ANSWER  # only streamed answers break off
        await flaky.aclose()

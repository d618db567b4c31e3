"""A real, local, scriptable OpenAI-compatible HTTP server for tests and benchmarks.

It runs uvicorn (h11) in a background thread on 127.0.0.1 with a free port and speaks the
OpenAI wire format, so the real ``openai`` SDK (and anything else) talks to it over HTTP.

Endpoints
    POST /v1/chat/completions  ``stream: true`` -> ``text/event-stream`` of
                               ``chat.completion.chunk`` events, a final chunk with
                               ``finish_reason: "stop"``, then ``data: [DONE]``;
                               otherwise one ``chat.completion`` object.
    POST /v1/embeddings        deterministic hashed bag-of-words vectors (texts sharing words
                               are similar; see ``fake_embedding``), ``float`` or ``base64``,
                               honours ``dimensions``; ``data`` is listed in REVERSE index
                               order so clients must sort by ``index``; empty strings -> 400.
    GET  /v1/models            the one fake model.

Usage::

    from tests.fakes import FakeOpenAI, ok, http_error, stream_cut_after, slow_first_token, hang

    with FakeOpenAI(api_key="sk-test") as server:      # api_key=None: accept any key
        server.push(http_error(429, retry_after=1), ok("Paris is the capital [1].", chunk_size=5))
        llm = OpenAIChatLLM(base_url=server.base_url, api_key="sk-test", model="gpt-fake")
        ...
        req = server.requests[-1]
        req.body["model"], req.body["messages"], req.headers["authorization"]
        req.disconnected.wait(2)        # threading.Event: client closed the stream early

Other helpers: ``server.requests_to("chat" | "embeddings")``, ``server.pending(endpoint)``,
``server.reset()`` (clear queues and records; call it between tests when the server is
module/session-scoped), ``RecordedRequest.finished`` (threading.Event), ``.scenario`` (the
kind that was applied), ``.received_at`` (monotonic time).

Scenarios are queued per endpoint (``push(..., endpoint="chat" | "embeddings")``) and each
request takes the next one; with an empty queue the request gets ``ok()``, or what
``FakeOpenAI(default_scenario=fn)`` gives it (``fn(endpoint, request_body) -> Scenario``):

    ok(text=None, chunk_size=4, delay_s=0.0)   normal answer; text=None -> the server's
                                               ``reply`` (a str or ``fn(request_body) -> str``);
                                               stream chunks of ``chunk_size`` characters,
                                               ``delay_s`` between chunks
    http_error(status, retry_after=None, times=1, message=None)
                                               OpenAI-style JSON error (+ ``Retry-After``)
    stream_cut_after(n_chunks, text=None, chunk_size=4)
                                               send n content chunks, then drop the
                                               connection (no final chunk, no [DONE])
    slow_first_token(seconds, text=None, chunk_size=4)
                                               headers and an empty role chunk at once,
                                               first content only after ``seconds``
    hang()                                     accept the request and never answer

Run standalone (e.g. for a benchmark, or beside the browser tests' server)::

    python tests/fakes/openai_server.py --port 8011 --delay 0.01 --reply "Hello world"
    # per model (the request's "model"), for the browser tests' LLM_MODELS entries:
    python tests/fakes/openai_server.py --slow-model gpt-slow=0.5 --flaky-model gpt-flaky

``--slow-model NAME=SECONDS`` streams that model's answers ``--chunk-size`` characters every
SECONDS. ``--flaky-model NAME`` cuts that model's streamed answer to a question off after two
chunks the first time the question is asked, and answers it when it is asked again (a retry).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import math
import re
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn

__all__ = [
    "DEFAULT_REPLY",
    "FakeOpenAI",
    "RecordedRequest",
    "Scenario",
    "fake_embedding",
    "hang",
    "http_error",
    "ok",
    "running",
    "slow_first_token",
    "standalone_scenarios",
    "stream_cut_after",
]

DEFAULT_REPLY = "This is a fake answer from the test server [1]."

Endpoint = Literal["chat", "embeddings"]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    kind: Literal["ok", "http_error", "stream_cut", "slow_first_token", "hang"]
    text: str | None = None
    chunk_size: int = 4
    delay_s: float = 0.0
    status: int = 200
    retry_after: float | None = None
    message: str | None = None
    n_chunks: int = 0
    times: int = 1


def ok(text: str | None = None, chunk_size: int = 4, delay_s: float = 0.0) -> Scenario:
    return Scenario("ok", text=text, chunk_size=chunk_size, delay_s=delay_s)


def http_error(
    status: int, retry_after: float | None = None, times: int = 1, message: str | None = None
) -> Scenario:
    return Scenario(
        "http_error", status=status, retry_after=retry_after, times=times, message=message
    )


def stream_cut_after(n_chunks: int, text: str | None = None, chunk_size: int = 4) -> Scenario:
    return Scenario("stream_cut", n_chunks=n_chunks, text=text, chunk_size=chunk_size)


def slow_first_token(seconds: float, text: str | None = None, chunk_size: int = 4) -> Scenario:
    return Scenario("slow_first_token", delay_s=seconds, text=text, chunk_size=chunk_size)


def hang() -> Scenario:
    return Scenario("hang")


# --------------------------------------------------------------------------- recording


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, or the raw text if it was not JSON
    scenario: str = ""
    received_at: float = field(default_factory=time.monotonic)
    # Set when the client closed the connection before the response was complete.
    disconnected: threading.Event = field(default_factory=threading.Event)
    # Set when the server is done with the request (normally or not).
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


# --------------------------------------------------------------------------- embeddings

_WORD = re.compile(r"\w+")


def fake_embedding(text: str, dim: int = 64) -> list[float]:
    """Deterministic unit vector: signed hashed bag of words (lower-cased)."""
    vec = [0.0] * dim
    for word in _WORD.findall(text.lower()):
        h = hashlib.blake2b(word.encode(), digest_size=8).digest()
        idx = int.from_bytes(h[:4], "little") % dim
        vec[idx] += 1.0 if h[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0:
        vec[0], norm = 1.0, 1.0
    return [v / norm for v in vec]


# --------------------------------------------------------------------------- the app


class _CutConnection(Exception):
    """Raised inside the app to make uvicorn drop the connection mid-response."""


class _QuietCut(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, _CutConnection)


def _chunks(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class FakeOpenAI:
    """The server. Use as a context manager (or ``start()`` / ``stop()``)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        reply: str | Callable[[dict[str, Any]], str] = DEFAULT_REPLY,
        embedding_dim: int = 64,
        host: str = "127.0.0.1",
        port: int = 0,
        default_scenario: Callable[[Endpoint, Any], Scenario] | None = None,
    ) -> None:
        self.api_key = api_key
        self.reply = reply
        self.default_scenario = default_scenario
        self.embedding_dim = embedding_dim
        self.host = host
        self._port = port
        self._lock = threading.Lock()
        self._queues: dict[Endpoint, deque[Scenario]] = {"chat": deque(), "embeddings": deque()}
        self._requests: list[RecordedRequest] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Event | None = None
        self._counter = 0

    # ------------------------------------------------------------ public API

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` to an OpenAI client: ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self._port}/v1"

    def push(self, *scenarios: Scenario, endpoint: Endpoint = "chat") -> None:
        """Queue scenarios for the next requests to ``endpoint`` (``times`` expands)."""
        with self._lock:
            for s in scenarios:
                self._queues[endpoint].extend([s] * max(1, s.times))

    def pending(self, endpoint: Endpoint = "chat") -> int:
        with self._lock:
            return len(self._queues[endpoint])

    @property
    def requests(self) -> list[RecordedRequest]:
        """All requests received so far (a copy), oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, endpoint: Endpoint) -> list[RecordedRequest]:
        suffix = "/chat/completions" if endpoint == "chat" else "/embeddings"
        return [r for r in self.requests if r.path.endswith(suffix)]

    def reset(self) -> None:
        """Forget queued scenarios and recorded requests."""
        with self._lock:
            for q in self._queues.values():
                q.clear()
            self._requests.clear()

    def start(self) -> FakeOpenAI:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            http="h11",
            interface="asgi3",
            loop="asyncio",
            lifespan="on",
            log_level="warning",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=2,
            timeout_keep_alive=5,
        )
        self._server = uvicorn.Server(config)
        logging.getLogger("uvicorn.error").addFilter(_QuietCut())
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"fake-openai-{self._port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        loop, closing = self._loop, self._closing
        if loop is not None and closing is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(closing.set)  # wake hanging handlers
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ ASGI

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self._loop = asyncio.get_running_loop()
                    self._closing = asyncio.Event()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return

        raw = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        req = RecordedRequest(scope["method"], scope["path"], headers, body)
        with self._lock:
            self._requests.append(req)

        complete = False
        watcher = asyncio.create_task(self._watch_disconnect(receive, req, lambda: complete))
        try:
            await self._route(req, send)
            complete = True
        finally:
            req.finished.set()
            watcher.cancel()

    async def _watch_disconnect(
        self, receive: Receive, req: RecordedRequest, complete: Callable[[], bool]
    ) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if not complete():
                    req.disconnected.set()
                return

    async def _wait(self, seconds: float | None, req: RecordedRequest) -> bool:
        """Sleep (None = forever) unless the client goes away or the server stops.
        Returns True if the request should be abandoned."""
        assert self._closing is not None
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            if req.disconnected.is_set() or self._closing.is_set():
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            step = 0.01 if deadline is None else min(0.01, max(0.0, deadline - time.monotonic()))
            await asyncio.sleep(step)

    def _next_scenario(self, endpoint: Endpoint, body: Any) -> Scenario:
        with self._lock:
            queue = self._queues[endpoint]
            if queue:
                return queue.popleft()
        return ok() if self.default_scenario is None else self.default_scenario(endpoint, body)

    async def _json(
        self, send: Send, status: int, payload: Any, headers: Sequence[tuple[bytes, bytes]] = ()
    ) -> None:
        data = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": data, "more_body": False})

    async def _error(
        self,
        send: Send,
        status: int,
        message: str,
        *,
        err_type: str = "invalid_request_error",
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:
        payload = {"error": {"message": message, "type": err_type, "param": None, "code": None}}
        await self._json(send, status, payload, headers)

    async def _route(self, req: RecordedRequest, send: Send) -> None:
        path = req.path.rstrip("/")
        if req.method == "GET" and path in ("/v1/models", "/models"):
            await self._json(
                send,
                200,
                {
                    "object": "list",
                    "data": [{"id": "fake-model", "object": "model", "owned_by": "test"}],
                },
            )
            return
        endpoint: Endpoint
        if req.method == "POST" and path in ("/v1/chat/completions", "/chat/completions"):
            endpoint = "chat"
        elif req.method == "POST" and path in ("/v1/embeddings", "/embeddings"):
            endpoint = "embeddings"
        else:
            await self._error(send, 404, f"Unknown endpoint {req.method} {req.path}")
            return
        if self.api_key is not None and req.authorization != f"Bearer {self.api_key}":
            req.scenario = "unauthorized"
            await self._error(
                send, 401, "Incorrect API key provided.", err_type="authentication_error"
            )
            return
        if not isinstance(req.body, dict):
            await self._error(send, 400, "The body must be a JSON object.")
            return

        scenario = self._next_scenario(endpoint, req.body)
        req.scenario = scenario.kind
        if scenario.kind == "http_error":
            extra: list[tuple[bytes, bytes]] = []
            if scenario.retry_after is not None:
                extra.append((b"retry-after", f"{scenario.retry_after:g}".encode()))
            message = scenario.message or f"Fake error with HTTP status {scenario.status}."
            err_type = "rate_limit_error" if scenario.status == 429 else "server_error"
            await self._error(send, scenario.status, message, err_type=err_type, headers=extra)
            return
        if scenario.kind == "hang":
            await self._wait(None, req)
            return
        if endpoint == "embeddings":
            await self._embeddings(req, scenario, send)
        elif req.body.get("stream"):
            await self._chat_stream(req, scenario, send)
        else:
            await self._chat(req, scenario, send)

    def _reply_text(self, scenario: Scenario, body: dict[str, Any]) -> str:
        if scenario.text is not None:
            return scenario.text
        return self.reply(body) if callable(self.reply) else self.reply

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}-fake-{self._counter}"

    async def _chat(self, req: RecordedRequest, scenario: Scenario, send: Send) -> None:
        body = req.body
        text = self._reply_text(scenario, body)
        if scenario.kind == "slow_first_token" and await self._wait(scenario.delay_s, req):
            return
        model = str(body.get("model", "fake-model"))
        payload = {
            "id": self._next_id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": 10,
                "completion_tokens": len(text.split()),
                "total_tokens": 10 + len(text.split()),
            },
        }
        if scenario.kind == "stream_cut":
            data = json.dumps(payload).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(data)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": data[:10], "more_body": True})
            raise _CutConnection
        await self._json(send, 200, payload)

    async def _chat_stream(self, req: RecordedRequest, scenario: Scenario, send: Send) -> None:
        body = req.body
        text = self._reply_text(scenario, body)
        model = str(body.get("model", "fake-model"))
        cid = self._next_id("chatcmpl")
        created = int(time.time())

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            chunk = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
                ],
            }
            return b"data: " + json.dumps(chunk).encode() + b"\n\n"

        async def emit(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-cache"),
                ],
            }
        )
        pieces = _chunks(text, scenario.chunk_size)
        if scenario.kind == "slow_first_token":
            await emit(event({"role": "assistant", "content": ""}))
            if await self._wait(scenario.delay_s, req):
                return
        for i, piece in enumerate(pieces):
            if scenario.kind == "stream_cut" and i >= scenario.n_chunks:
                raise _CutConnection
            delta: dict[str, Any] = {"content": piece}
            if i == 0:
                delta["role"] = "assistant"
            await emit(event(delta))
            if (
                scenario.delay_s
                and scenario.kind == "ok"
                and await self._wait(scenario.delay_s, req)
            ):
                return
            if req.disconnected.is_set():
                return
            await asyncio.sleep(0)  # let the disconnect watcher run
        if scenario.kind == "stream_cut":
            raise _CutConnection
        await emit(event({}, "stop"))
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})

    async def _embeddings(self, req: RecordedRequest, scenario: Scenario, send: Send) -> None:
        body = req.body
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs:
            await self._error(send, 400, "'input' must be a string or a non-empty array.")
            return
        if any(not isinstance(t, str) or t == "" for t in inputs):
            await self._error(send, 400, "'$.input' is invalid: empty strings are not allowed.")
            return
        if scenario.kind == "slow_first_token" and await self._wait(scenario.delay_s, req):
            return
        dim = int(body.get("dimensions") or self.embedding_dim)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for i, t in enumerate(inputs):
            vec = fake_embedding(t, dim)
            emb: Any = (
                base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode() if as_base64 else vec
            )
            data.append({"object": "embedding", "index": i, "embedding": emb})
        data.reverse()  # real servers don't promise order: clients must sort by index
        tokens = sum(len(t.split()) for t in inputs)
        payload = {
            "object": "list",
            "data": data,
            "model": str(body.get("model", "fake-embedding")),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        if scenario.kind == "stream_cut":
            raw = json.dumps(payload).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(raw)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": raw[:10], "more_body": True})
            raise _CutConnection
        await self._json(send, 200, payload)


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[FakeOpenAI]:
    """``with running() as server:`` — same as ``with FakeOpenAI(**kwargs) as server``."""
    with FakeOpenAI(**kwargs) as server:
        yield server


def _model_seconds(value: str) -> tuple[str, float]:
    name, _, seconds = value.rpartition("=")
    if not name:
        raise argparse.ArgumentTypeError(f"expected NAME=SECONDS, got {value!r}")
    return name, float(seconds)


def standalone_scenarios(
    *,
    chunk_size: int = 4,
    delay_s: float = 0.0,
    slow_models: dict[str, float] | None = None,
    flaky_models: Sequence[str] = (),
) -> Callable[[Endpoint, Any], Scenario]:
    """The ``default_scenario`` of the command line: every answer streamed ``chunk_size``
    characters every ``delay_s`` seconds, or every ``slow_models[model]`` seconds for those
    models; a ``flaky_models`` model's streamed answer to a question is cut off the first
    time the question (the last message) is asked, and answered when it is asked again."""
    slow = dict(slow_models or {})
    flaky = frozenset(flaky_models)
    asked: set[str] = set()
    lock = threading.Lock()

    def scenario(endpoint: Endpoint, body: Any) -> Scenario:
        model = str(body.get("model", ""))
        if endpoint == "chat" and body.get("stream") and model in flaky:
            question = json.dumps(body.get("messages", [])[-1:], sort_keys=True)
            with lock:
                first_time = question not in asked
                asked.add(question)
            if first_time:
                return stream_cut_after(2, chunk_size=chunk_size)
        return ok(chunk_size=chunk_size, delay_s=slow.get(model, delay_s))

    return scenario


def main() -> None:  # pragma: no cover - manual / benchmark use
    parser = argparse.ArgumentParser(description="Run the fake OpenAI server in the foreground.")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--reply", default=DEFAULT_REPLY)
    parser.add_argument("--chunk-size", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between chunks")
    parser.add_argument(
        "--slow-model",
        type=_model_seconds,
        action="append",
        default=[],
        metavar="NAME=SECONDS",
        help="seconds between the chunks of this model's streamed answers (repeatable)",
    )
    parser.add_argument(
        "--flaky-model",
        action="append",
        default=[],
        metavar="NAME",
        help="cut this model's first streamed answer to each question off (repeatable)",
    )
    args = parser.parse_args()
    server = FakeOpenAI(
        reply=args.reply,
        port=args.port,
        default_scenario=standalone_scenarios(
            chunk_size=args.chunk_size,
            delay_s=args.delay,
            slow_models=dict(args.slow_model),
            flaky_models=args.flaky_model,
        ),
    )
    with server:
        print(f"fake OpenAI server on {server.base_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":  # pragma: no cover
    main()

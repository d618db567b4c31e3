"""Server-Sent Events in the Vercel AI SDK UI message stream protocol (v1)."""

from __future__ import annotations

from typing import Any

import orjson

STREAM_HEADERS = {
    "x-vercel-ai-ui-message-stream": "v1",
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
}
TEXT_ID = "text-1"
DONE = b"data: [DONE]\n\n"


def event(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def start(message_id: str) -> bytes:
    return event({"type": "start", "messageId": message_id})


def data(name: str, value: dict[str, Any], *, part_id: str | None = None) -> bytes:
    """A data part; a later one with the same ``part_id`` replaces it in the client's message."""
    if part_id is None:
        return event({"type": f"data-{name}", "data": value})
    return event({"type": f"data-{name}", "id": part_id, "data": value})


def text_start() -> bytes:
    return event({"type": "start-step"}) + event({"type": "text-start", "id": TEXT_ID})


def text_delta(delta: str) -> bytes:
    return event({"type": "text-delta", "id": TEXT_ID, "delta": delta})


def text_end() -> bytes:
    return event({"type": "text-end", "id": TEXT_ID}) + event({"type": "finish-step"})


def finish() -> bytes:
    return event({"type": "finish"}) + DONE


def error(message: str) -> bytes:
    return event({"type": "error", "errorText": message}) + DONE

"""Test doubles. See :mod:`tests.fakes.openai_server` for the fake OpenAI-compatible server."""

from .openai_server import (
    DEFAULT_REPLY,
    FakeOpenAI,
    RecordedRequest,
    Scenario,
    fake_embedding,
    hang,
    http_error,
    ok,
    running,
    slow_first_token,
    standalone_scenarios,
    stream_cut_after,
)

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

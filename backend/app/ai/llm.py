"""Streaming chat completions from any OpenAI-compatible server.

Works with OpenAI, Ollama (``http://localhost:11434/v1``), vLLM, LM Studio, llama.cpp
server, etc. Retries are our own (the SDK's are disabled):

* 408/409/429/5xx responses and connection errors are retried with exponential backoff and
  jitter (honouring ``Retry-After``) **only before the first token** was yielded;
* once text has been yielded, any failure (stream cut, malformed chunk, read timeout)
  raises :class:`LLMError` with ``partial=True`` at once, so the caller keeps the partial
  text and marks the answer as incomplete;
* no first token within ``first_token_timeout_s`` raises :class:`LLMError` (not retried).

Closing the generator (``await agen.aclose()``, or cancelling the task awaiting it, as
Starlette does when the browser disconnects) closes the upstream HTTP response and its
connection immediately.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, Protocol, runtime_checkable

import openai

from app.ai.http_retry import (
    RETRYABLE_STATUS,
    api_error_detail,
    backoff_delay,
    parse_retry_after,
    status_phrase,
)

__all__ = ["LLM", "ChatMessage", "LLMError", "OpenAIChatLLM"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


class LLMError(Exception):
    """The language model failed; ``message`` is a sentence to show the user.

    ``message`` never quotes the provider or names its address (error texts can carry key
    fragments, "Incorrect API key provided: sk-proj-AbCd…", and internal URLs): that goes in
    ``detail``, for the log. ``partial`` is True when some text had already been yielded before
    the failure. ``status_code`` is the upstream HTTP status when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        status_code: int | None = None,
        partial: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.status_code = status_code
        self.partial = partial


@runtime_checkable
class LLM(Protocol):
    @property
    def name(self) -> str: ...

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float = 0.1,
    ) -> AsyncGenerator[str, None]:
        """Text deltas (never empty). Raises :class:`LLMError`."""
        ...

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float = 0.0,
    ) -> str:
        """The whole answer, non-streaming. Raises :class:`LLMError`."""
        ...


class _Retry(Exception):
    """Internal: a retryable failure before the first token; wait ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__(delay)
        self.delay = delay


def _api_error_text(err: openai.APIError) -> str:
    return " ".join(str(err.message).split())[:300]


def _plural(n: int) -> str:
    return f"{n} attempt{'s' if n != 1 else ''}"


class OpenAIChatLLM:
    """Chat model behind an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    ``max_retries`` counts retries after the first attempt. ``timeout_s`` bounds each
    HTTP operation (connect, and each read while streaming); ``first_token_timeout_s``
    bounds the wait for the first text of a streamed answer (reasoning deltas from
    "thinking" models extend it, since they show the model is working).
    """

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str,
        model: str,
        timeout_s: float = 60,
        max_retries: int = 3,
        first_token_timeout_s: float = 30,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        max_retry_after_s: float = 20.0,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.max_retries = max(0, max_retries)
        self.first_token_timeout_s = first_token_timeout_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_retry_after_s = max_retry_after_s
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout_s
        )

    @property
    def name(self) -> str:
        return self.model

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()

    # ------------------------------------------------------------------ helpers

    def _payload(
        self, messages: Sequence[ChatMessage], max_tokens: int | None, temperature: float
    ) -> dict[str, Any]:
        if not messages:
            raise ValueError("messages must not be empty")
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": temperature,
        }
        if max_tokens is not None:
            payload["max_tokens"] = max_tokens
        return payload

    def _timeout_error(self, seconds: float, *, partial: bool = False) -> LLMError:
        return LLMError(
            f"The language model is not responding (timed out after {seconds:g} s).",
            partial=partial,
        )

    def _handle_before_first_token(self, err: Exception, attempt: int, attempts: int) -> NoReturn:
        """Raise _Retry for a retryable failure with attempts left, else an LLMError."""
        if isinstance(err, openai.APIStatusError):
            status = err.status_code
            if status in RETRYABLE_STATUS:
                retry_after = parse_retry_after(err.response.headers)
                if retry_after is not None and retry_after > self.max_retry_after_s:
                    raise LLMError(
                        f"The language model service {status_phrase(status)}; "
                        f"it asks to retry in {retry_after:.0f} s.",
                        status_code=status,
                    ) from err
                if attempt < attempts:
                    delay = retry_after if retry_after is not None else self._backoff(attempt)
                    logger.warning(
                        "LLM HTTP %s (attempt %d/%d), retrying in %.2f s",
                        status,
                        attempt,
                        attempts,
                        delay,
                    )
                    raise _Retry(delay) from err
                raise LLMError(
                    f"The language model service {status_phrase(status)} after {_plural(attempt)}.",
                    status_code=status,
                ) from err
            raise self._client_error(err) from err
        if isinstance(err, openai.APITimeoutError):
            raise self._timeout_error(self.timeout_s) from err
        if isinstance(err, openai.APIConnectionError):
            if attempt < attempts:
                delay = self._backoff(attempt)
                logger.warning(
                    "LLM connection error (attempt %d/%d), retrying in %.2f s: %s",
                    attempt,
                    attempts,
                    delay,
                    err.__cause__ or err,
                )
                raise _Retry(delay) from err
            raise LLMError(
                f"The language model service could not be reached after {_plural(attempt)}.",
                detail=f"{self.base_url or 'api.openai.com'}: {err.__cause__ or err}",
            ) from err
        if isinstance(err, openai.APIError):  # error event inside the stream
            raise LLMError(
                "The language model reported an error.", detail=_api_error_text(err)
            ) from err
        raise LLMError("The language model sent a response that could not be read.") from err

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, base_s=self.backoff_base_s, max_s=self.backoff_max_s)

    def _client_error(self, err: openai.APIStatusError) -> LLMError:
        status = err.status_code
        if status in (401, 403):
            msg = f"The language model service rejected the API key (HTTP {status})."
        elif status == 404:
            msg = f"The language model {self.model!r} was not found (HTTP 404)."
        else:
            msg = f"The language model refused the request (HTTP {status})."
        detail = api_error_detail(err)
        where = f"{self.base_url}: " if self.base_url else ""
        return LLMError(msg, detail=f"{where}{detail}" if detail else None, status_code=status)

    @staticmethod
    def _read_chunk(chunk: Any) -> tuple[str, bool, bool]:
        """(content delta, finished, reasoning activity) of a chat.completion.chunk."""
        choices = chunk.choices or []
        if not choices:
            return "", False, False  # e.g. a usage-only chunk
        choice = choices[0]
        delta = choice.delta
        text = (delta.content if delta is not None else None) or ""
        if not isinstance(text, str):
            raise TypeError(f"delta.content is {type(text).__name__}")
        reasoning = False
        if delta is not None and not text:
            extra = getattr(delta, "model_extra", None) or {}
            reasoning = bool(extra.get("reasoning_content") or extra.get("reasoning"))
        return text, choice.finish_reason is not None, reasoning

    # ------------------------------------------------------------------ streaming

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float = 0.1,
    ) -> AsyncGenerator[str, None]:
        payload = self._payload(messages, max_tokens, temperature)
        attempts = self.max_retries + 1
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            deadline = loop.time() + self.first_token_timeout_s
            try:
                async with asyncio.timeout_at(deadline):
                    upstream = await self._client.chat.completions.create(**payload, stream=True)
            except TimeoutError:
                raise self._timeout_error(self.first_token_timeout_s) from None
            except Exception as err:
                try:
                    self._handle_before_first_token(err, attempt, attempts)
                except _Retry as retry:
                    await asyncio.sleep(retry.delay)
                    continue

            async with upstream:  # closes the HTTP response on any exit, incl. aclose()
                chunks: AsyncIterator[Any] = aiter(upstream)
                try:
                    first, finished = await self._first_text(chunks, deadline, attempt, attempts)
                except _Retry as retry:
                    retry_delay = retry.delay
                else:
                    if not first:
                        return  # the model finished without any text
                    yield first
                    # After the first token nothing is retried: failures are partial answers.
                    try:
                        async for chunk in chunks:
                            text, done, _ = self._read_chunk(chunk)
                            finished = finished or done
                            if text:
                                yield text
                    except openai.APITimeoutError as err:
                        raise self._timeout_error(self.timeout_s, partial=True) from err
                    except openai.APIConnectionError as err:
                        raise LLMError(
                            "The language model stopped mid-answer (the connection was lost).",
                            partial=True,
                        ) from err
                    except openai.APIError as err:
                        raise LLMError(
                            "The language model stopped mid-answer with an error.",
                            detail=_api_error_text(err),
                            partial=True,
                        ) from err
                    except Exception as err:
                        raise LLMError(
                            "The language model sent a malformed message mid-answer.",
                            partial=True,
                        ) from err
                    if not finished:
                        raise LLMError(
                            "The language model stopped mid-answer "
                            "(the stream ended unexpectedly).",
                            partial=True,
                        )
                    return
            await asyncio.sleep(retry_delay)

    async def _first_text(
        self, chunks: AsyncIterator[Any], deadline: float, attempt: int, attempts: int
    ) -> tuple[str, bool]:
        """Read up to the first non-empty content delta: (text, finished).

        Raises _Retry for a retryable failure (nothing was yielded yet), else LLMError.
        """
        loop = asyncio.get_running_loop()
        try:
            while True:
                async with asyncio.timeout_at(deadline):
                    chunk = await anext(chunks)
                text, finished, reasoning = self._read_chunk(chunk)
                if text or finished:
                    return text, finished
                if reasoning:  # a "thinking" model is working: extend the deadline
                    deadline = loop.time() + self.first_token_timeout_s
        except StopAsyncIteration:
            raise LLMError(
                "The language model stopped before answering (the stream ended unexpectedly)."
            ) from None
        except TimeoutError:
            raise self._timeout_error(self.first_token_timeout_s) from None
        except Exception as err:
            self._handle_before_first_token(err, attempt, attempts)

    # ------------------------------------------------------------------ non-streaming

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float = 0.0,
    ) -> str:
        payload = self._payload(messages, max_tokens, temperature)
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = await self._client.chat.completions.create(**payload)
            except Exception as err:
                try:
                    self._handle_before_first_token(err, attempt, attempts)
                except _Retry as retry:
                    await asyncio.sleep(retry.delay)
                    continue
            try:
                content = response.choices[0].message.content
            except (AttributeError, IndexError, TypeError) as err:
                raise LLMError(
                    "The language model sent a response that could not be read."
                ) from err
            return content or ""
        raise AssertionError("unreachable")  # pragma: no cover

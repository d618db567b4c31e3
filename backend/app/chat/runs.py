"""Answers written whoever listens: each answer stream runs to its end in a task of this
process, and the request that asked for it only listens. A client that goes away (a closed
tab, a reload) stops listening, not the answer, which keeps saving itself as it grows
(app.chat.answering); the page reads it back from the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

logger = logging.getLogger(__name__)

# On shutdown, answers being written get this long to end before they are cancelled (and
# stored as failed, with a reason).
SHUTDOWN_GRACE_S = 10.0


class AnswerRuns:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, events: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Run ``events`` to its end in a task; what the returned iterator yields is what it
        produced, for as long as somebody iterates it."""
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        listening = [True]

        async def run() -> None:
            try:
                async with contextlib.aclosing(events):  # type: ignore[type-var]
                    async for chunk in events:
                        if listening[0]:
                            queue.put_nowait(chunk)
            except Exception:
                logger.exception("answer_run_failed")
            finally:
                queue.put_nowait(None)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

        async def listen() -> AsyncIterator[bytes]:
            try:
                while (chunk := await queue.get()) is not None:
                    yield chunk
            finally:
                listening[0] = False

        return listen()

    async def close(self, *, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        """Let the answers being written end, then cancel those that have not."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


@contextlib.asynccontextmanager
async def answer_runs() -> AsyncIterator[AnswerRuns]:
    runs = AnswerRuns()
    try:
        yield runs
    finally:
        await runs.close()


def get_answer_runs(request: Request) -> AnswerRuns:
    runs: AnswerRuns = request.app.state.answer_runs
    return runs


AnswerRunsDep = Annotated[AnswerRuns, Depends(get_answer_runs)]

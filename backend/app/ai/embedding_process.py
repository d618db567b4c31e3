"""The local embedding model in a child process, shared by every caller in this process.

Why a process: the API's event loop, the in-process ingestion worker and the model's forward
passes (a few ms of Python per pass) shared one interpreter lock. Under 50 simulated users the
server sat at one core while a third of the machine was idle, and searches queued for the lock,
not for the CPU. In a child the model has its own lock and its own torch threads.

In the child, each kind of work has a thread of its own: queries (those that arrive together
share one forward pass), the sentences the extractive answerer scores while a user waits, and
ingestion. Ingestion's thread (and the torch threads it starts) runs at the lowest CPU
priority: on a machine busy with requests it takes only the CPU they leave, so a bulk import
no longer puts every search and answer in a queue for a core.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal, NoReturn

import numpy as np
from anyio import to_thread

from app.ai.embeddings import Embedder, EmbeddingError, LocalEmbedder, resolve_local_model
from app.core import priority

logger = logging.getLogger(__name__)

Kind = Literal["info", "query", "interactive", "bulk"]
# Order of the work on the answers' thread.
_PRIORITY: dict[Kind, int] = {"info": 0, "interactive": 1, "bulk": 2}
# Work other than queries runs in pieces of this many texts, topped up from other waiting
# requests of the same kind (small documents share a forward pass) and reported as they finish.
PIECE_TEXTS: dict[Kind, int] = {"interactive": 8, "bulk": 32}
# Queries that arrive together share one forward pass, up to this many.
MAX_MERGED_QUERIES = 64
STOPPED = "The embedding process stopped unexpectedly; try again."
# The directory holding the ``app`` package, for the child's imports.
_IMPORT_ROOT = str(Path(__file__).resolve().parents[2])


class ProcessEmbedder:
    """An :class:`~app.ai.embeddings.Embedder` for a local sentence-transformers model that
    runs in a child process (started on first use, restarted if it dies)."""

    def __init__(self, model: str | None = None) -> None:
        self.model_id, self._path = resolve_local_model(model)
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._pending: dict[int, Future[Any]] = {}
        self._progress: dict[int, Callable[[int], None]] = {}
        self._ids = itertools.count()

    @functools.cached_property
    def _info(self) -> tuple[int, int]:
        dimensions, max_tokens = self._call("info", [])
        return int(dimensions), int(max_tokens)

    @property
    def dimensions(self) -> int:
        return self._info[0]

    @property
    def max_tokens(self) -> int:
        return self._info[1]

    @functools.cached_property
    def _tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self._path)

    def tokenizer(self) -> Any | None:
        """The model's tokenizer, loaded here (no torch): the chunker counts with it."""
        return self._tokenizer

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed_texts("bulk", texts)

    def embed_documents_reporting(
        self, texts: Sequence[str], on_progress: Callable[[int], None]
    ) -> np.ndarray:
        """``embed_documents`` that calls ``on_progress(texts embedded so far)`` after each
        piece the child finishes (on the thread that reads the child's replies)."""
        return self._embed_texts("bulk", texts, on_progress)

    def embed_interactive(self, texts: Sequence[str]) -> np.ndarray:
        """A few texts a user is waiting for: ahead of ingestion, behind queries."""
        return self._embed_texts("interactive", texts)

    async def aembed_query(self, text: str) -> np.ndarray:
        """``embed_query`` for the event loop: awaits the reply without holding a thread."""
        vectors: np.ndarray = await asyncio.wrap_future(self._submit("query", [text]))
        vector: np.ndarray = vectors[0]
        return vector

    def embed_query(self, text: str) -> np.ndarray:
        vectors: np.ndarray = self._call("query", [text])
        vector: np.ndarray = vectors[0]
        return vector

    def close(self) -> None:
        """Stop the child (it exits when its pipe closes); a later call starts a new one."""
        with self._lock:
            conn, process = self._conn, self._process
            self._conn = self._process = None
        if conn is not None:
            conn.close()
        if process is not None:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    # ----------------------------------------------------------------------- parent side

    def _embed_texts(
        self, kind: Kind, texts: Sequence[str], on_progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors: np.ndarray = self._call(kind, list(texts), on_progress)
        return vectors

    def _call(
        self, kind: Kind, texts: list[str], on_progress: Callable[[int], None] | None = None
    ) -> Any:
        return self._submit(kind, texts, on_progress).result()

    def _submit(
        self, kind: Kind, texts: list[str], on_progress: Callable[[int], None] | None = None
    ) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            conn = self._child()
            request_id = next(self._ids)
            self._pending[request_id] = future
            if on_progress is not None:
                self._progress[request_id] = on_progress
            try:
                conn.send((request_id, kind, texts, on_progress is not None))
            except (OSError, ValueError) as exc:
                self._pending.pop(request_id, None)
                self._progress.pop(request_id, None)
                raise EmbeddingError(STOPPED) from exc
        return future

    def _child(self) -> Connection:
        """The pipe to a running child, starting one if needed (caller holds the lock)."""
        if self._conn is not None:
            return self._conn
        parent_end, child_end = socket.socketpair()
        # A fresh interpreter (not multiprocessing's spawn, which re-imports the parent's
        # __main__): the child needs only this module and the model.
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [_IMPORT_ROOT, os.environ.get("PYTHONPATH")])
            ),
        }
        process = subprocess.Popen(  # noqa: S603 - our interpreter and module, no shell
            [sys.executable, "-m", __name__, str(child_end.fileno()), self._path],
            pass_fds=(child_end.fileno(),),
            stdin=subprocess.DEVNULL,
            env=env,
        )
        child_end.close()
        conn = Connection(parent_end.detach())
        self._conn, self._process = conn, process
        threading.Thread(
            target=self._receive, args=(conn, process), name="embedding-replies", daemon=True
        ).start()
        return conn

    def _receive(self, conn: Connection, process: subprocess.Popen[bytes]) -> None:
        try:
            while True:
                request_id, ok, payload = conn.recv()
                if ok is None:  # a piece of the request is done: payload texts so far
                    with self._lock:
                        report = self._progress.get(request_id)
                    if report is not None:
                        report(payload)
                    continue
                with self._lock:
                    future = self._pending.pop(request_id, None)
                    self._progress.pop(request_id, None)
                if future is None:
                    continue
                if ok:
                    future.set_result(payload)
                else:
                    future.set_exception(EmbeddingError(payload))
        except (EOFError, OSError):
            pass
        with self._lock:
            if self._conn is conn:
                self._conn = self._process = None
            waiting, self._pending = self._pending, {}
            self._progress = {}
        if waiting:
            logger.error("embedding process exited (code %s)", process.poll())
        for future in waiting.values():
            future.set_exception(EmbeddingError(STOPPED))
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)  # reap it


async def embed_query_async(embedder: Embedder, text: str) -> np.ndarray:
    """A query vector without blocking the event loop (and, for the child, without a thread)."""
    if isinstance(embedder, ProcessEmbedder):
        return await embedder.aembed_query(text)
    vector: np.ndarray = await to_thread.run_sync(embedder.embed_query, text)
    return vector


def interactive_embed(embedder: Embedder) -> Callable[[Sequence[str]], np.ndarray]:
    """How to embed a few texts a user is waiting for with this embedder."""
    if isinstance(embedder, ProcessEmbedder):
        return embedder.embed_interactive
    return embedder.embed_documents


# Other embedders report progress after each call of this many texts.
REPORTING_CALL_TEXTS = 64


def embed_documents_reporting(
    embedder: Embedder, texts: Sequence[str], on_progress: Callable[[int], None]
) -> np.ndarray:
    """A document's vectors, calling ``on_progress(texts embedded so far)`` as they come: per
    piece from the child, per call of ``REPORTING_CALL_TEXTS`` texts from other embedders."""
    if isinstance(embedder, ProcessEmbedder):
        return embedder.embed_documents_reporting(texts, on_progress)
    parts = []
    for start in range(0, len(texts), REPORTING_CALL_TEXTS):
        parts.append(embedder.embed_documents(texts[start : start + REPORTING_CALL_TEXTS]))
        on_progress(start + len(parts[-1]))
    if not parts:
        return np.zeros((0, embedder.dimensions), dtype=np.float32)
    return np.concatenate(parts)


# --------------------------------------------------------------------------- child side


@dataclass
class _Job:
    request_id: int
    kind: Kind
    texts: list[str]
    reports_progress: bool = False
    arrival: int = 0
    # texts longest first, how many were taken, their vectors so far (in that order)
    order: list[int] = field(default_factory=list)
    done: int = 0
    parts: list[np.ndarray] = field(default_factory=list)

    def take(self, count: int) -> list[int]:
        """Indices of the next ``count`` texts to embed (longest first: less padding)."""
        if not self.order:
            self.order = sorted(
                range(len(self.texts)), key=lambda i: len(self.texts[i]), reverse=True
            )
        indices = self.order[self.done : self.done + count]
        self.done += len(indices)
        return indices

    def vectors(self) -> np.ndarray:
        """The finished job's vectors, in the order of its texts."""
        out = np.empty((len(self.texts), self.parts[0].shape[1]), dtype=np.float32)
        out[self.order] = np.concatenate(self.parts)
        return out


_JobQueue = queue.PriorityQueue[tuple[int, int, _Job]]


def serve(conn: Connection, path: str) -> None:
    """The child's main: one thread receives, one embeds queries, one ingestion, and this one
    the sentences of answers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    queries: queue.SimpleQueue[_Job] = queue.SimpleQueue()
    answers: _JobQueue = queue.PriorityQueue()
    ingestion: _JobQueue = queue.PriorityQueue()
    arrivals = itertools.count()
    send_lock = threading.Lock()

    def reply(replies: list[tuple[int, bool | None, Any]]) -> None:
        with send_lock:
            for item in replies:
                conn.send(item)

    def receive() -> None:
        try:
            while True:
                request_id, kind, texts, reports_progress = conn.recv()
                job = _Job(request_id, kind, texts, reports_progress, next(arrivals))
                if kind == "query":
                    queries.put(job)
                else:
                    (ingestion if kind == "bulk" else answers).put(
                        (_PRIORITY[kind], job.arrival, job)
                    )
        except (EOFError, OSError):
            os._exit(0)  # the parent is gone or closed the pipe

    embedder = LocalEmbedder(path)
    threading.Thread(target=receive, name="requests", daemon=True).start()
    try:
        info = (embedder.dimensions, embedder.max_tokens)
    except EmbeddingError as exc:
        _fail_everything(queries, answers, ingestion, reply, exc.message)
    import torch

    cores = torch.get_num_threads()
    threading.Thread(
        target=_serve_queries, args=(embedder, queries, reply), name="queries", daemon=True
    ).start()

    def ingest() -> None:
        priority.lower_this_thread(priority.BACKGROUND)
        _serve_pieces(embedder, ingestion, reply, info, torch_threads=cores)

    threading.Thread(target=ingest, name="ingestion", daemon=True).start()
    # Sentences for an answer run on one torch thread: on a busy machine a second thread is
    # often descheduled and the pass waits for it.
    _serve_pieces(embedder, answers, reply, info, torch_threads=1)


def _serve_pieces(
    embedder: LocalEmbedder,
    jobs: _JobQueue,
    reply: Callable[[list[tuple[int, bool | None, Any]]], None],
    info: tuple[int, int],
    *,
    torch_threads: int,
) -> NoReturn:
    """Embed ``jobs`` piece by piece, in order of priority and arrival."""
    import torch

    while True:
        job = jobs.get()[2]
        if job.kind == "info":
            reply([(job.request_id, True, info)])
            continue
        shares = _fill_piece(job, jobs, PIECE_TEXTS[job.kind])
        try:
            # Per pass: the count is the calling thread's, but a thread's first pass takes
            # the count another thread set last (torch's lazy start).
            torch.set_num_threads(torch_threads)
            texts = [job.texts[i] for job, indices in shares for i in indices]
            vectors = embedder.embed_documents(texts)
        except Exception as exc:  # the waiters hear of it; the child lives on
            reply([(job.request_id, False, _message(exc)) for job, _ in shares])
            continue
        start = 0
        for job, indices in shares:
            job.parts.append(vectors[start : start + len(indices)])
            start += len(indices)
            if job.done >= len(job.texts):
                reply([(job.request_id, True, job.vectors())])
            else:  # same place among its kind
                if job.reports_progress:
                    reply([(job.request_id, None, job.done)])
                jobs.put((_PRIORITY[job.kind], job.arrival, job))


def _serve_queries(
    embedder: LocalEmbedder,
    queries: queue.SimpleQueue[_Job],
    reply: Callable[[list[tuple[int, bool | None, Any]]], None],
) -> None:
    """Queries have their own thread, so they never wait behind other work; the ones that
    arrive together share one forward pass, on one torch thread (a few short texts)."""
    import torch

    while True:
        batch = [queries.get()]
        while len(batch) < MAX_MERGED_QUERIES:
            try:
                batch.append(queries.get_nowait())
            except queue.Empty:
                break
        try:
            torch.set_num_threads(1)
            vectors = embedder.embed_queries([text for job in batch for text in job.texts])
            bounds = np.cumsum([0] + [len(job.texts) for job in batch])
            reply(
                [
                    (job.request_id, True, vectors[bounds[i] : bounds[i + 1]])
                    for i, job in enumerate(batch)
                ]
            )
        except Exception as exc:
            reply([(job.request_id, False, _message(exc)) for job in batch])


def _fail_everything(
    queries: queue.SimpleQueue[_Job],
    answers: _JobQueue,
    ingestion: _JobQueue,
    reply: Callable[[list[tuple[int, bool | None, Any]]], None],
    message: str,
) -> NoReturn:
    """The model cannot load: answer every request with the reason, forever."""
    while True:
        for waiting in (queries, answers, ingestion):
            try:
                item = waiting.get(timeout=0.05)
            except queue.Empty:
                continue
            job = item if isinstance(item, _Job) else item[2]
            reply([(job.request_id, False, message)])


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, EmbeddingError) else str(exc)


def _fill_piece(first: _Job, jobs: _JobQueue, room: int) -> list[tuple[_Job, list[int]]]:
    """The next piece of ``room`` texts: texts of ``first``, topped up from other waiting jobs
    of its kind (small documents ingested side by side share one forward pass)."""
    shares = [(first, first.take(room))]
    room -= len(shares[0][1])
    while room > 0:
        try:
            entry = jobs.get_nowait()
        except queue.Empty:
            break
        if entry[2].kind != first.kind:
            jobs.put(entry)
            break
        indices = entry[2].take(room)
        shares.append((entry[2], indices))
        room -= len(indices)
    return shares


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), sys.argv[2])

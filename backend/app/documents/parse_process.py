"""Parsing and chunking in a child process, inside a memory and a time limit per document.

Why a process: one hostile file (a 49 MB line of text) once drove the process tree to 11 GB
and the API with it, and the next parser bug (pdfium, lxml, python-docx) can do the same. In
a child, the kernel enforces the memory limit (``RLIMIT_AS``: an allocation past it fails
with ``MemoryError``, or kills a C or Rust library that cannot handle the failure) and the
parent enforces the time limit by killing the child. Either way the document fails with a
sentence for its owner and the worker carries on with the next one.

The child is light: a fresh interpreter with the parsers and the Rust tokenizer only (no
torch, no transformers; about 70 MB), started on first use and kept for every following
document, so a small document pays no process start. It is replaced after a document that hit
a limit, a cancelled document, ``RECYCLE_AFTER_DOCUMENTS`` documents, or a document that left
it more than a quarter of its limit larger than it started (the limit is measured from there).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import logging
import math
import os
import queue
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anyio import to_thread

from app.documents.chunking import ChunkDraft, TokenCounter, token_counter_from_json
from app.documents.detect import DocumentKind
from app.documents.formats import FormatLimits, chunk_document, read_pages, without_furniture
from app.documents.ocr import OcrOptions
from app.documents.parsing import Page, ParseError, count_pages, parse_document

if TYPE_CHECKING:
    from app.core.settings import Settings

logger = logging.getLogger(__name__)

MEMORY_LIMIT = (
    "Reading this file needs more memory than this server allows. Split it into smaller "
    "files, or ask the administrator to raise the limit."
)
TIME_LIMIT = (
    "Reading this file takes longer than this server allows ({limit}). Split it into "
    "smaller files, or ask the administrator to raise the limit."
)
READER_CRASHED = (
    "The reader stopped unexpectedly on this file: it may be damaged, or need more memory "
    "than this server allows."
)
# How the child dies when an allocation fails where no MemoryError can be raised: Rust and
# C++ abort; the kernel's OOM killer (or a cgroup) kills.
MEMORY_SIGNALS = frozenset({signal.SIGABRT, signal.SIGKILL})

DRAFT_BATCH = 64
PAGE_BATCH = 64
PROGRESS_INTERVAL_S = 0.25
POLL_INTERVAL_S = 0.1
START_TIMEOUT_S = 60.0
# Time an OCR page gets beyond its Tesseract timeout: rendering it, starting Tesseract.
OCR_PAGE_SLACK_S = 10.0
RECYCLE_AFTER_DOCUMENTS = 500
# Rust's allocator and glibc reserve address space generously per thread; the child has one
# thread, and these keep the reservations it does make small.
# Tesseract (OCR, started by the child) runs one thread: its OpenMP threads only fight the
# other work on a small machine.
CHILD_ENVIRONMENT = {
    "MALLOC_ARENA_MAX": "2",
    "TOKENIZERS_PARALLELISM": "false",
    "OMP_THREAD_LIMIT": "1",
}
_IMPORT_ROOT = str(Path(__file__).resolve().parents[2])


class ParseCancelled(Exception):
    """The caller stopped waiting (its job was cancelled); the child was killed."""


@dataclass(frozen=True)
class ParseLimits:
    memory_bytes: int
    timeout_s: float
    _: dataclasses.KW_ONLY
    formats: FormatLimits = dataclasses.field(default_factory=FormatLimits)
    ocr: OcrOptions = dataclasses.field(default_factory=OcrOptions)
    # Time spent on OCR extends timeout_s by up to this much (a scan of many pages is slow).
    ocr_timeout_s: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ParseLimits:
        return cls(
            memory_bytes=settings.parse_memory_limit_mb * 1024 * 1024,
            timeout_s=settings.parse_timeout_s,
            formats=FormatLimits(
                max_sheet_rows=settings.spreadsheet_max_rows,
                max_sheet_cells=settings.spreadsheet_max_cells,
                max_row_chars=settings.spreadsheet_max_row_chars,
            ),
            ocr=OcrOptions(
                languages=settings.ocr_languages,
                dpi=settings.ocr_dpi,
                page_timeout_s=settings.ocr_page_timeout_s,
                max_pixels=settings.max_image_pixels,
            ),
            ocr_timeout_s=settings.ocr_timeout_s,
        )


@dataclass(frozen=True)
class TokenizerSpec:
    """A tokenizer as the child receives it: its JSON, and a key it is cached under there."""

    key: str
    json: str


@dataclass(frozen=True)
class ParseRequest:
    kind: DocumentKind
    tokenizer: TokenizerSpec
    max_tokens: int
    overlap_tokens: int


@functools.lru_cache(maxsize=4)
def tokenizer_spec(tokenizer: Any) -> TokenizerSpec:
    """The spec of a HuggingFace fast tokenizer (built once per tokenizer: the JSON is large)."""
    serialized = tokenizer.backend_tokenizer.to_str()
    return TokenizerSpec(hashlib.sha256(serialized.encode()).hexdigest()[:16], serialized)


ProgressCallback = Callable[[str, float], None]


class ParsePool:
    """``size`` parse children, each working on one document at a time."""

    def __init__(self, size: int, limits: ParseLimits) -> None:
        self._idle: queue.SimpleQueue[_ParseProcess] = queue.SimpleQueue()
        self._all = [_ParseProcess(limits) for _ in range(size)]
        for process in self._all:
            self._idle.put(process)

    async def parse_and_chunk(
        self, data: bytes, request: ParseRequest, on_progress: ProgressCallback
    ) -> tuple[list[ChunkDraft], list[Page]]:
        """(chunk drafts, the pages read: their text and furniture, without blocks); raises
        ParseError with a sentence for the user,
        including when the document breaks the memory or time limit. Cancelling the caller
        kills the child at once."""
        cancelled = threading.Event()
        try:
            return await to_thread.run_sync(
                self._run, data, request, on_progress, cancelled, abandon_on_cancel=True
            )
        finally:
            cancelled.set()

    def close(self) -> None:
        for process in self._all:
            process.close()

    def _run(
        self,
        data: bytes,
        request: ParseRequest,
        on_progress: ProgressCallback,
        cancelled: threading.Event,
    ) -> tuple[list[ChunkDraft], list[Page]]:
        while True:
            if cancelled.is_set():
                raise ParseCancelled
            try:
                process = self._idle.get(timeout=POLL_INTERVAL_S)
                break
            except queue.Empty:
                continue
        try:
            return process.parse(data, request, on_progress, cancelled)
        finally:
            self._idle.put(process)


_pools: dict[tuple[int, ParseLimits], ParsePool] = {}
_pools_lock = threading.Lock()


def get_parse_pool(settings: Settings) -> ParsePool:
    """The process-wide pool for these settings (its children start on first use)."""
    key = (settings.parse_processes, ParseLimits.from_settings(settings))
    with _pools_lock:
        if key not in _pools:
            _pools[key] = ParsePool(*key)
        return _pools[key]


class _ParseProcess:
    """One child; used by one thread at a time (the pool hands it out)."""

    def __init__(self, limits: ParseLimits) -> None:
        self._limits = limits
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        # The child's TMPDIR: what Tesseract and the libraries leave there when the child is
        # killed mid-page goes with it.
        self._scratch: str | None = None
        self._tokenizers: set[str] = set()
        self._documents = 0

    def parse(
        self,
        data: bytes,
        request: ParseRequest,
        on_progress: ProgressCallback,
        cancelled: threading.Event,
    ) -> tuple[list[ChunkDraft], list[Page]]:
        conn = self._started()
        spec = request.tokenizer
        header = (
            request.kind.value,
            spec.key,
            None if spec.key in self._tokenizers else spec.json,
            request.max_tokens,
            request.overlap_tokens,
            self._limits.timeout_s + self._limits.ocr_timeout_s,
            self._limits.ocr,
            self._limits.formats,
        )
        deadline = time.monotonic() + self._limits.timeout_s
        # OCR time is granted page by page from its own budget: a page's worst case when it
        # starts, the unused part given back when it ends.
        ocr_credit = self._limits.ocr_timeout_s
        ocr_reserved = 0.0
        try:
            conn.send(header)
            conn.send_bytes(data)
        except OSError:
            return self._died()
        self._tokenizers.add(spec.key)
        self._documents += 1
        drafts: list[ChunkDraft] = []
        pages: list[Page] = []
        while True:
            # Checked before every message: a busy child sends them back to back.
            if cancelled.is_set():
                self.close()
                raise ParseCancelled
            if time.monotonic() > deadline:
                self.close()
                spent = self._limits.ocr_timeout_s - ocr_credit
                limit = _duration(self._limits.timeout_s + spent)
                raise ParseError(TIME_LIMIT.format(limit=limit))
            if not conn.poll(POLL_INTERVAL_S):
                continue
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return self._died()
            match message:
                case ("progress", str(stage), float(fraction)):
                    on_progress(stage, fraction)
                case ("ocr_start",):
                    ocr_reserved = min(
                        self._limits.ocr.page_timeout_s + OCR_PAGE_SLACK_S, ocr_credit
                    )
                    ocr_credit -= ocr_reserved
                    deadline += ocr_reserved
                case ("ocr", float(seconds)):
                    unused = max(0.0, ocr_reserved - seconds)
                    ocr_credit += unused
                    deadline -= unused
                    ocr_reserved = 0.0
                case ("drafts", list(batch)):
                    drafts.extend(batch)
                case ("pages", list(batch)):
                    pages.extend(batch)
                case ("done", int(page_count), int(growth)):
                    assert page_count == len(pages), (page_count, len(pages))
                    if (
                        growth > self._limits.memory_bytes // 4
                        or self._documents >= RECYCLE_AFTER_DOCUMENTS
                    ):
                        self.close()
                    return drafts, pages
                case ("failed", str(reason)):
                    raise ParseError(reason)
                case ("memory",):
                    self.close()
                    raise ParseError(MEMORY_LIMIT)
                case ("error", str(details)):
                    self.close()
                    raise RuntimeError(f"the parse process failed:\n{details}")
                case _:
                    self.close()
                    raise RuntimeError(f"unexpected message from the parse process: {message!r}")

    def close(self) -> None:
        """Kill the child (a parse cannot be interrupted any other way); the next document
        starts a new one."""
        process, conn, scratch = self._process, self._conn, self._scratch
        self._process = self._conn = self._scratch = None
        self._tokenizers.clear()
        self._documents = 0
        if process is not None:
            # The child leads its own process group: its Tesseract goes with it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if conn is not None:
            conn.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    def _died(self) -> tuple[list[ChunkDraft], list[Page]]:
        process = self._process
        assert process is not None
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        self.close()
        logger.warning("parse process exited mid-document", extra={"exit_code": code})
        if code is not None and -code in MEMORY_SIGNALS:
            raise ParseError(MEMORY_LIMIT)
        raise ParseError(READER_CRASHED)

    def _started(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.poll() is None:
            return self._conn
        self.close()
        parent_end, child_end = socket.socketpair()
        self._scratch = tempfile.mkdtemp(prefix="docchat-parse-")
        env = {
            **os.environ,
            **CHILD_ENVIRONMENT,
            "TMPDIR": self._scratch,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [_IMPORT_ROOT, os.environ.get("PYTHONPATH")])
            ),
        }
        process = subprocess.Popen(  # noqa: S603 - our interpreter and module, no shell
            [
                sys.executable,
                "-m",
                __name__,
                str(child_end.fileno()),
                str(self._limits.memory_bytes),
                self._scratch,
            ],
            pass_fds=(child_end.fileno(),),
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        child_end.close()
        conn = Connection(parent_end.detach())
        self._process, self._conn = process, conn
        if not conn.poll(START_TIMEOUT_S):
            self.close()
            raise RuntimeError("the parse process did not start")
        try:
            ready = conn.recv()
        except (EOFError, OSError):
            ready = None
        if ready != ("ready",):
            self.close()
            raise RuntimeError(f"the parse process did not start (exit code {process.poll()})")
        return conn


def _duration(seconds: float) -> str:
    amount, unit = (seconds / 60, "minute") if seconds >= 120 else (seconds, "second")
    shown = f"{amount:.3g}"
    return f"{shown} {unit}" if shown == "1" else f"{shown} {unit}s"


# --------------------------------------------------------------------------- child side


def serve(conn: Connection, memory_bytes: int, scratch: str) -> None:
    """The child's main: one document at a time, until the parent closes the pipe; then its
    scratch directory (its TMPDIR) goes, also when the parent died without closing it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _warm_up()
    start_size = _address_space()
    resource.setrlimit(resource.RLIMIT_AS, (start_size + memory_bytes, resource.RLIM_INFINITY))
    counters: dict[str, TokenCounter] = {}
    conn.send(("ready",))
    while True:
        try:
            kind, key, tokenizer_json, max_tokens, overlap_tokens, timeout_s, ocr, formats = (
                conn.recv()
            )
            data = conn.recv_bytes()
        except (EOFError, OSError):
            # The parent is gone or closed the pipe.
            shutil.rmtree(scratch, ignore_errors=True)
            os._exit(0)
        _limit_cpu_time(timeout_s)
        outcome: tuple[Any, ...]
        try:
            if tokenizer_json is not None:
                counters[key] = token_counter_from_json(tokenizer_json)
            page_count = _parse_and_chunk(
                conn,
                data,
                DocumentKind(kind),
                counters[key],
                max_tokens,
                overlap_tokens,
                dataclasses.replace(ocr, before_page=lambda: conn.send(("ocr_start",))),
                formats,
            )
            outcome = ("done", page_count, _address_space() - start_size)
        except ParseError as exc:
            outcome = ("failed", exc.message)
        except MemoryError:
            outcome = ("memory",)
        except Exception:
            outcome = ("error", traceback.format_exc())
        del data
        conn.send(outcome)


def _parse_and_chunk(
    conn: Connection,
    data: bytes,
    kind: DocumentKind,
    counter: TokenCounter,
    max_tokens: int,
    overlap_tokens: int,
    ocr: OcrOptions,
    formats: FormatLimits,
) -> int:
    """Pages are read, their furniture (running headers and footers) found once every page is
    in, then chunked; drafts go to the parent in batches as they come, then the pages' text.
    The time each OCR page took goes to the parent, which extends the time limit by it."""
    total_pages = count_pages(data, kind)
    pages_seen = 0
    last_progress = 0.0

    def progress(stage: str) -> None:
        nonlocal last_progress
        now = time.monotonic()
        if now - last_progress >= PROGRESS_INTERVAL_S:
            last_progress = now
            fraction = min(pages_seen / total_pages, 1.0) if total_pages else 0.5
            conn.send(("progress", stage, float(fraction)))

    def pages() -> Iterator[Page]:
        nonlocal pages_seen
        started = time.monotonic()
        for page in read_pages(data, kind, formats, ocr=ocr):
            pages_seen += 1
            if page.ocr:
                conn.send(("ocr", time.monotonic() - started))
            progress("ocr" if page.ocr else "parse")
            yield page
            started = time.monotonic()

    clean_pages = list(without_furniture(pages(), kind))
    batch: list[ChunkDraft] = []
    for draft in chunk_document(
        clean_pages, kind, counter, max_tokens=max_tokens, overlap_tokens=overlap_tokens
    ):
        batch.append(draft)
        if len(batch) >= DRAFT_BATCH:
            conn.send(("drafts", batch))
            batch = []
        progress("chunk")
    if batch:
        conn.send(("drafts", batch))
    # The parent stores page text and furniture; the blocks would double what crosses the pipe.
    for start in range(0, len(clean_pages), PAGE_BATCH):
        page_batch = clean_pages[start : start + PAGE_BATCH]
        conn.send(("pages", [dataclasses.replace(page, blocks=[]) for page in page_batch]))
    return pages_seen


def _warm_up() -> None:
    """Parse a tiny document of every kind, so that lazily loaded modules and library state
    are in place before the address space is measured for the limit."""
    import io

    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Warm-up.")
    document.save(buffer)
    samples = {
        DocumentKind.TEXT: b"Warm-up.",
        DocumentKind.MARKDOWN: b"# Warm-up\n\nText.",
        DocumentKind.HTML: b"<h1>Warm-up</h1><p>Text.</p>",
        DocumentKind.DOCX: buffer.getvalue(),
    }
    for kind, sample in samples.items():
        list(parse_document(sample, kind))
    formats = FormatLimits()
    list(read_pages(b"a,b\n1,2\n", DocumentKind.CSV, formats))
    list(read_pages(b"<h1>Warm-up</h1><p>Text.</p>", DocumentKind.WEBPAGE, formats))
    import ebooklib.epub
    import openpyxl
    import pptx
    import xlrd

    del ebooklib, openpyxl, pptx, xlrd
    with contextlib.suppress(ParseError):
        list(parse_document(b"%PDF-1.4\n%%EOF", DocumentKind.PDF))


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _limit_cpu_time(timeout_s: float) -> None:
    """A backstop for the parent's clock (should the parent hang): SIGXCPU after the time
    limit in CPU seconds, plus slack."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    soft = math.ceil(spent + timeout_s) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), int(sys.argv[2]), sys.argv[3])

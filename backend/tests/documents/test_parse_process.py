"""The parse child on its own: its limits, its recovery and its weight (real processes)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import time
from collections.abc import Iterator

import anyio
import psutil
import pytest

from app.documents import parse_process
from app.documents.detect import DocumentKind
from app.documents.parse_process import (
    MEMORY_LIMIT,
    READER_CRASHED,
    ParseLimits,
    ParsePool,
    ParseRequest,
    tokenizer_spec,
)
from app.documents.parsing import ParseError
from app.documents.tasks import fallback_tokenizer
from tests.conftest import SHARED

MB = 1024 * 1024
SMALL = b"# Canal report\n\nThe Kallisto canal locks open at dawn for barges."
# A million tiny elements: BeautifulSoup needs about a gigabyte for them.
MEMORY_HUNGRY_HTML = b"<p>x</p>" * 1_000_000


def prose(size_bytes: int) -> bytes:
    """SciFact abstracts as paragraphs of plain text: slow to chunk, light on memory."""
    with (SHARED / "bench" / "scifact" / "corpus.jsonl").open() as corpus:
        abstracts = [json.loads(line)["text"] for line in corpus]
    parts: list[str] = []
    size = 0
    for abstract in itertools.cycle(abstracts):
        if size >= size_bytes:
            break
        parts.append(abstract)
        size += len(abstract) + 2
    return "\n\n".join(parts).encode()


def request(kind: DocumentKind) -> ParseRequest:
    return ParseRequest(kind, tokenizer_spec(fallback_tokenizer()), 230, 32)


def child_pid(pool: ParsePool) -> int | None:
    process = pool._all[0]._process
    return process.pid if process is not None else None


@pytest.fixture
def make_pool() -> Iterator[type[ParsePool]]:
    pools: list[ParsePool] = []

    class Pool(ParsePool):
        def __init__(self, size: int, limits: ParseLimits) -> None:
            super().__init__(size, limits)
            pools.append(self)

    yield Pool
    for pool in pools:
        pool.close()


async def parse(pool: ParsePool, data: bytes, kind: DocumentKind) -> tuple[int, int]:
    drafts, pages = await pool.parse_and_chunk(data, request(kind), lambda stage, fraction: None)
    return len(drafts), len(pages)


async def test_the_child_is_light_and_reused(make_pool: type[ParsePool]) -> None:
    pool = make_pool(1, ParseLimits(256 * MB, 60))
    assert await parse(pool, SMALL, DocumentKind.MARKDOWN) == (1, 1)
    pid = child_pid(pool)
    assert pid is not None
    child = psutil.Process(pid)
    libraries = " ".join(region.path for region in child.memory_maps())
    assert "libtorch" not in libraries and "transformers" not in libraries
    assert child.memory_info().rss < 150 * MB
    for _ in range(3):
        assert await parse(pool, SMALL, DocumentKind.MARKDOWN) == (1, 1)
    assert child_pid(pool) == pid  # no process start per document


async def test_the_childs_scratch_directory_goes_with_it(make_pool: type[ParsePool]) -> None:
    """Killed by the parent, or left behind by a parent that died: either way, the
    child's TMPDIR (where Tesseract writes its page images) is removed."""
    pool = make_pool(1, ParseLimits(256 * MB, 60))
    assert await parse(pool, SMALL, DocumentKind.MARKDOWN) == (1, 1)
    killed_scratch = pool._all[0]._scratch
    assert killed_scratch is not None and await anyio.Path(killed_scratch).is_dir()
    pool.close()
    assert not await anyio.Path(killed_scratch).exists()

    assert await parse(pool, SMALL, DocumentKind.MARKDOWN) == (1, 1)
    child = pool._all[0]
    orphaned_scratch, process, conn = child._scratch, child._process, child._conn
    assert orphaned_scratch is not None and process is not None and conn is not None
    conn.close()  # what the kernel does when the parent dies
    assert process.wait(timeout=30) == 0
    assert not await anyio.Path(orphaned_scratch).exists()


async def test_over_the_memory_limit_fails_then_the_next_document_parses(
    make_pool: type[ParsePool],
) -> None:
    pool = make_pool(1, ParseLimits(64 * MB, 120))
    await parse(pool, SMALL, DocumentKind.MARKDOWN)
    first = child_pid(pool)
    with pytest.raises(ParseError) as raised:
        await parse(pool, MEMORY_HUNGRY_HTML, DocumentKind.HTML)
    assert raised.value.message == MEMORY_LIMIT
    assert await parse(pool, SMALL, DocumentKind.MARKDOWN) == (1, 1)
    assert child_pid(pool) != first  # a child that hit its limit is not reused


async def test_over_the_time_limit_fails_then_the_next_document_parses(
    make_pool: type[ParsePool],
) -> None:
    pool = make_pool(1, ParseLimits(256 * MB, 0.5))
    started = time.monotonic()
    with pytest.raises(ParseError, match=r"takes longer than this server allows \(0.5 seconds\)"):
        await parse(pool, prose(2 * MB), DocumentKind.TEXT)
    assert time.monotonic() - started < 10
    assert await parse(pool, SMALL, DocumentKind.MARKDOWN) == (1, 1)


async def test_cancelling_the_caller_kills_the_child(make_pool: type[ParsePool]) -> None:
    pool = make_pool(1, ParseLimits(256 * MB, 120))
    await parse(pool, SMALL, DocumentKind.MARKDOWN)
    pid = child_pid(pool)
    task = asyncio.create_task(parse(pool, prose(4 * MB), DocumentKind.TEXT))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline = time.monotonic() + 5
    while psutil.pid_exists(pid):
        assert time.monotonic() < deadline, "the parse process outlived its cancelled caller"
        await asyncio.sleep(0.05)
    assert await parse(pool, SMALL, DocumentKind.MARKDOWN) == (1, 1)


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        (signal.SIGKILL, MEMORY_LIMIT),
        (signal.SIGABRT, MEMORY_LIMIT),
        (signal.SIGSEGV, READER_CRASHED),
    ],
)
async def test_a_child_that_dies_mid_document_fails_it_with_a_reason(
    make_pool: type[ParsePool], sent: signal.Signals, message: str
) -> None:
    """SIGKILL is the OOM killer's way, SIGABRT Rust's and C++'s on a failed allocation."""
    pool = make_pool(1, ParseLimits(256 * MB, 120))
    await parse(pool, SMALL, DocumentKind.MARKDOWN)
    pid = child_pid(pool)
    assert pid is not None
    task = asyncio.create_task(parse(pool, prose(4 * MB), DocumentKind.TEXT))
    await asyncio.sleep(0.5)
    os.kill(pid, sent)
    with pytest.raises(ParseError) as raised:
        await task
    assert raised.value.message == message
    assert await parse(pool, SMALL, DocumentKind.MARKDOWN) == (1, 1)


async def test_children_are_recycled(
    make_pool: type[ParsePool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse_process, "RECYCLE_AFTER_DOCUMENTS", 2)
    pool = make_pool(1, ParseLimits(256 * MB, 60))
    pids = []
    for _ in range(4):
        await parse(pool, SMALL, DocumentKind.MARKDOWN)
        pids.append(child_pid(pool))
    assert pids[1] is None and pids[3] is None  # closed after every second document
    assert None not in (pids[0], pids[2]) and pids[0] != pids[2]


async def test_parse_errors_come_back_and_keep_the_child(make_pool: type[ParsePool]) -> None:
    pool = make_pool(1, ParseLimits(256 * MB, 60))
    await parse(pool, SMALL, DocumentKind.MARKDOWN)
    pid = child_pid(pool)
    with pytest.raises(ParseError, match="damaged"):
        await parse(pool, b"%PDF-1.4 nothing else", DocumentKind.PDF)
    assert await parse(pool, SMALL, DocumentKind.MARKDOWN) == (1, 1)
    assert child_pid(pool) == pid

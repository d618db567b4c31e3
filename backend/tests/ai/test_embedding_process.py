"""The local model in its child process: same vectors as in-process, queries never queue
behind ingestion, and a dead child fails its callers cleanly and is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import pytest

from app.ai.embedding_process import PIECE_TEXTS, ProcessEmbedder, interactive_embed
from app.ai.embeddings import DEFAULT_LOCAL_MODEL_ID, EmbeddingError, LocalEmbedder
from app.ai.factory import get_embedder
from app.core.priority import BACKGROUND
from app.core.settings import Settings

SENTENCES = [
    "Vitamin D supplementation increases bone mineral density in older adults.",
    "T cells respond to viral infection by proliferating.",
    "Smoking damages the lungs.",
    "Insulin resistance is associated with obesity and inactivity in middle age, "
    "according to a large cohort followed for two decades in several countries.",
    "Antibiotic resistance spreads between bacteria through plasmids.",
]


@pytest.fixture(scope="module")
def child() -> Iterator[ProcessEmbedder]:
    embedder = ProcessEmbedder()
    assert embedder.dimensions == 384  # starts the child and loads the model once
    yield embedder
    embedder.close()


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    return LocalEmbedder()


def test_factory_runs_the_local_model_in_a_child(settings: Settings) -> None:
    embedder = get_embedder(settings)
    assert isinstance(embedder, ProcessEmbedder)
    assert embedder.model_id == DEFAULT_LOCAL_MODEL_ID
    assert embedder.max_tokens == 256
    assert embedder.tokenizer()("hello world")["input_ids"][1:-1] == [7592, 2088]


def test_child_vectors_match_the_in_process_model(
    child: ProcessEmbedder, local: LocalEmbedder
) -> None:
    # More texts than one piece, of different lengths: order must survive the sorting.
    texts = SENTENCES * 7
    assert len(texts) > PIECE_TEXTS["bulk"]
    bulk = child.embed_documents(texts)
    assert bulk.shape == (len(texts), 384)
    np.testing.assert_allclose(bulk, local.embed_documents(texts), atol=1e-5)
    np.testing.assert_allclose(child.embed_interactive(texts), bulk, atol=1e-5)
    assert interactive_embed(child) == child.embed_interactive
    np.testing.assert_allclose(
        child.embed_query(SENTENCES[0]), local.embed_query(SENTENCES[0]), atol=1e-5
    )
    assert child.embed_documents([]).shape == (0, 384)


def test_concurrent_queries_each_get_their_own_vector(
    child: ProcessEmbedder, local: LocalEmbedder
) -> None:
    with ThreadPoolExecutor(8) as pool:
        vectors = list(pool.map(child.embed_query, SENTENCES * 4))
    expected = local.embed_queries(SENTENCES * 4)
    np.testing.assert_allclose(np.stack(vectors), expected, atol=1e-5)

    async def both() -> list[np.ndarray]:
        return await asyncio.gather(*(child.aembed_query(s) for s in SENTENCES))

    np.testing.assert_allclose(np.stack(asyncio.run(both())), expected[:5], atol=1e-5)


def test_query_is_answered_while_a_long_document_is_embedded(child: ProcessEmbedder) -> None:
    long_document = [f"{SENTENCES[3]} Section {i}. " * 6 for i in range(96)]
    with ThreadPoolExecutor(1) as pool:
        ingestion = pool.submit(child.embed_documents, long_document)
        time.sleep(0.3)  # the child is now working through the document's pieces
        child.embed_query("what damages the lungs?")
        assert not ingestion.done(), "the query waited for the whole document"
        assert ingestion.result().shape == (96, 384)


def test_a_killed_child_fails_its_callers_and_is_replaced(child: ProcessEmbedder) -> None:
    long_document = [f"{SENTENCES[3]} Part {i}. " * 6 for i in range(200)]
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(child.embed_documents, long_document)
        time.sleep(0.3)
        process = child._process
        assert process is not None
        os.kill(process.pid, signal.SIGKILL)
        with pytest.raises(EmbeddingError, match="embedding process stopped"):
            waiting.result(timeout=30)
    assert process.wait(timeout=10) == -signal.SIGKILL
    # The next call starts a new child.
    assert child.embed_query("again").shape == (384,)
    assert child._process is not None and child._process.pid != process.pid


def test_child_exits_when_the_parent_closes_the_pipe() -> None:
    embedder = ProcessEmbedder()
    embedder.embed_query("start")
    process = embedder._process
    assert process is not None
    embedder.close()
    assert process.poll() is not None


def test_bulk_embedding_reports_each_piece(child: ProcessEmbedder, local: LocalEmbedder) -> None:
    texts = SENTENCES * 14
    seen: list[int] = []
    vectors = child.embed_documents_reporting(texts, seen.append)
    np.testing.assert_allclose(vectors, local.embed_documents(texts), atol=1e-5)
    # Every piece but the last is reported, in order, before the vectors come back.
    piece = PIECE_TEXTS["bulk"]
    assert seen == [piece * n for n in range(1, len(seen) + 1)]
    assert len(seen) == (len(texts) - 1) // piece


def _thread_niceness(pid: int) -> dict[int, int]:
    """The nice value of each of a process's threads, by thread id."""
    niceness = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/stat", encoding="ascii") as stat:
            niceness[int(tid)] = int(stat.read().rsplit(")", 1)[1].split()[16])
    return niceness


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
def test_ingestion_runs_at_the_lowest_cpu_priority_and_answers_do_not(
    child: ProcessEmbedder,
) -> None:
    long_document = [f"{SENTENCES[3]} Chapter {i}. " * 6 for i in range(400)]
    with ThreadPoolExecutor(1) as pool:
        ingestion = pool.submit(child.embed_documents, long_document)
        time.sleep(0.5)  # its thread and torch's team for it are running
        child.embed_interactive(SENTENCES)
        child.embed_query("what damages the lungs?")
        process = child._process
        assert process is not None
        niceness = _thread_niceness(process.pid)
        assert not ingestion.done(), "the document was embedded before the threads were read"
        ingestion.result()
    # Ingestion's thread and the torch worker it started run at nice 19; the main thread
    # (answers' sentences), the queries' thread and the pipe's reader stay at 0.
    assert niceness.pop(process.pid) == 0
    lowered = [tid for tid, nice in niceness.items() if nice == BACKGROUND]
    assert len(lowered) >= 2, niceness
    assert sum(nice == 0 for nice in niceness.values()) >= 2, niceness

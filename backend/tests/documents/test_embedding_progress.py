"""Progress through the embedding stage moves as the vectors come, not in one jump at its end
(issue #18: "Computing search vectors · 20 %", then Ready)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest

from app.ai.embedding_process import ProcessEmbedder
from app.documents.chunking import ChunkDraft
from app.documents.tasks import EMBED_BAND, ProgressReporter, embed_all


class RecordingReporter(ProgressReporter):
    def __init__(self) -> None:
        super().__init__(sessionmaker=None, document_id=uuid.uuid4())  # type: ignore[arg-type]
        self.seen: list[tuple[str, int]] = []

    def set(self, stage: str, progress: float) -> None:
        super().set(stage, progress)
        self.seen.append((stage, int(progress)))


@pytest.fixture(scope="module")
def child() -> Iterator[ProcessEmbedder]:
    embedder = ProcessEmbedder()
    yield embedder
    embedder.close()


def draft(ordinal: int) -> ChunkDraft:
    text = f"Passage {ordinal} about vitamin D, bone density and older adults. " * 4
    return ChunkDraft(ordinal, text, 1, 1, 0, len(text), ("Title",), 60)


def test_a_small_document_reports_progress_while_it_is_embedded(child: ProcessEmbedder) -> None:
    drafts = [draft(i) for i in range(80)]  # pieces of 32 at most: progress after each
    reporter = RecordingReporter()
    vectors = asyncio.run(embed_all(child, drafts, reporter))
    assert vectors.shape == (80, 384)
    low, high = EMBED_BAND
    during = [progress for stage, progress in reporter.seen if stage == "embed"]
    assert during[-1] == high
    between = [progress for progress in during if low < progress < high]
    assert len(between) >= 2, reporter.seen
    assert between == sorted(between)

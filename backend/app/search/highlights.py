"""Where a passage is cited: the sentences to highlight, on the page where they are printed.

A chunk's text is the ``"\\n"``-join of its ``spans``, slices ``(page, start, end)`` of the
stored page texts (``app.documents.chunking``). An offset into the chunk text therefore maps
to a page and an offset into that page's text, which is what the document viewer marks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from app.ai.extractive import best_sentence
from app.search.passages import PAGE_JOINER, Passage
from app.search.snippets import make_snippet


@dataclass(frozen=True)
class Highlight:
    page: int
    start: int  # into the page's text
    end: int
    text: str


class ChunkText(Protocol):
    """A chunk's text and where it lies: a stored ``Chunk`` or a found ``Passage``."""

    @property
    def text(self) -> str: ...
    @property
    def spans(self) -> list[list[int]] | None: ...
    @property
    def page_start(self) -> int: ...
    @property
    def page_end(self) -> int: ...
    @property
    def char_start(self) -> int: ...
    @property
    def char_end(self) -> int: ...


def page_spans(hit: ChunkText) -> list[tuple[int, int, int]]:
    """The chunk's page slices. A chunk indexed before spans were kept has them only when
    it lies on one page; its text must add up, or nothing can be located."""
    if hit.spans:
        spans = [(int(page), int(start), int(end)) for page, start, end in hit.spans]
    elif hit.page_start == hit.page_end:
        spans = [(hit.page_start, hit.char_start, hit.char_end)]
    else:
        return []
    covered = sum(end - start for _, start, end in spans) + len(PAGE_JOINER) * (len(spans) - 1)
    return spans if covered == len(hit.text) else []


def locate(hit: ChunkText, start: int, end: int) -> list[Highlight]:
    """The page pieces of ``hit.text[start:end]`` (one per page it is printed on)."""
    pieces: list[Highlight] = []
    offset = 0
    for page, page_start, page_end in page_spans(hit):
        length = page_end - page_start
        low, high = max(start, offset), min(end, offset + length)
        if low < high:
            pieces.append(
                Highlight(
                    page,
                    page_start + low - offset,
                    page_start + high - offset,
                    hit.text[low:high],
                )
            )
        offset += length + len(PAGE_JOINER)
    return pieces


@dataclass(frozen=True)
class CitedLocation:
    page: int
    highlights: list[Highlight]
    focus: list[tuple[int, int]]  # the cited sentences, as offsets into the chunk text


def cite(hit: ChunkText, focus: Sequence[tuple[int, int]]) -> CitedLocation:
    """Highlights of the focus sentences; the page is where most of the first one is
    printed (the chunk's first page when nothing can be located)."""
    highlights = [piece for start, end in focus for piece in locate(hit, start, end)]
    page = hit.page_start
    if focus:
        first = locate(hit, *focus[0])
        if first:
            page = max(first, key=lambda piece: piece.end - piece.start).page
    return CitedLocation(page=page, highlights=highlights, focus=list(focus))


def cite_for_query(hit: Passage, query: str) -> CitedLocation:
    """The hit cited for the sentence that best answers ``query``."""
    best = best_sentence(query, hit.text)
    return cite(hit, [best] if best else [])


def cite_for_statements(hit: Passage, statements: Sequence[str]) -> CitedLocation:
    """The hit cited for the sentences that best support each of ``statements`` (the
    sentences of an answer that carry its marker), in the passage's order."""
    focus = {span for statement in statements if (span := best_sentence(statement, hit.text))}
    return cite(hit, sorted(focus))


@dataclass(frozen=True)
class Excerpt:
    """What is shown of a passage: where it is cited, and its text around the cited
    sentences with their offsets in that snippet."""

    location: CitedLocation
    snippet: str
    snippet_highlights: list[tuple[int, int]]


def excerpt(passage: Passage, location: CitedLocation) -> Excerpt:
    snippet, marks = make_snippet(passage.text, location.focus)
    return Excerpt(location=location, snippet=snippet, snippet_highlights=marks)

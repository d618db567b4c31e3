"""Page furniture: running headers, running footers and page numbers.

A line is furniture when it sits among the first or last few lines of its page and the same
line, with its digits (and Roman page numbers) ignored, sits there on many pages of the
document. "Same" tolerates OCR noise ("VICKSBURG" / "VICKSBUEG"): lines are compared by
similarity, not equality. Furniture never reaches chunks, embeddings, BM25 postings or
answers, but stays in ``Page.text`` (its spans are listed in ``Page.furniture``), so every
offset still indexes the page text a reader sees.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from difflib import SequenceMatcher

from app.documents.parsing import Block, Page

# Lines examined at each end of a page; longer lines are sentences, not running heads.
EDGE_LINES = 3
MAX_WORDS = 12
# A line is furniture when it (or a near copy) is at the edges of this share of the pages
# that have text, and of at least MIN_PAGES of them.
MIN_SHARE = 0.5
MIN_PAGES = 2
SIMILAR = 0.85
# Shorter keys (after digits are dropped) are too unspecific to compare, unless the line is a
# bare page number.
MIN_KEY_CHARS = 4

_LINE = re.compile(r"[^\n]+")
_ROMAN = re.compile(r"^[ivxlcdm]{1,7}$")
_PAGE_NUMBER = re.compile(
    r"^\W*(?:page\s*)?(?:\d{1,5}|[ivxlcdm]{1,7})(?:\s*(?:of|/)\s*\d{1,5})?\W*$", re.IGNORECASE
)
_NOT_LETTER = re.compile(r"[\W\d_]+")
PAGE_NUMBER_KEY = "#"


def strip_furniture(pages: Iterable[Page]) -> Iterator[Page]:
    """The pages with furniture lines cut out of their blocks (and listed in ``furniture``).

    Needs every page before it can judge the first, so it holds the pages (their text only)
    until the last one has arrived."""
    held = list(pages)
    keys = _furniture_keys(held)
    for page in held:
        yield _without_furniture(page, keys) if keys else page


def line_key(line: str) -> str:
    """What a running header keeps from page to page: its letters, lower case, with page
    numbers (digits, and Roman numerals at either end) dropped."""
    if _PAGE_NUMBER.match(line.strip()):
        return PAGE_NUMBER_KEY
    words = unicodedata.normalize("NFKC", line).lower().split()
    while words and _ROMAN.match(words[-1].strip(".")):
        words.pop()
    while words and _ROMAN.match(words[0].strip(".")):
        words.pop(0)
    return " ".join(_NOT_LETTER.sub(" ", " ".join(words)).split())


def _edge_lines(page: Page) -> list[tuple[int, int, str]]:
    """The first and last lines of the page, except table rows (a table's rows look alike
    once digits are dropped, and its header repeats on every page it runs over)."""
    rows = [(block.char_start, block.char_end) for block in page.blocks if block.table]
    lines = [
        (match.start(), match.end(), match.group())
        for match in _LINE.finditer(page.text)
        if match.group().strip() and not any(start <= match.start() < end for start, end in rows)
    ]
    if len(lines) > 2 * EDGE_LINES:
        lines = lines[:EDGE_LINES] + lines[-EDGE_LINES:]
    return [line for line in lines if len(line[2].split()) <= MAX_WORDS]


def _furniture_keys(pages: list[Page]) -> list[str]:
    """Representative keys of the line clusters repeated at the edges of enough pages."""
    with_text = [page for page in pages if page.text.strip()]
    if len(with_text) < MIN_PAGES:
        return []
    needed = max(MIN_PAGES, math.ceil(MIN_SHARE * len(with_text)))
    clusters = _Clusters()
    for seen, page in enumerate(with_text):
        # A cluster that cannot reach `needed` pages any more is dropped, and a line that
        # starts a cluster too late to reach it is not kept: on a long document of prose,
        # every edge line is a cluster of its own, and comparing each line with all of them
        # took 8 s for 200 pages (every comparison a SequenceMatcher).
        pages_left = len(with_text) - seen
        clusters.drop_below(needed - pages_left)
        for _, _, line in _edge_lines(page):
            key = line_key(line)
            if key != PAGE_NUMBER_KEY and len(key) < MIN_KEY_CHARS:
                continue
            clusters.add(key, page.number, may_start=pages_left >= needed)
    return clusters.keys_on_at_least(needed)


class _Clusters:
    """Lines grouped with the first earlier line they are similar to (``_similar_to``)."""

    def __init__(self) -> None:
        self._pages: list[tuple[str, set[int]]] = []  # in the order they were started
        self._exact: dict[str, int] = {}

    def add(self, key: str, page_number: int, *, may_start: bool) -> None:
        index = self._exact.get(key)
        if index is None:
            index = self._first_similar(key)
        if index is not None:
            self._pages[index][1].add(page_number)
            self._exact.setdefault(key, index)
        elif may_start:
            self._exact[key] = len(self._pages)
            self._pages.append((key, {page_number}))

    def _first_similar(self, key: str) -> int | None:
        similar = _similar_to(key)
        return next(
            (index for index, (cluster_key, _) in enumerate(self._pages) if similar(cluster_key)),
            None,
        )

    def drop_below(self, minimum: int) -> None:
        if minimum <= 1 or not any(len(pages) < minimum for _, pages in self._pages):
            return
        self._pages = [cluster for cluster in self._pages if len(cluster[1]) >= minimum]
        self._exact = {}
        for index, (cluster_key, _) in enumerate(self._pages):
            self._exact.setdefault(cluster_key, index)

    def keys_on_at_least(self, needed: int) -> list[str]:
        return [key for key, pages in self._pages if len(pages) >= needed]


def _similar_to(key: str) -> Callable[[str], bool]:
    """Whether a line key is a near copy of ``key`` (one matcher for many comparisons: it
    indexes ``key`` once)."""
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(key)

    def similar(other: str) -> bool:
        if other == key:
            return True
        if PAGE_NUMBER_KEY in (other, key):
            return False
        matcher.set_seq1(other)
        # Cheap upper bounds of ratio() first (lengths, then letters): same answers.
        return (
            matcher.real_quick_ratio() >= SIMILAR
            and matcher.quick_ratio() >= SIMILAR
            and matcher.ratio() >= SIMILAR
        )

    return similar


def _without_furniture(page: Page, keys: list[str]) -> Page:
    spans = [
        (start, end)
        for start, end, line in _edge_lines(page)
        if any(map(_similar_to(line_key(line)), keys))
    ]
    if not spans:
        return page
    blocks = [piece for block in page.blocks for piece in _cut(page.text, block, spans)]
    return dataclasses.replace(page, blocks=blocks, furniture=tuple(spans))


def _cut(text: str, block: Block, spans: list[tuple[int, int]]) -> Iterator[Block]:
    """The parts of ``block`` outside ``spans``, trimmed, as blocks of the same page text."""
    start = block.char_start
    for span_start, span_end in sorted(spans):
        if span_end <= start or span_start >= block.char_end:
            continue
        yield from _trimmed(text, block, start, span_start)
        start = max(start, span_end)
    yield from _trimmed(text, block, start, block.char_end)


def _trimmed(text: str, block: Block, start: int, end: int) -> Iterator[Block]:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    left = start + len(piece) - len(piece.lstrip())
    yield dataclasses.replace(block, text=stripped, char_start=left, char_end=left + len(stripped))

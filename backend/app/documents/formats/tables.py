"""Chunks of a spreadsheet: groups of consecutive rows, each led by the sheet's header row.

A passage about row 5,000 is only understood with its column names, so every chunk of a
sheet starts with the header row (the sheet's first non-empty row) unless the header is
longer than half the token budget. Rows are packed greedily up to ``max_tokens``; a row
longer than the budget on its own is chunked like prose (``chunk_pages``), without the
header. Rows never overlap between chunks.

Spans follow ``app.documents.chunking``: a chunk's text is the ``"\\n"``-join of its page
slices, here the header row and the run of rows (one slice when the run follows the
header). ``sheet``, ``row_start`` and ``row_end`` name the rows of the run.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from app.documents.chunking import ChunkDraft, TokenCounter, chunk_pages
from app.documents.parsing import Block, Page
from app.search.passages import PAGE_JOINER

# Rows go to the counter in batches of this many.
COUNT_BATCH = 512
# The header is left out of chunks when it takes more than this share of the budget.
MAX_HEADER_SHARE = 0.5


def chunk_table_pages(
    pages: Iterable[Page], counter: TokenCounter, *, max_tokens: int
) -> Iterator[ChunkDraft]:
    ordinals = itertools.count()
    for page in pages:
        if page.blocks:
            yield from _page_chunks(page, counter, max_tokens, ordinals)


def _page_chunks(
    page: Page, counter: TokenCounter, max_tokens: int, ordinals: Iterator[int]
) -> Iterator[ChunkDraft]:
    rows = page.blocks  # one block per row, in order
    numbers = page.row_numbers or tuple(range(1, len(rows) + 1))
    header = rows[0]
    header_tokens = counter.count([header.text])[0]
    with_header = header_tokens <= max_tokens * MAX_HEADER_SHARE
    budget = max_tokens - header_tokens if with_header else max_tokens
    group: list[int] = []
    group_tokens = 0

    def flush() -> Iterator[ChunkDraft]:
        yield from _fitted(page, numbers, header if with_header else None, group, counter,
                           max_tokens, ordinals)  # fmt: skip

    for start in range(1 if with_header else 0, len(rows), COUNT_BATCH):
        indexes = range(start, min(start + COUNT_BATCH, len(rows)))
        counts = counter.count([rows[index].text for index in indexes])
        for index, tokens in zip(indexes, counts, strict=True):
            if tokens > budget:
                if group:
                    yield from flush()
                    group, group_tokens = [], 0
                yield from _long_row(page, numbers[index], rows[index], counter, max_tokens,
                                     ordinals)  # fmt: skip
                continue
            if group and group_tokens + tokens > budget:
                yield from flush()
                group, group_tokens = [], 0
            group.append(index)
            group_tokens += tokens
    if group:
        yield from flush()
    elif with_header and len(rows) == 1:
        group = [0]  # a sheet of a header alone is still a passage
        yield from _fitted(page, numbers, None, group, counter, max_tokens, ordinals)


def _fitted(
    page: Page,
    numbers: tuple[int, ...],
    header: Block | None,
    group: list[int],
    counter: TokenCounter,
    max_tokens: int,
    ordinals: Iterator[int],
) -> Iterator[ChunkDraft]:
    """The group's chunk, or its halves if the counter finds the joined text over budget
    (packing adds per-row counts, exact for WordPiece, not for every tokenizer)."""
    spans = _spans(page, header, group)
    text = PAGE_JOINER.join(page.text[start:end] for _, start, end in spans)
    tokens = counter.count([text])[0]
    if tokens > max_tokens and len(group) > 1:
        middle = len(group) // 2
        yield from _fitted(page, numbers, header, group[:middle], counter, max_tokens, ordinals)
        yield from _fitted(page, numbers, header, group[middle:], counter, max_tokens, ordinals)
        return
    yield ChunkDraft(
        ordinal=next(ordinals),
        text=text,
        page_start=page.number,
        page_end=page.number,
        char_start=spans[0][1],
        char_end=spans[-1][2],
        heading_path=(page.title,) if page.title else (),
        token_count=tokens,
        spans=spans,
        sheet=page.title,
        row_start=numbers[group[0]],
        row_end=numbers[group[-1]],
    )


def _spans(page: Page, header: Block | None, group: list[int]) -> tuple[tuple[int, int, int], ...]:
    first, last = page.blocks[group[0]], page.blocks[group[-1]]
    if header is None or group[0] == 1:
        start = header.char_start if header is not None else first.char_start
        return ((page.number, start, last.char_end),)
    return ((page.number, header.char_start, header.char_end),
            (page.number, first.char_start, last.char_end))  # fmt: skip


def _long_row(
    page: Page,
    row_number: int,
    row: Block,
    counter: TokenCounter,
    max_tokens: int,
    ordinals: Iterator[int],
) -> Iterator[ChunkDraft]:
    """A row over the budget, cut like prose (at sentences, then words)."""
    alone = Page(page.number, page.text, [row], title=page.title)
    for draft in chunk_pages([alone], counter, max_tokens=max_tokens, overlap_tokens=0):
        yield ChunkDraft(
            ordinal=next(ordinals),
            text=draft.text,
            page_start=draft.page_start,
            page_end=draft.page_end,
            char_start=draft.char_start,
            char_end=draft.char_end,
            heading_path=draft.heading_path,
            token_count=draft.token_count,
            spans=draft.spans,
            sheet=page.title,
            row_start=row_number,
            row_end=row_number,
        )

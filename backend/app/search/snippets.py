"""Short excerpts of a chunk around the sentences it is cited for."""

from __future__ import annotations

from collections.abc import Sequence

from app.ai.sentences import sentence_spans, sentence_text

SNIPPET_CHARS = 320
ELLIPSIS = "…"


def make_snippet(
    text: str, focus: Sequence[tuple[int, int]], *, max_chars: int = SNIPPET_CHARS
) -> tuple[str, list[tuple[int, int]]]:
    """An excerpt of ``text`` that holds every focus span (offsets into ``text``) whole,
    widened by neighbouring sentences up to ``max_chars``; and where the focus sentences
    are in the excerpt. The focus is never cut, however long it is."""
    spans = sentence_spans(text)
    if not spans:
        return "", []
    focused = [
        index
        for index, (start, end) in enumerate(spans)
        if any(start < f_end and f_start < end for f_start, f_end in focus)
    ] or [0]
    first, last = min(focused), max(focused)
    sentences = [sentence_text(text[start:end]) for start, end in spans]

    def length(lo: int, hi: int) -> int:
        return sum(len(s) + 1 for s in sentences[lo : hi + 1]) - 1

    while True:  # widen one sentence at a time, preferring what follows
        if last + 1 < len(spans) and length(first, last + 1) <= max_chars:
            last += 1
        elif first > 0 and length(first - 1, last) <= max_chars:
            first -= 1
        else:
            break
    pieces: list[str] = []
    marks: list[tuple[int, int]] = []
    offset = 0
    if first > 0:
        pieces.append(ELLIPSIS)
        offset = len(ELLIPSIS) + 1
    for index in range(first, last + 1):
        if index in focused and focus:
            marks.append((offset, offset + len(sentences[index])))
        pieces.append(sentences[index])
        offset += len(sentences[index]) + 1
    if last + 1 < len(spans):
        pieces.append(ELLIPSIS)
    return " ".join(pieces), _merged(marks)


def _merged(marks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Adjacent marked sentences become one mark."""
    merged: list[tuple[int, int]] = []
    for start, end in marks:
        if merged and start - merged[-1][1] <= 1:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged

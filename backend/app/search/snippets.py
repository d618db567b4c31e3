"""Short excerpts of a chunk around the words of the query."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
SNIPPET_CHARS = 320


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def make_snippet(text: str, query: str, *, max_chars: int = SNIPPET_CHARS) -> str:
    """The sentence window of `text` holding the most query words, at most `max_chars`."""
    flat = " ".join(text.split())
    if len(flat) <= max_chars:
        return flat
    terms = {_stem(w) for w in _WORD.findall(query) if len(w) > 2}
    sentences = _SENTENCE_END.split(flat)
    best_start, best_score = 0, -1
    for index, sentence in enumerate(sentences):
        score = sum(1 for w in _WORD.findall(sentence) if _stem(w) in terms)
        if score > best_score:
            best_start, best_score = index, score
    excerpt = ""
    for sentence in sentences[best_start:]:
        candidate = f"{excerpt} {sentence}".strip()
        if len(candidate) > max_chars:
            break
        excerpt = candidate
    if not excerpt:
        excerpt = sentences[best_start][: max_chars - 1].rstrip() + "…"
    prefix = "… " if best_start > 0 else ""
    suffix = " …" if not flat.endswith(excerpt) else ""
    return prefix + excerpt + suffix

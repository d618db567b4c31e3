"""Sentences of a passage, with their offsets in it, and the light term analysis that
matches them to a question.

Splitting works on the raw passage text, so every sentence is a ``(start, end)`` slice of
it (what a citation highlights); :func:`sentence_text` gives its readable form (whitespace
collapsed, words hyphenated across a line end joined). Besides sentence punctuation, a
passage is cut at blank lines, after a heading-like line, and around "Key: value" lines and
list items, which are answers of their own ("Author: Michelle Poirier").
"""

from __future__ import annotations

import functools
import re

__all__ = [
    "KEY_VALUE",
    "sentence_spans",
    "sentence_text",
    "split_sentences",
    "stem",
    "terms",
]

_HEADING_MAX_WORDS = 8

_HYPHEN_BREAK_RE = re.compile(r"(\w)-[ \t]*\r?\n[ \t]*([a-z])")
_SOFT_HYPHEN = "\u00ad"
_BLOCK_SPLIT_RE = re.compile(r"\n[ \t]*\n\s*")
_LINE_RE = re.compile(r"[^\n]*")
# "Author: Michelle Poirier", "Version: 1.0": a key of at most three words, a colon, a value.
KEY_VALUE = re.compile(
    r"^[•\-+*]?\s*([A-Z][\w/&()'\u2019.-]*(?: [\w/&()'\u2019.-]+){0,2})\s*:\s+(\S.*)$"
)
# Bullets (•, ◦, ▪, ■, ●, ○, ‣, hyphen bullet, ∙, ·, *, +, dashes) or "1." / "2)".
_LIST_ITEM = re.compile(r"^\s*(?:[•◦▪■●○‣\u2043∙·*+\u2013\u2014-]|\d{1,3}[.)])\s")

_ABBREVIATIONS_TEXT = """
    e.g i.e etc vs cf al approx fig figs eq eqs tab sec ch vol no nos pp p ed eds
    dr mr mrs ms prof sr jr st inc ltd co corp dept univ resp ca incl viz
    jan feb mar apr jun jul aug sep sept oct nov dec mt ft est min max avg
"""
_ABBREVIATIONS = frozenset(_ABBREVIATIONS_TEXT.split())
# Candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace.
_BOUNDARY_RE = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+")
_NEXT_START_RE = re.compile(r"[\"'\u201c\u2018(\[]*[A-Z0-9]")
_DOTTED_ACRONYM = re.compile(r"(?:[a-z]\.)+[a-z]")
# How far back from a full stop the token it ends is looked for.
_LONGEST_TOKEN = 64


def sentence_text(raw: str) -> str:
    """A sentence as a reader quotes it: hyphenation joined, whitespace collapsed."""
    joined = raw.replace(_SOFT_HYPHEN, "")
    if "-" in joined and "\n" in joined:
        joined = _HYPHEN_BREAK_RE.sub(r"\1\2", joined)
    return " ".join(joined.split())


def split_sentences(text: str) -> list[str]:
    """The readable sentences of ``text``."""
    return [sentence_text(text[start:end]) for start, end in sentence_spans(text)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, without surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    for seg_start, seg_end in _segments(text):
        start = seg_start
        for match in _BOUNDARY_RE.finditer(text, seg_start, seg_end):
            end = match.end()
            if end >= seg_end or not _NEXT_START_RE.match(text, end, seg_end):
                continue  # next word starts lowercase ("approx. three"): not a boundary
            punct = match.group(0).rstrip()
            if punct.endswith(".") or punct.rstrip("\"'\u201d\u2019)]").endswith("."):
                dot = text.rfind(".", match.start(), match.end())
                if _is_abbreviation(text[max(start, dot - _LONGEST_TOKEN) : dot + 1]):
                    continue
            spans.extend(_trimmed(text, start, end))
            start = end
        spans.extend(_trimmed(text, start, seg_end))
    return spans


def _segments(text: str) -> list[tuple[int, int]]:
    """Blocks (at blank lines), cut after heading-like lines and around "Key: value" lines
    and list items."""
    segments: list[tuple[int, int]] = []
    block_start = 0
    for gap in [*_BLOCK_SPLIT_RE.finditer(text), None]:
        block_end = gap.start() if gap else len(text)
        lines = [
            (m.start(), m.end())
            for m in _LINE_RE.finditer(text, block_start, block_end)
            if m.end() > m.start()
        ]
        start = block_start
        for index, (line_start, line_end) in enumerate(lines):
            line = text[line_start:line_end]
            next_line = text[slice(*lines[index + 1])] if index + 1 < len(lines) else ""
            if line_start > start and (KEY_VALUE.match(line) or _LIST_ITEM.match(line)):
                segments.append((start, line_start))
                start = line_start
            if next_line and (
                KEY_VALUE.match(line) or KEY_VALUE.match(next_line) or _is_heading(line, next_line)
            ):
                segments.append((start, line_end))
                start = line_end
        segments.append((start, block_end))
        if gap:
            block_start = gap.end()
    return [(start, end) for start, end in segments if text[start:end].strip()]


def _is_heading(line: str, next_line: str) -> bool:
    """A short line without end punctuation followed by a capitalised line ("Results")."""
    line = line.strip()
    return (
        bool(line)
        and len(line.split()) <= _HEADING_MAX_WORDS
        and line[-1] not in ".!?:;,-\u2013\u2014"
        and next_line.lstrip()[:1].isupper()
    )


def _trimmed(text: str, start: int, end: int) -> list[tuple[int, int]]:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return []
    left = start + len(piece) - len(piece.lstrip())
    return [(left, left + len(stripped))]


def _is_abbreviation(before: str) -> bool:
    """Whether the text ending in a '.' ends with an abbreviation or an initial."""
    if not before or before[-1].isspace():
        return False
    token = before.rsplit(None, 1)[-1].lstrip("([\"'\u201c\u2018").rstrip(".").lower()
    if not token:
        return False
    if token in _ABBREVIATIONS:
        return True
    # Single letters ("J. Smith", "p. 4") and dotted acronyms ("U.S.", "a.m.").
    if len(token) == 1 and token.isalpha():
        return True
    return bool(_DOTTED_ACRONYM.fullmatch(token))


# --------------------------------------------------------------------------- terms

_STOPWORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    yours yourself yourselves also may might must shall us via per whether within without
    tell explain describe please give list show according document documents
"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SUFFIXES = (
    "ational",
    "ization",
    "fulness",
    "ousness",
    "iveness",
    "ations",
    "ation",
    "ments",
    "ment",
    "ings",
    "ing",
    "edly",
    "ies",
    "ied",
    "ness",
    "ly",
    "ed",
    "es",
    "er",
    "s",
)


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately light stemmer: strips common English suffixes from longer words."""
    if word.isdigit() or len(word) <= 3:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stemmed = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                stemmed += "y"
            elif len(stemmed) > 3 and stemmed[-1] == stemmed[-2] and stemmed[-1] not in "aeiouls":
                stemmed = stemmed[:-1]  # "running" -> "runn" -> "run"
            return stemmed
    return word


def terms(text: str) -> list[str]:
    """Stemmed content words of ``text``, in order."""
    words = _WORD_RE.findall(text.lower().replace("\u2019", "'"))
    return [stem(w.split("'")[0]) for w in words if w not in _STOPWORDS]

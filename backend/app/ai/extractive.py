"""Extractive answers: the default answerer when no language model is configured.

The answer is made only of sentences copied verbatim (after whitespace normalisation and
joining of line-break hyphenation) from the retrieved passages, each group followed by the
citation marker of its passage. Nothing is generated.

A sentence is chosen for how well it answers the question:

* lexical overlap with the question (idf-weighted, light stemming), optionally combined
  with embedding cosine similarity (``embed``), plus a small prior from the passage's
  retrieval rank;
* the shape the question asks for: a name for "who", a date for "when", a number for "how
  many", a place for "where", a definition for "what is";
* "Key: value" lines whose key the question names ("Author: Michelle Poirier" answers "Who
  is the author …?");
* never a table-of-contents line, a figure or table caption or a heading.

Near-duplicates (the same sentence in two overlapping passages, or nearly the same words)
are merged. The chosen sentences are grouped by passage, in the passage's own order.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from app.ai.sentences import KEY_VALUE, sentence_spans, sentence_text, terms

__all__ = [
    "NO_ANSWER_TEXT",
    "ExtractiveAnswer",
    "NumberedText",
    "Quote",
    "best_sentence",
    "extractive_answer",
]

logger = logging.getLogger(__name__)

NO_ANSWER_TEXT = "No passage in your documents seems to answer this question."

# Candidates embedded at most (bounds latency of the optional cosine scoring).
_MAX_EMBED_CANDIDATES = 16
_MIN_WORDS = 4
_HEADING_MAX_WORDS = 8
_DUP_JACCARD = 0.6
_DUP_COSINE = 0.92
_SHAPE_BONUS = 0.2
_KEY_BONUS = 0.35


@dataclass(frozen=True, slots=True)
class NumberedText:
    """The text of a numbered source: ``n`` is its number (the ``[n]`` marker)."""

    n: int
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class Quote:
    """A quoted sentence: ``passage.text[start:end]`` of the passage numbered ``n``."""

    n: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ExtractiveAnswer:
    text: str
    quotes: tuple[Quote, ...]


# --------------------------------------------------------------------------- question shape

_WHO = re.compile(r"\b(who|whom|whose)\b", re.I)
_WHEN = re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|time)\b|\bwhich (?:year|date)\b", re.I)
_HOW_MANY = re.compile(
    r"\bhow (?:many|much|long|old|far|big|large|often)\b|\bnumber of\b|"
    r"\bwhat (?:percentage|percent|proportion|amount)\b",
    re.I,
)
_WHERE = re.compile(r"\bwhere\b|\bwhich (?:city|country|place|town)\b", re.I)
_WHAT_IS = re.compile(r"^\s*(?:what|which)\s+(?:is|are|was|were)\b|\bdefin|\bmean", re.I)

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE = re.compile(
    rf"\b(?:1[5-9]\d\d|20\d\d)\b|\b\d{{1,2}}(?:st|nd|rd|th)\b|\b(?:{_MONTHS})\b|"
    r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    re.I,
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    "fifty|sixty|hundred|thousand|million|billion|dozen|several|many|few"
)
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:[A-Z]\.\s*)*[A-Z][a-z]+)+\b")
_PLACE = re.compile(r"\b(?:in|at|near|from|on)\s+(?:the\s+)?[A-Z][a-z]+")
_DEFINITION = re.compile(
    r"\b(?:is|are|was|were|means|refers? to|consists? of|constitutes?|contains?|describes?)\b"
)
_PERSON_KEYS = frozenset(
    {"author", "by", "owner", "creator", "editor", "contact", "writer", "prepar", "manag"}
)
_DATE_KEYS = frozenset({"date", "creat", "updat", "publish", "issu", "modifi", "year"})


def _answer_shape(question: str) -> Callable[[str], bool] | None:
    if _WHO.search(question):
        return lambda s: _has_name(s) or _key_names(s, _PERSON_KEYS)
    if _WHEN.search(question):
        return lambda s: bool(_DATE.search(s) or _key_names(s, _DATE_KEYS))
    if _HOW_MANY.search(question):
        return lambda s: bool(_NUMBER.search(s))
    if _WHERE.search(question):
        return lambda s: bool(_PLACE.search(s))
    if _WHAT_IS.search(question):
        return lambda s: bool(_DEFINITION.search(s))
    return None


def _has_name(sentence: str) -> bool:
    """Two or more capitalised words, not counting a sentence's capitalised first word."""
    return any(
        match.start() > 0 or len(match.group().split()) > 2 for match in _NAME.finditer(sentence)
    )


def _key_names(sentence: str, keys: frozenset[str]) -> bool:
    match = KEY_VALUE.match(sentence)
    return match is not None and bool(set(terms(match.group(1))) & keys)


# --------------------------------------------------------------------------- not quotable

_TOC_TITLE = re.compile(r"\btable of contents\b", re.I)
_CAPTION = re.compile(
    r"^(?:figure|fig\.?|table|tab\.|chart|diagram|plate|illustration|image|photo|map|exhibit)"
    r"\s*(?:\d+|[ivxlc]+\b)",
    re.I,
)
_NUMBERED_HEADING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[A-Z]\.)\s+\S")


def _is_toc_line(sentence: str) -> bool:
    """Dot leaders ("....", ". . . . ", "……") or the words "table of contents"."""
    return (
        "...." in sentence
        or ". . . . " in sentence
        or "\u2026\u2026" in sentence
        or bool(_TOC_TITLE.search(sentence))
    )


def _is_quotable(sentence: str, *, key_value: bool) -> bool:
    """Not a table-of-contents line, a caption, a heading or a fragment (``key_value``:
    the sentence is a "Key: value" line)."""
    if _is_toc_line(sentence) or _CAPTION.match(sentence):
        return False
    words = sentence.split()
    ends_sentence = sentence[-1] in ".!?\"')\u201d\u2019"
    if key_value:
        return len(words) >= 2
    if (
        not ends_sentence
        and len(words) <= _HEADING_MAX_WORDS
        and (_NUMBERED_HEADING.match(sentence) or sentence.isupper())
    ):
        return False
    return len(words) >= _MIN_WORDS


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True, slots=True)
class _Sentence:
    """A quotable sentence of a passage (``text[start:end]`` of it, readable form
    ``sentence``), analysed once whatever the question: see ``_sentences``."""

    sentence: str
    position: int
    start: int
    end: int
    terms: frozenset[str]
    key_terms: frozenset[str]


@functools.lru_cache(maxsize=1024)
def _sentences(text: str) -> tuple[_Sentence, ...]:
    """The quotable sentences of a passage. Cached: a passage found by one search is often
    found again, and an answer cites each passage for several of its sentences."""
    found: list[_Sentence] = []
    for position, (start, end) in enumerate(sentence_spans(text)):
        sentence = sentence_text(text[start:end])
        sentence_terms = frozenset(terms(sentence))
        key = KEY_VALUE.match(sentence)
        if not sentence_terms or not _is_quotable(sentence, key_value=key is not None):
            continue
        key_terms = frozenset(terms(key.group(1))) if key else frozenset()
        found.append(_Sentence(sentence, position, start, end, sentence_terms, key_terms))
    return tuple(found)


@dataclass(slots=True)
class _Candidate:
    quoted: _Sentence
    n: int
    rank: int
    lexical: float = 0.0
    cosine: float = 0.0
    bonus: float = 0.0
    score: float = 0.0
    vector: np.ndarray | None = None

    @property
    def sentence(self) -> str:
        return self.quoted.sentence

    @property
    def terms(self) -> frozenset[str]:
        return self.quoted.terms

    @property
    def key_terms(self) -> frozenset[str]:
        return self.quoted.key_terms

    @property
    def position(self) -> int:
        return self.quoted.position

    @property
    def start(self) -> int:
        return self.quoted.start

    @property
    def end(self) -> int:
        return self.quoted.end


def _candidates(passages: Sequence[NumberedText]) -> list[_Candidate]:
    ranked = sorted(passages, key=lambda p: p.score, reverse=True)
    return [
        _Candidate(quoted, passage.n, rank)
        for rank, passage in enumerate(ranked)
        for quoted in _sentences(passage.text)
    ]


def _lexical_scores(question_terms: Counter[str], candidates: list[_Candidate]) -> None:
    n_docs = len(candidates)
    df: Counter[str] = Counter()
    for c in candidates:
        df.update(c.terms)
    weights = {t: math.log(1.0 + (n_docs + 1) / (df[t] + 0.5)) for t in question_terms}
    total = sum(weights.values())
    if total <= 0:
        return
    for c in candidates:
        matched = sum(w for t, w in weights.items() if t in c.terms)
        # Mild length normalisation so very long sentences don't win on coverage alone.
        length_penalty = 1.0 / (1.0 + max(0, len(c.terms) - 30) / 60.0)
        c.lexical = (matched / total) * length_penalty


def _answer_bonuses(
    question: str, question_terms: Counter[str], candidates: list[_Candidate]
) -> None:
    """Sentences shaped like the answer, and "Key: value" lines whose key the question
    names. Only for sentences that share words with the question: a date alone does not
    answer "when"."""
    shape = _answer_shape(question)
    for c in candidates:
        if c.lexical <= 0:
            continue
        if shape is not None and shape(c.sentence):
            c.bonus += _SHAPE_BONUS
        if c.key_terms and c.key_terms <= set(question_terms):
            c.bonus += _KEY_BONUS


def _cosine_scores(
    question: str,
    candidates: list[_Candidate],
    embed: Callable[[Sequence[str]], np.ndarray],
) -> bool:
    try:
        vectors = np.asarray(embed([question, *(c.sentence for c in candidates)]), dtype=np.float32)
    except Exception:
        logger.warning(
            "extractive answer: embedding failed, using lexical scores only", exc_info=True
        )
        return False
    if vectors.ndim != 2 or vectors.shape[0] != len(candidates) + 1:
        logger.warning("extractive answer: embed returned shape %s, ignoring", vectors.shape)
        return False
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    sims = vectors[1:] @ vectors[0]
    for c, s, v in zip(candidates, sims, vectors[1:], strict=True):
        c.cosine = float(s)
        c.vector = v
    return True


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _prior(c: _Candidate) -> float:
    # Earlier passages (better retrieval rank) and earlier sentences get a small boost.
    return 1.0 / (1.0 + c.rank) + 0.1 / (1.0 + c.position)


def _is_duplicate(c: _Candidate, chosen: list[_Candidate]) -> bool:
    return any(
        c.sentence == o.sentence
        or _jaccard(c.terms, o.terms) >= _DUP_JACCARD
        or (
            c.vector is not None
            and o.vector is not None
            and float(c.vector @ o.vector) >= _DUP_COSINE
        )
        for o in chosen
    )


def best_sentence(question: str, text: str) -> tuple[int, int] | None:
    """``(start, end)`` in ``text`` of the sentence that best answers ``question``
    (lexical and answer-shape scores only: cheap enough for every search hit)."""
    candidates = _candidates([NumberedText(0, text, 0.0)])
    if not candidates:
        return None
    question_terms = Counter(terms(question))
    _lexical_scores(question_terms, candidates)
    _answer_bonuses(question, question_terms, candidates)
    best = max(candidates, key=lambda c: (c.lexical + c.bonus, -c.position))
    return best.start, best.end


def extractive_answer(
    question: str,
    passages: Sequence[NumberedText],
    *,
    embed: Callable[[Sequence[str]], np.ndarray] | None,
    max_sentences: int = 3,
) -> ExtractiveAnswer:
    """Answer ``question`` with up to ``max_sentences`` sentences copied from ``passages``.

    ``embed`` (e.g. ``Embedder.embed_documents``) adds cosine similarity to the lexical
    score; it is called once, blocking, with the question followed by candidate sentences.
    If it fails, lexical scoring alone is used.
    """
    candidates = _candidates(passages)
    if not candidates:
        return ExtractiveAnswer(NO_ANSWER_TEXT, ())

    question_terms = Counter(terms(question))
    _lexical_scores(question_terms, candidates)
    _answer_bonuses(question, question_terms, candidates)

    use_cosine = False
    if embed is not None:
        candidates.sort(key=lambda c: c.lexical + c.bonus + 0.3 * _prior(c), reverse=True)
        candidates = candidates[:_MAX_EMBED_CANDIDATES]
        use_cosine = _cosine_scores(question, candidates, embed)

    for c in candidates:
        if use_cosine:
            c.score = 0.45 * c.lexical + 0.40 * max(c.cosine, 0.0) + 0.15 * _prior(c) + c.bonus
        else:
            c.score = 0.75 * c.lexical + 0.25 * _prior(c) + c.bonus

    candidates.sort(key=lambda c: c.score, reverse=True)
    best = candidates[0].score
    chosen: list[_Candidate] = []
    for c in candidates:
        if len(chosen) >= max_sentences:
            break
        # Keep the best sentence always; later ones must be reasonably relevant.
        if chosen and (c.score < 0.6 * best or (c.lexical == 0.0 and c.cosine < 0.3)):
            break
        if not _is_duplicate(c, chosen):
            chosen.append(c)
    return ExtractiveAnswer(_format(chosen), tuple(Quote(c.n, c.start, c.end) for c in chosen))


_MARKDOWN_INLINE = re.compile(r"([\\`*_])")
# What would start a block at the beginning of a paragraph: a bullet ("+", "-"), a quote, a
# heading, or an ordered item ("1." / "1)", whose punctuation is what must be escaped). Escaped
# whatever follows: "+" alone, or "+ +", would otherwise render as an empty (nested) bullet.
_MARKDOWN_LINE_START = re.compile(r"^([#>+\-])|^(\d{1,9})([.)])")


def _markdown_literal(sentence: str) -> str:
    """The sentence as Markdown text that renders as itself."""
    escaped = _MARKDOWN_INLINE.sub(r"\\\1", sentence)
    return _MARKDOWN_LINE_START.sub(
        lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3), escaped
    )


def _format(chosen: list[_Candidate]) -> str:
    """One paragraph per passage, in the order of each passage's best sentence, its
    sentences in their own order, ending with the passage's marker."""
    groups: dict[int, list[_Candidate]] = {}
    for c in chosen:
        groups.setdefault(c.n, []).append(c)
    paragraphs = []
    for n, group in groups.items():
        sentences = " ".join(
            _markdown_literal(c.sentence) for c in sorted(group, key=lambda c: c.start)
        )
        paragraphs.append(f"{sentences} [{n}]")
    return "\n\n".join(paragraphs)

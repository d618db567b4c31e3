"""Extractive answers: the default answerer when no language model is configured.

The answer is made only of sentences copied verbatim (after whitespace normalisation and
joining of PDF line-break hyphenation) from the retrieved passages, each followed by the
citation marker of its passage, most relevant first. Nothing is generated.

Sentence relevance = lexical overlap with the question (idf-weighted, light stemming),
optionally combined with embedding cosine similarity (``embed``), plus a prior from the
passage's retrieval rank. Near-duplicate sentences are skipped.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "EXTRACTIVE_LABEL",
    "NO_ANSWER_TEXT",
    "Passage",
    "extractive_answer",
    "split_sentences",
]

logger = logging.getLogger(__name__)

EXTRACTIVE_LABEL = "Extracted from your documents (no language model configured):"
NO_ANSWER_TEXT = "No passage in your documents seems to answer this question."

# Candidates embedded at most (bounds latency of the optional cosine scoring).
_MAX_EMBED_CANDIDATES = 16
_MIN_WORDS = 4
_HEADING_MAX_WORDS = 8
_DUP_JACCARD = 0.6
_DUP_COSINE = 0.92


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved passage: ``n`` is its source number (the ``[n]`` marker)."""

    n: int
    text: str
    score: float


# --------------------------------------------------------------------------- text clean-up

_HYPHEN_BREAK_RE = re.compile(r"(\w)-[ \t]*\r?\n[ \t]*([a-z])")
_SOFT_HYPHEN_RE = re.compile("\u00ad")
_BLOCK_SPLIT_RE = re.compile(r"\n[ \t]*\n\s*")
_WS_RE = re.compile(r"\s+")


def _is_heading(line: str, next_line: str) -> bool:
    """A short line without end punctuation followed by a capitalised line ("Results")."""
    line = line.strip()
    return (
        bool(line)
        and len(line.split()) <= _HEADING_MAX_WORDS
        and line[-1] not in ".!?:;,-\u2013\u2014"
        and next_line.lstrip()[:1].isupper()
    )


def _normalise(text: str) -> list[str]:
    """Join hyphenated line breaks, split into blocks (paragraphs, headings), normalise
    whitespace."""
    text = _SOFT_HYPHEN_RE.sub("", text)
    text = _HYPHEN_BREAK_RE.sub(r"\1\2", text)
    blocks: list[str] = []
    for para in _BLOCK_SPLIT_RE.split(text):
        lines = para.splitlines()
        current: list[str] = []
        for i, line in enumerate(lines):
            current.append(line)
            if i + 1 < len(lines) and _is_heading(line, lines[i + 1]):
                blocks.append(" ".join(current))
                current = []
        blocks.append(" ".join(current))
    return [b for b in (_WS_RE.sub(" ", blk).strip() for blk in blocks) if b]


# --------------------------------------------------------------------------- sentence split

_ABBREVIATIONS_TEXT = """
    e.g i.e etc vs cf al approx fig figs eq eqs tab sec ch vol no nos pp p ed eds
    dr mr mrs ms prof sr jr st inc ltd co corp dept univ resp ca incl viz
    jan feb mar apr jun jul aug sep sept oct nov dec mt ft est min max avg
"""
_ABBREVIATIONS = frozenset(_ABBREVIATIONS_TEXT.split())
# Candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace.
_BOUNDARY_RE = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+")
_NEXT_START_RE = re.compile(r"[\"'\u201c\u2018(\[]*[A-Z0-9]")
_LAST_TOKEN_RE = re.compile(r"(\S+)$")


def _is_abbreviation(before: str) -> bool:
    """Whether the text ending in a '.' ends with an abbreviation or an initial."""
    m = _LAST_TOKEN_RE.search(before)
    if not m:
        return False
    token = m.group(1).lstrip("([\"'\u201c\u2018").rstrip(".").lower()
    if not token:
        return False
    if token in _ABBREVIATIONS:
        return True
    # Single letters ("J. Smith", "p. 4") and dotted acronyms ("U.S.", "a.m.").
    if len(token) == 1 and token.isalpha():
        return True
    return bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", token))


def split_sentences(text: str) -> list[str]:
    """Split text into sentences (whitespace normalised, hyphenation joined)."""
    sentences: list[str] = []
    for block in _normalise(text):
        start = 0
        for m in _BOUNDARY_RE.finditer(block):
            end = m.end()
            if not _NEXT_START_RE.match(block, end):
                continue  # next word starts lowercase ("approx. three"): not a boundary
            punct = m.group(0).rstrip()
            if punct.endswith(".") or punct.rstrip("\"'\u201d\u2019)]").endswith("."):
                dot = block.rfind(".", m.start(), m.end())
                if _is_abbreviation(block[start : dot + 1]):
                    continue
            sentence = block[start:end].strip()
            if sentence:
                sentences.append(sentence)
            start = end
        tail = block[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


# --------------------------------------------------------------------------- lexical scoring

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


def _stem(word: str) -> str:
    """A deliberately light stemmer: strips common English suffixes from longer words."""
    if word.isdigit() or len(word) <= 3:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                stem += "y"
            elif len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
                stem = stem[:-1]  # "running" -> "runn" -> "run"
            return stem
    return word


def _terms(text: str) -> list[str]:
    words = _WORD_RE.findall(text.lower().replace("\u2019", "'"))
    return [_stem(w.split("'")[0]) for w in words if w not in _STOPWORDS]


@dataclass(slots=True)
class _Candidate:
    sentence: str
    n: int
    rank: int
    position: int
    terms: frozenset[str]
    lexical: float = 0.0
    cosine: float = 0.0
    score: float = 0.0
    vector: np.ndarray | None = None


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


def _format(chosen: list[_Candidate]) -> str:
    lines = [EXTRACTIVE_LABEL, ""]
    lines.extend(f"- {c.sentence} [{c.n}]" for c in chosen)
    return "\n".join(lines)


def extractive_answer(
    question: str,
    passages: Sequence[Passage],
    *,
    embed: Callable[[Sequence[str]], np.ndarray] | None,
    max_sentences: int = 4,
) -> str:
    """Answer ``question`` with up to ``max_sentences`` sentences copied from ``passages``.

    ``embed`` (e.g. ``Embedder.embed_documents``) adds cosine similarity to the lexical
    score; it is called once, blocking, with the question followed by candidate sentences.
    If it fails, lexical scoring alone is used.
    """
    ranked = sorted(passages, key=lambda p: p.score, reverse=True)
    candidates: list[_Candidate] = []
    for rank, passage in enumerate(ranked):
        for position, sentence in enumerate(split_sentences(passage.text)):
            terms = frozenset(_terms(sentence))
            if len(sentence.split()) < _MIN_WORDS or not terms:
                continue  # headings, page numbers, fragments
            candidates.append(_Candidate(sentence, passage.n, rank, position, terms))
    if not candidates:
        return f"{EXTRACTIVE_LABEL}\n\n{NO_ANSWER_TEXT}"

    question_terms = Counter(_terms(question))
    _lexical_scores(question_terms, candidates)

    def prior(c: _Candidate) -> float:
        # Earlier passages (better retrieval rank) and earlier sentences get a small boost.
        return 1.0 / (1.0 + c.rank) + 0.1 / (1.0 + c.position)

    use_cosine = False
    if embed is not None:
        candidates.sort(key=lambda c: c.lexical + 0.3 * prior(c), reverse=True)
        candidates = candidates[:_MAX_EMBED_CANDIDATES]
        use_cosine = _cosine_scores(question, candidates, embed)

    for c in candidates:
        if use_cosine:
            c.score = 0.45 * c.lexical + 0.40 * max(c.cosine, 0.0) + 0.15 * prior(c)
        else:
            c.score = 0.75 * c.lexical + 0.25 * prior(c)

    candidates.sort(key=lambda c: c.score, reverse=True)
    best = candidates[0].score
    chosen: list[_Candidate] = []
    for c in candidates:
        if len(chosen) >= max_sentences:
            break
        # Keep the best sentence always; later ones must be reasonably relevant.
        if chosen and (c.score < 0.5 * best or (c.lexical == 0.0 and c.cosine < 0.3)):
            break
        if any(
            c.sentence == o.sentence
            or _jaccard(c.terms, o.terms) >= _DUP_JACCARD
            or (
                c.vector is not None
                and o.vector is not None
                and float(c.vector @ o.vector) >= _DUP_COSINE
            )
            for o in chosen
        ):
            continue
        chosen.append(c)
    return _format(chosen)

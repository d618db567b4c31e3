"""The title and key terms of a document's opening text, for questions without a language model.

There is no tagger. The text's language is guessed from its stop words (the ``stop-words``
package's lists; for English the closed-class words of ``words.toml``, because the package's
English list also holds nouns such as "system", "information" and "computer" that would cut
terms apart).
A term is a run of words between stop words, numbers, punctuation and line ends, or the end
of such a run, that the text itself marks as a term:

* words said at least twice, and at least once at the end of their run (so "cerebral white",
  always followed by "matter", is not one): "cerebral white matter", "diffusion tensor",
  "Vicksburg", "MRI";
* a single word only when used as a noun (after an article, a possessive or a preposition,
  capitalised inside a sentence, or with a noun's ending) and, in English, not a generic word
  (the package's long English list: "results", "things", "better") nor an adverb;
* to fill up a short text: words said once right after an article up to the next stop word
  ("the round pegs"), and names with "of", "de"… ("Department of Natural Resources").

A word always followed by a number is a label ("im Jahr 1961", "Draft 01"), not a topic.

The title is the first line when it is short and not a sentence ("The Crazy Ones").

Why not a keyword extractor such as YAKE: on the same texts, two in five of its terms hold
a verb, are cut out of a longer phrase or are filler ("white matter assessed", "Midi relie
Toulouse", "things"); docs/chat.md, "Why not YAKE", has the comparison.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import stop_words

MAX_TERM_WORDS = 4
TITLE_CHARS = (3, 80)
TITLE_WORDS = 12
# A line shorter than this ends where it ends (a title, an address, a list item) when the
# next one starts with a capital; a longer one is a paragraph wrapped at the page's width.
WRAPPED_LINE_CHARS = 45
HEADLINE_CHARS = 150
# Chunks repeat the end of the one before them (whole sentences).
MIN_OVERLAP_CHARS = 12
MAX_OVERLAP_CHARS = 2000
ENGLISH = "english"
_WORDS = tomllib.loads(resources.files("app.suggestions").joinpath("words.toml").read_text("utf-8"))
ENGLISH_FUNCTION_WORDS = frozenset(_WORDS["english_function_words"].split())
CALENDAR_WORDS = frozenset(_WORDS["english_calendar_words"].split())
ENGLISH_DETERMINERS = frozenset(_WORDS["english_determiners"].split())
ENGLISH_ARTICLES = frozenset(_WORDS["english_articles"].split())
GENERIC_WORDS = frozenset(_WORDS["english_generic_words"].split())
NOUNS_ENDING_IN_LY = frozenset(_WORDS["english_nouns_ending_in_ly"].split())
PLURAL_LOOKING = tuple(_WORDS["english_plural_looking_endings"].split())
NOUN_ENDINGS = tuple(_WORDS["english_noun_endings"].split())
NAME_JOINERS = frozenset(_WORDS["name_joiners"].split())
ROMAN_NUMERAL = re.compile(r"^[ivxlc]+$")
# Languages that write every noun with a capital.
CAPITALISED_NOUNS = frozenset({"german"})
_WORD = re.compile(r"[^\W\d_](?:[\w'\u2019-]*\w)?")
_SENTENCE_END = re.compile(r"[.!?:;•]|\n\s*\n")
_RUNNING_HEAD_PAGE = re.compile(r"^\d+\s+|\s+\d+$")


@cache
def _stop_words(language: str) -> frozenset[str]:
    if language == ENGLISH:
        words = ENGLISH_FUNCTION_WORDS | CALENDAR_WORDS
    else:
        words = frozenset(w.lower() for w in stop_words.get_stop_words(language) if " " not in w)
    # Text extracted from PDFs often loses its apostrophes: "theyre", "dont".
    return words | {w.replace("'", "") for w in words}


@cache
def _generic_english() -> frozenset[str]:
    return frozenset(w.lower() for w in stop_words.get_stop_words(ENGLISH)) | GENERIC_WORDS


def _adverb(word: str) -> bool:
    return word.endswith("ly") and word not in NOUNS_ENDING_IN_LY


def _adverb_or_generic(word: str) -> bool:
    return word in _generic_english() or _adverb(word)


def _comparative(word: str) -> bool:
    """A generic adjective's comparative or superlative: "longer", "largest"."""
    generic = _generic_english()
    for ending in ("er", "est"):
        if word.endswith(ending):
            stem = word[: -len(ending)]
            return stem in generic or f"{stem}e" in generic
    return False


def _plural(word: str) -> bool:
    return _singular(word) != word and not word.endswith(PLURAL_LOOKING)


def guess_language(words: Sequence[str]) -> str:
    """The language whose stop words are the most of ``words`` (English on a tie)."""
    lowered = [w.lower() for w in words[:400]]
    others = [language for language in stop_words.AVAILABLE_LANGUAGES if language != ENGLISH]
    languages: list[str] = [ENGLISH, *others]
    # max() keeps the first of equals.
    return max(languages, key=lambda language: sum(w in _stop_words(language) for w in lowered))


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    sentence_start: bool
    boundary_before: bool  # punctuation, a number or a line end between it and the word before
    shouting: bool  # on a line written in capitals
    headline: bool  # on a line in capitals or Title Case: its capitals say nothing of names
    numbered: bool  # a number follows: "Jahr 1961", "Table 2", "Level 1"

    @property
    def capitalised(self) -> bool:
        return self.text[0].isupper() and not self.headline

    @property
    def acronym(self) -> bool:
        return not self.shouting and _is_acronym(self.text)


def _is_acronym(word: str) -> bool:
    return word.isupper() and sum(c.isalpha() for c in word) >= 2


def _line_cases(text: str) -> list[tuple[bool, bool]]:
    """(in capitals, a headline) for each line of ``text``."""
    cases = []
    for line in text.split("\n"):
        letters = [c for c in line if c.isalpha()]
        shouting = len(letters) >= 8 and sum(c.isupper() for c in letters) > 0.8 * len(letters)
        long_words = [w for w in _WORD.findall(line) if len(w) >= 4]
        title_case = (
            len(line) <= HEADLINE_CHARS
            and len(long_words) >= 2
            and sum(w[0].isupper() for w in long_words) >= 0.75 * len(long_words)
        )
        cases.append((shouting, shouting or title_case))
    return cases


def _tokens(text: str) -> list[_Token]:
    cases = _line_cases(text)
    tokens: list[_Token] = []
    previous_end = 0
    line = 0
    for match in _WORD.finditer(text):
        gap = text[previous_end : match.start()]
        line_start = text.rfind("\n", 0, previous_end) + 1
        line_ended = (
            "\n" in gap
            and previous_end - line_start < WRAPPED_LINE_CHARS
            and not match.group()[0].islower()
        )
        line += gap.count("\n")
        tokens.append(
            _Token(
                text=match.group().replace("\u2019", "'"),
                start=match.start(),
                sentence_start=not tokens or bool(_SENTENCE_END.search(gap)),
                boundary_before=not tokens or bool(gap.strip()) or line_ended,
                shouting=cases[line][0],
                headline=cases[line][1],
                numbered=text[match.end() : match.end() + 3].lstrip(" ")[:1].isdigit(),
            )
        )
        previous_end = match.end()
    return tokens


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass
class _Candidate:
    key: tuple[str, ...]
    first: int  # where it is first said
    count: int = 0
    heads: int = 0  # times said at the end of its run (not inside a longer term)
    alone: int = 0  # times said as the whole run
    numbered: int = 0  # times followed by a number
    noun: bool = False  # said at least once in a noun's place
    phrase: bool = False  # said at least once as all the words between an article and a stop
    named: bool = False  # capitalised inside a sentence, an acronym, or a name with "of"…
    lowercase: bool = False  # also written in small letters ("MODEL", "model")
    early: bool = False  # in the first line
    capitalised_head: bool = False  # its last word written with a capital at least once
    # How it is written, whether at the start of a sentence, whether on a headline.
    forms: Counter[tuple[tuple[str, ...], bool, bool]] = field(default_factory=Counter)

    @property
    def name(self) -> bool:
        return self.named and not self.lowercase

    def score(self) -> float:
        size = len(self.key)
        if size == 1:
            return 0.7 * (self.alone + 1.5 * self.early + 3 * self.name)
        return self.heads * (1 + 0.6 * (size - 1)) + 1.5 * self.early + 1.5 * self.name

    def surface(self) -> str:
        """How it is written most often; a common noun without the capitals that starting
        a sentence or a Title Case headline gave it."""
        written: Counter[str] = Counter()
        for (words, sentence_start, headline), times in self.forms.items():
            if not self.name:
                lowered = range(len(words)) if headline else range(int(sentence_start))
                words = tuple(
                    w[0].lower() + w[1:] if i in lowered and not _is_acronym(w) else w
                    for i, w in enumerate(words)
                )
            written[" ".join(words)] += times
        return written.most_common(1)[0][0]


class _Terms:
    """The candidate terms of one text, counted."""

    def __init__(self, tokens: list[_Token], language: str, first_line_end: int) -> None:
        self.language = language
        self.stop = _stop_words(language)
        self.first_line_end = first_line_end
        self.candidates: dict[tuple[str, ...], _Candidate] = {}
        run: list[_Token] = []
        before: _Token | None = None
        for token in [*tokens, None]:
            ends_run = token is None or token.boundary_before or self.is_stop(token)
            if ends_run and run:
                self._add_run(run, before)
                run = []
            if token is None:
                break
            if self.is_stop(token):
                before = token
            elif token.boundary_before:
                before = None
                run = [token]
            else:
                run.append(token)
        self._add_names(tokens)

    def key(self, words: Iterable[str]) -> tuple[str, ...]:
        lowered = (w.lower() for w in words)
        if self.language == ENGLISH:
            return tuple(_singular(w) for w in lowered)
        return tuple(lowered)

    def is_stop(self, token: _Token) -> bool:
        return len(token.text) < 2 or token.text.lower() in self.stop

    def _add_run(self, run: list[_Token], before: _Token | None) -> None:
        determiners = ENGLISH_DETERMINERS if self.language == ENGLISH else self.stop
        articles = ENGLISH_ARTICLES if self.language == ENGLISH else self.stop
        before_word = before.text.lower() if before is not None else ""
        for size in range(1, MAX_TERM_WORDS + 1):
            for offset in range(len(run) - size + 1):
                head = offset + size == len(run)
                candidate = self._count(run[offset : offset + size])
                candidate.heads += head
                candidate.alone += size == len(run)
                candidate.noun |= head and before_word in determiners
                candidate.phrase |= head and offset == 0 and before_word in articles

    def _add_names(self, tokens: list[_Token]) -> None:
        """Capitalised words joined by "of", "de"…: "Department of Natural Resources"."""
        index = 0
        while index < len(tokens):
            name = self._name_at(tokens, index)
            if any(t.text in NAME_JOINERS and self.is_stop(t) for t in name):
                # (A name without a stop word was counted as a run of words already.)
                candidate = self._count(name, name=True)
                candidate.heads += 1
                candidate.alone += 1
                candidate.noun = True
            index += max(len(name), 1)

    def _name_at(self, tokens: list[_Token], index: int) -> list[_Token]:
        name: list[_Token] = []
        for token in tokens[index : index + MAX_TERM_WORDS + 2]:
            if name and token.boundary_before:
                break
            if (token.capitalised and not self.is_stop(token)) or (
                name and token.text in NAME_JOINERS
            ):
                name.append(token)
            else:
                break
        while name and name[-1].text in NAME_JOINERS:
            name.pop()
        if name and name[0].sentence_start and (len(name) < 2 or name[1].text in NAME_JOINERS):
            return []  # "Knockdown of DDX41": only a sentence's first word is capitalised
        return name

    def _count(self, words: list[_Token], *, name: bool = False) -> _Candidate:
        key = self.key(t.text for t in words)
        candidate = self.candidates.get(key)
        if candidate is None:
            candidate = self.candidates[key] = _Candidate(key=key, first=words[0].start)
        candidate.count += 1
        candidate.numbered += words[-1].numbered
        candidate.early |= words[0].start < self.first_line_end
        candidate.capitalised_head |= words[-1].text[0].isupper()
        inside_sentence = not words[0].sentence_start
        content = [t for t in words if not self.is_stop(t) and t.text not in NAME_JOINERS]
        candidate.named |= (
            name
            or all(t.acronym for t in words)
            or (all(t.capitalised for t in content) and (inside_sentence or len(content) > 1))
        )
        candidate.lowercase |= all(t.text[0].islower() for t in content)
        if not words[0].shouting:
            form = (tuple(t.text for t in words), words[0].sentence_start, words[0].headline)
            candidate.forms[form] += 1
        return candidate

    def repeated(self, candidate: _Candidate) -> bool:
        """Said twice or more, and a term by the module's rules."""
        if candidate.count < 2 or not candidate.heads or not self._well_formed(candidate):
            return False
        if self.language in CAPITALISED_NOUNS and not candidate.capitalised_head:
            return False
        if len(candidate.key) > 1:
            return self.language != ENGLISH or not _verb_in_english_phrase(candidate)
        word = candidate.key[0]
        if len(word) < 3 or not candidate.alone or ROMAN_NUMERAL.match(word):
            return False
        if candidate.numbered == candidate.count:
            return False  # a label ("im Jahr 1961", "Draft 01"), not a topic
        if self.language != ENGLISH:
            return len(word) >= 4 and (candidate.noun or candidate.name)
        if _adverb_or_generic(word) or (len(word) > 5 and word.endswith("ed")):
            return False
        return candidate.name or candidate.noun or word.endswith(NOUN_ENDINGS)

    def _well_formed(self, candidate: _Candidate) -> bool:
        """Written outside a line in capitals, and not starting or ending with "of", "de"…
        (in English text, "de la Terre" is a run of words)."""
        key = candidate.key
        return bool(candidate.forms) and key[0] not in NAME_JOINERS and key[-1] not in NAME_JOINERS

    def said_once(self, candidate: _Candidate) -> bool:
        """A phrase right after an article, or a name with "of"…, said once."""
        size = len(candidate.key)
        if candidate.count != 1 or size < 2 or not self._well_formed(candidate):
            return False
        if candidate.name and candidate.noun:
            return True
        # Elsewhere an article can come before a verb's participle ("situado").
        last = candidate.key[-1]
        if self.language != ENGLISH or _adverb_or_generic(last) or last.endswith(("ing", "ed")):
            return False
        return candidate.phrase and size <= 3


def _verb_in_english_phrase(candidate: _Candidate) -> bool:
    """A participle or a comparative at the end ("women allocated", "live longer"), an adverb
    at either end ("highly permissive"), or a plural followed by a singular, which is then
    most often a verb ("adipocytes exhibit", "females live")."""
    first, last = candidate.key[0], candidate.key[-1]
    if last.endswith("ed") or _adverb(first) or _adverb(last) or _comparative(last):
        return True
    for words, _, _ in candidate.forms:
        *before, final = (w.lower() for w in words)
        if any(_plural(w) for w in before) and not _plural(final):
            return True
    return False


def title_of(text: str) -> str | None:
    """The first line when it reads as a title: short, not a sentence, and followed by more
    text. A running head in capitals ("THE SIEGE OF VICKSBURG. 49") is given in title case,
    without its page number."""
    first, _, rest = text.strip().partition("\n")
    if not rest.strip():
        return None
    line = " ".join(first.split())
    letters = [c for c in line if c.isalpha()]
    shouting = bool(letters) and all(c.isupper() for c in letters)
    if shouting:
        line = _RUNNING_HEAD_PAGE.sub("", line).rstrip(".")
    low, high = TITLE_CHARS
    words = _WORD.findall(line)
    if not low <= len(line) <= high or not words or len(words) > TITLE_WORDS:
        return None
    # Starts with a capital, a digit or a letter of a script without case (中文, العربية).
    if line[-1] in ".,;:-" or line[0].islower() or not line[0].isalnum():
        return None
    if shouting:
        stop = _stop_words(guess_language(_WORD.findall(text)))
        line = " ".join(
            word.lower() if index and word.lower() in stop else word.capitalize()
            for index, word in enumerate(line.split())
        )
    return line


def _title_end(text: str) -> int:
    """Where the first line ends when it is a title: it reads as one, or a blank line follows
    it (a paper's title); else 0."""
    first, newline, rest = text.partition("\n")
    if title_of(text) or (newline and not rest.partition("\n")[0].strip()):
        return len(first)
    return 0


def key_terms(text: str, *, count: int, exclude: Iterable[str] = ()) -> list[str]:
    """Up to ``count`` key terms of ``text``, the best first, none repeating another's words
    or those of ``exclude`` (the title, the headings already asked about)."""
    tokens = _tokens(text)
    if not tokens:
        return []
    language = guess_language([t.text for t in tokens])
    terms = _Terms(tokens, language, _title_end(text))
    taken = [terms.key(_WORD.findall(phrase)) for phrase in exclude]
    repeated = sorted(
        (c for c in terms.candidates.values() if terms.repeated(c)),
        key=lambda c: (-c.score(), c.first),
    )
    once = sorted(
        (c for c in terms.candidates.values() if terms.said_once(c)), key=lambda c: c.first
    )
    chosen: list[str] = []
    for candidate in [*repeated, *once]:
        if len(chosen) == count:
            break
        if not any(_overlaps(candidate.key, k) for k in taken):
            chosen.append(candidate.surface())
            taken.append(candidate.key)
    return chosen


def _overlaps(key: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """The words of one among the other's ("white matter", "cerebral white matter"), or the
    same head noun ("diffusion coefficient", "apparent diffusion coefficient")."""
    if not key or not other:
        return False
    short, long = sorted((key, other), key=len)
    return key[-1] == other[-1] or set(short) <= set(long)


def stitched(texts: Iterable[str], *, limit: int) -> str:
    """The first ``limit`` characters of consecutive chunks' texts, without the sentences a
    chunk repeats from the one before it (which would make each phrase in them look said
    twice). Chunks that do not overlap (a new section) are separate paragraphs."""
    joined = ""
    for text in texts:
        if len(joined) >= limit:
            break
        longest = min(len(joined), len(text), MAX_OVERLAP_CHARS)
        overlap = next(
            (n for n in range(longest, MIN_OVERLAP_CHARS - 1, -1) if joined.endswith(text[:n])), 0
        )
        joined = joined + text[overlap:] if overlap else "\n\n".join(filter(None, (joined, text)))
    return joined[:limit]

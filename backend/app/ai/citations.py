"""Citation-marker checking and numbering for (streamed) answers.

The language model is asked to cite sources as ``[n]``, ``[n, m]`` or ``[n][m]`` where
``n`` is the number of a source passage that was actually shown to it. Models sometimes
invent numbers; those markers must never reach the user. This module removes them:

* a group whose numbers are all valid passes through unchanged (``[1, 2]`` stays as written);
* invalid numbers inside a group are dropped and the group is kept if any remain
  (``[1, 9]`` -> ``[1]``), rewritten as ``[a, b]``;
* a group with no valid number disappears together with one preceding space
  (``"True [9]."`` -> ``"True."``); adjacent groups are handled as one run
  (``"True [9][1]."`` and ``"True [9] [1]."`` -> ``"True [1]."``).

The sources shown to the model are numbered in retrieval order, and an answer rarely cites
them all, so the numbers a reader would see skip (``[1] [3] [4]``). The markers that remain
are therefore renumbered in the order the answer first cites them: the first source cited is
``[1]``, the next new one ``[2]``, and so on (``"A [3]. B [1, 3]."`` -> ``"A [1]. B [2, 1]."``).
``cited`` lists the shown numbers in that order, so source ``cited[i]`` is marker ``[i + 1]``.

:class:`CitationFilter` does this incrementally on streamed deltas and gives exactly the
same result as :func:`clean_markers` on the whole text, whatever way the text was
split. It holds back only what might still turn into or affect a marker: a trailing
``"[12"`` / ``"[1, "``, a single trailing space (which might precede a marker to be
removed) and complete markers at the very end (a following marker joins their run).
"""

from __future__ import annotations

import re
from collections.abc import Collection

__all__ = ["CitationFilter", "clean_markers"]

# One bracket group: "[1]", "[1,2]", "[ 1 , 2 ]". Only spaces (not newlines) inside.
_GROUP = r"\[ *\d{1,6}(?: *, *\d{1,6})* *\]"
# A run of adjacent groups ("[1][2]", "[1] [2]") is cleaned as a unit.
_RUN_RE = re.compile(r"(?P<space> ?)(?P<run>" + _GROUP + r"(?: ?" + _GROUP + r")*)")
_GROUP_IN_RUN_RE = re.compile(r"(?P<sep> ?)(?P<group>" + _GROUP + r")")
# A tail that could still become a group once more text arrives ("[", "[12", "[1, ", "[1 ,2 ").
_PARTIAL_RE = re.compile(r"\[ *(?:\d{1,6} *(?:, *(?:\d{1,6} *)?)*)?")
_NUM_RE = re.compile(r"\d+")
_GROUP_AT_END_RE = re.compile(r" ?" + _GROUP + r"$")


class _Cleaner:
    """Applies the marker rules to complete text segments and tracks cited numbers."""

    def __init__(self, valid: Collection[int]) -> None:
        self._valid = frozenset(int(v) for v in valid)
        self.cited: list[int] = []
        self._shown_as: dict[int, int] = {}  # shown number -> number in the answer

    def _clean_group(self, group: str) -> str:
        numbers = [int(n) for n in _NUM_RE.findall(group)]
        kept: list[int] = []
        for n in numbers:
            if n in self._valid and n not in kept:
                kept.append(n)
        for n in kept:
            if n not in self._shown_as:
                self.cited.append(n)
                self._shown_as[n] = len(self.cited)
        if not kept:
            return ""
        if len(kept) == len(numbers):  # all valid: keep the model's own formatting
            return _NUM_RE.sub(lambda m: str(self._shown_as[int(m.group())]), group)
        return "[" + ", ".join(str(self._shown_as[n]) for n in kept) + "]"

    def _replace(self, match: re.Match[str]) -> str:
        pieces: list[str] = []
        for g in _GROUP_IN_RUN_RE.finditer(match.group("run")):
            cleaned = self._clean_group(g.group("group"))
            if cleaned:
                # The first surviving group takes the run's leading space.
                pieces.append((g.group("sep") if pieces else "") + cleaned)
        if not pieces:
            return ""  # the whole run disappears, with one preceding space
        return match.group("space") + "".join(pieces)

    def clean(self, text: str) -> str:
        if "[" not in text:
            return text
        return _RUN_RE.sub(self._replace, text)


def clean_markers(text: str, valid: Collection[int]) -> tuple[str, list[int]]:
    """Remove citation markers whose numbers are not in ``valid`` and renumber the others in
    first-use order.

    Returns the cleaned text and the valid source numbers cited, in first-use order (the
    source cited as ``[i + 1]`` in the text is the one shown as ``cited[i]``).
    """
    cleaner = _Cleaner(valid)
    return cleaner.clean(text), cleaner.cited


def _holdback_start(buf: str) -> int:
    """Index from which ``buf`` must be held back because it may still become a marker."""
    start = len(buf)
    bracket = buf.rfind("[")
    if bracket != -1 and _PARTIAL_RE.fullmatch(buf, bracket):
        start = bracket
    # One space right before a (possible) marker belongs to it: it is removed with it.
    if start > 0 and buf[start - 1] == " ":
        start -= 1
    # Complete groups right before the held-back part (or at the very end) may be joined
    # by a following group into one run, so hold them back too.
    while start > 0 and buf[start - 1] == "]":
        m = _GROUP_AT_END_RE.search(buf, 0, start)
        if m is None:
            break
        start = m.start()
    return start


class CitationFilter:
    """Incremental marker filter: feed text deltas, get cleaned, renumbered deltas back.

    >>> f = CitationFilter({1, 2})
    >>> f.feed("Water boils [") + f.feed("7] at 100 °C [2") + f.feed("].") + f.flush()
    'Water boils at 100 °C [1].'
    >>> f.cited
    [2]
    """

    def __init__(self, valid: Collection[int]) -> None:
        self._cleaner = _Cleaner(valid)
        self._buf = ""

    @property
    def cited(self) -> list[int]:
        """Shown source numbers actually emitted so far, in first-use order: the one
        emitted as ``[i + 1]`` is ``cited[i]``."""
        return self._cleaner.cited

    def feed(self, delta: str) -> str:
        """Add a delta; return the cleaned text that is safe to emit now (may be empty)."""
        if not delta:
            return ""
        buf = self._buf + delta
        cut = _holdback_start(buf)
        self._buf = buf[cut:]
        return self._cleaner.clean(buf[:cut])

    def flush(self) -> str:
        """Return whatever is still held back (an unfinished ``"[12"`` is emitted as text)."""
        buf, self._buf = self._buf, ""
        return self._cleaner.clean(buf)

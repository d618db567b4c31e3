"""Citation-marker filtering and numbering, whole-text and streamed (any split gives the same
result)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ai.citations import CitationFilter, clean_markers

VALID = {1, 2, 3}


@pytest.mark.parametrize(
    ("text", "expected", "cited"),
    [
        ("Water boils at 100 °C [1].", "Water boils at 100 °C [1].", [1]),
        ("Water boils at 100 °C [7].", "Water boils at 100 °C.", []),
        ("A [1, 2] and B [2,3].", "A [1, 2] and B [2,3].", [1, 2, 3]),
        ("A [1, 9].", "A [1].", [1]),
        ("A [9, 2, 8].", "A [1].", [2]),
        ("A [8, 9].", "A.", []),
        ("A [1][9].", "A [1].", [1]),
        ("A [9][1].", "A [1].", [1]),
        ("A [9] [1].", "A [1].", [1]),
        ("A [9][8] and B.", "A and B.", []),
        ("A [1, 1, 2].", "A [1, 2].", [1, 2]),
        ("B [2] then A [1] then B [2].", "B [1] then A [2] then B [1].", [2, 1]),
        # numbered as cited: the sources shown as 1 and 3 become 1 and 2
        ("A [1]. B [3]. C [3][1].", "A [1]. B [2]. C [2][1].", [1, 3]),
        ("A [3, 1] and [ 2 ].", "A [1, 2] and [ 3 ].", [3, 1, 2]),
        ("A [3, 9, 1].", "A [1, 2].", [3, 1]),
        # not markers: left alone
        ("See [Smith 2019] and x[i] and [a].", "See [Smith 2019] and x[i] and [a].", []),
        ("Unclosed [12", "Unclosed [12", []),
        ("Array [ 1 ] ok", "Array [ 1 ] ok", [1]),
        ("Array [ 2 ] ok", "Array [ 1 ] ok", [2]),
        ("Two spaces  [9] here", "Two spaces  here", []),
        ("[9] at start", " at start", []),
        ("", "", []),
    ],
)
def test_clean_markers(text: str, expected: str, cited: list[int]) -> None:
    assert clean_markers(text, VALID) == (expected, cited)


def _stream(text: str, cuts: list[int], valid: set[int]) -> tuple[str, list[int]]:
    f = CitationFilter(valid)
    out = []
    prev = 0
    for cut in [*sorted(cuts), len(text)]:
        out.append(f.feed(text[prev:cut]))
        prev = cut
    out.append(f.flush())
    return "".join(out), f.cited


def test_holds_back_possible_marker_only() -> None:
    f = CitationFilter({1})
    assert f.feed("Paris is the capital") == "Paris is the capital"
    assert f.feed(" [") == ""  # could become an invalid marker (and its space removed)
    assert f.feed("4") == ""
    assert f.feed("]. It is") == ". It is"
    assert f.feed(" big [1") == " big"
    assert f.feed("]") == ""  # a following "[9]" would change nothing, "[" might
    assert f.feed(" ") == ""
    assert f.feed("yes") == " [1] yes"
    assert f.flush() == ""
    assert f.cited == [1]


def test_flush_emits_unfinished_marker_as_text() -> None:
    f = CitationFilter({1})
    assert f.feed("The value is [12") == "The value is"
    assert f.flush() == " [12"


_ALPHABET = st.sampled_from([*list("ab [],1234 5.\n"), "[1]", "[4]", "[1, 4]", "[2][9]", " [3"])


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(_ALPHABET, max_size=40),
    valid=st.sets(st.integers(1, 5), max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_split_equals_whole_text(parts: list[str], valid: set[int], seed: int) -> None:
    text = "".join(parts)
    rng = random.Random(seed)
    cuts = rng.sample(range(len(text) + 1), k=min(len(text) + 1, rng.randint(0, 12)))
    assert _stream(text, cuts, valid) == clean_markers(text, valid)


def test_every_single_character_split() -> None:
    text = "Answer [1] and [7], also [2, 9][8] end [3"
    whole = clean_markers(text, {1, 2})
    assert whole == ("Answer [1] and, also [2] end [3", [1, 2])
    text = "Answer [2] and [7], also [2, 1][8] end [3"
    whole = clean_markers(text, {1, 2})
    assert whole == ("Answer [1] and, also [1, 2] end [3", [2, 1])
    assert _stream(text, list(range(len(text))), {1, 2}) == whole

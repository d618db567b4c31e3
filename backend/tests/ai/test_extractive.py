"""The extractive answerer: verbatim sentences, cited, most relevant first, no duplicates."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import numpy as np
import pytest
from markdown_it import MarkdownIt

from app.ai.citations import clean_markers
from app.ai.extractive import (
    NO_ANSWER_TEXT,
    ExtractiveAnswer,
    NumberedText,
    _markdown_literal,
    extractive_answer,
)
from app.ai.sentences import sentence_text, split_sentences

PHOTOSYNTHESIS = """Photosynthesis converts light energy into chemical energy. In plants, it takes \
place in the chloro-
plasts, e.g. in the leaf mesophyll (Fig. 3). The rate was 3.5 times higher at 25 °C than at \
10 °C, according to Dr. Smith et al. (2019). Most inter-
national studies agree.

Results
Carbon dioxide and water are used to make glucose and oxygen. Oxygen is released as a \
by-product!  Is it efficient? Only about 1-2% of sunlight is stored."""

CALVIN = (
    "The Calvin cycle fixes carbon dioxide into sugars. It occurs in the stroma of the "
    "chloroplast. Photosynthesis converts light energy into chemical energy in plants."
)
EIFFEL = "The Eiffel Tower is in Paris, France. It was completed in 1889 for the World's Fair."

PASSAGES = [
    NumberedText(2, PHOTOSYNTHESIS, 0.82),
    NumberedText(5, CALVIN, 0.61),
    NumberedText(7, EIFFEL, 0.2),
]


def _answer_lines(
    answer: ExtractiveAnswer, passages: Sequence[NumberedText] = PASSAGES
) -> list[tuple[str, int]]:
    """The quoted sentences, best first, each checked to be in the answer's text with the
    marker of its passage."""
    by_n = {p.n: p for p in passages}
    out = []
    for quote in answer.quotes:
        sentence = sentence_text(by_n[quote.n].text[quote.start : quote.end])
        paragraph = next(p for p in answer.text.split("\n\n") if sentence in p)
        assert paragraph.endswith(f"[{quote.n}]"), answer.text
        out.append((sentence, quote.n))
    return out


def _normalised_sentences(passage: NumberedText) -> set[str]:
    return set(split_sentences(passage.text))


def test_split_sentences_handles_abbreviations_decimals_hyphenation_and_headings() -> None:
    assert split_sentences(PHOTOSYNTHESIS) == [
        "Photosynthesis converts light energy into chemical energy.",
        "In plants, it takes place in the chloroplasts, e.g. in the leaf mesophyll (Fig. 3).",
        "The rate was 3.5 times higher at 25 °C than at 10 °C, according to Dr. Smith et al. "
        "(2019).",
        "Most international studies agree.",
        "Results",
        "Carbon dioxide and water are used to make glucose and oxygen.",
        "Oxygen is released as a by-product!",
        "Is it efficient?",
        "Only about 1-2% of sunlight is stored.",
    ]


def test_split_sentences_more_edge_cases() -> None:
    text = (
        'He said "Stop." Then he left. The U.S. economy grew by approx. three percent, '
        "i.e. more than expected. J. R. R. Tolkien wrote it in Vol. 2 on p. 45. "
        "See Sec. 4.2 for details… Next point."
    )
    assert split_sentences(text) == [
        'He said "Stop."',
        "Then he left.",
        "The U.S. economy grew by approx. three percent, i.e. more than expected.",
        "J. R. R. Tolkien wrote it in Vol. 2 on p. 45.",
        "See Sec. 4.2 for details…",
        "Next point.",
    ]


def test_answer_is_verbatim_cited_and_relevant_first() -> None:
    answer = extractive_answer(
        "Where does photosynthesis take place in plants?", PASSAGES, embed=None
    )
    lines = _answer_lines(answer)
    assert lines[0] == (
        "In plants, it takes place in the chloroplasts, e.g. in the leaf mesophyll (Fig. 3).",
        2,
    )
    by_n = {p.n: _normalised_sentences(p) for p in PASSAGES}
    for sentence, n in lines:
        assert sentence in by_n[n]  # copied verbatim from the passage it cites
    assert all(n != 7 for _, n in lines)  # the Eiffel Tower is irrelevant
    # Markers are valid for the citation checker, which only renumbers them as cited.
    cleaned, cited = clean_markers(answer.text, {p.n for p in PASSAGES})
    assert cited == list(dict.fromkeys(n for _, n in lines))
    assert cited[0] == 2
    shown_as = {n: i for i, n in enumerate(cited, start=1)}
    assert cleaned == re.sub(r"\[(\d+)\]", lambda m: f"[{shown_as[int(m[1])]}]", answer.text)


def test_no_near_duplicates() -> None:
    answer = extractive_answer(
        "What does photosynthesis convert light energy into?", PASSAGES, embed=None
    )
    sentences = [s for s, _ in _answer_lines(answer)]
    converts = [s for s in sentences if s.startswith("Photosynthesis converts")]
    assert len(converts) == 1, sentences  # [2] and [5] say the same thing
    assert len(sentences) == len(set(sentences))


def test_max_sentences_and_specific_question() -> None:
    answer = extractive_answer("What gas is released as a by-product?", PASSAGES, embed=None)
    lines = _answer_lines(answer)
    assert lines[0] == ("Oxygen is released as a by-product!", 2)
    answer = extractive_answer("photosynthesis", PASSAGES, embed=None, max_sentences=1)
    assert len(_answer_lines(answer)) == 1


def test_passage_rank_breaks_ties() -> None:
    a = NumberedText(1, "The warranty covers parts and labour for two years.", 0.3)
    b = NumberedText(4, "The warranty covers parts and labour for three years.", 0.9)
    lines = _answer_lines(
        extractive_answer("How long is the warranty?", [a, b], embed=None), [a, b]
    )
    assert lines[0][1] == 4


def test_embedding_similarity_is_used_and_failures_fall_back() -> None:
    passages = [
        NumberedText(1, "The committee met on Tuesday to review the budget for next year.", 0.5),
        NumberedText(2, "Felines sleep for most of the day, often up to sixteen hours.", 0.5),
    ]
    calls: list[Sequence[str]] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(texts)
        # A toy semantic space: "cats"/"felines" and "sleep"/"rest" are synonyms.
        vocab = {"cat": 0, "feline": 0, "sleep": 1, "rest": 1, "budget": 2, "committee": 3}
        out = np.zeros((len(texts), 5), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, 4] = 0.1
            for word in re.findall(r"[a-z]+", t.lower()):
                for key, dim in vocab.items():
                    if word.startswith(key):
                        out[i, dim] += 1
        return out

    answer = extractive_answer("How long do cats rest?", passages, embed=embed)
    lines = _answer_lines(answer, passages)
    assert lines[0] == ("Felines sleep for most of the day, often up to sixteen hours.", 2)
    assert calls
    assert calls[0][0] == "How long do cats rest?"

    def broken(texts: Sequence[str]) -> np.ndarray:
        raise RuntimeError("embedding service down")

    answer = extractive_answer("When did the committee meet?", passages, embed=broken)
    assert _answer_lines(answer, passages)[0][1] == 1


def test_no_usable_passages() -> None:
    answer = extractive_answer("Anything?", [NumberedText(1, "Page 3", 0.1)], embed=None)
    assert answer == ExtractiveAnswer(NO_ANSWER_TEXT, ())
    assert extractive_answer("Anything?", [], embed=None).text == NO_ANSWER_TEXT


@pytest.mark.parametrize(
    "sentence",
    [
        "+",
        "+ +",
        "+ Growth was strong in the north.",
        "+5 % more than last year.",
        "- Costs fell.",
        "* Starred note.",
        "1) The first step.",
        "12. The twelfth rule.",
        "> A quoted line.",
        ">A quoted line.",
        "# Not a heading.",
        "Rates_a*b in `code` and a \\ backslash.",
    ],
)
def test_a_quoted_sentence_renders_as_itself(sentence: str) -> None:
    """A sentence that starts like a bullet, a numbered item, a quote or a heading stays text
    (a "+" alone or "+ +" was an empty bullet)."""
    rendered = MarkdownIt("commonmark").render(f"{_markdown_literal(sentence)} [1]")
    assert rendered == f"<p>{html.escape(sentence, quote=False)} [1]</p>\n"

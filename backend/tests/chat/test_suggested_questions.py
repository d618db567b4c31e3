"""Suggested questions without a language model, on real text: a document's title and the
key terms of its opening text, never its frequent verbs or filler, nor its file's name.
(The API and the PDFs of the corpus through the whole pipeline: test_organise.py.)"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from app.suggestions.service import MAX_QUESTIONS, questions_from_outline
from app.suggestions.topics import guess_language, key_terms, stitched, title_of
from tests.conftest import SHARED

SCIFACT = SHARED / "bench" / "scifact" / "corpus.jsonl"
ABOUT = "What does the document say about "

CANAL_DU_MIDI = """Le canal du Midi

Le canal du Midi relie Toulouse à la mer Méditerranée. Construit entre 1666 et 1681 sous \
la direction de Pierre-Paul Riquet, le canal du Midi est l'un des plus anciens canaux \
d'Europe encore en service. Il permet aux bateaux de franchir le seuil de Naurouze grâce à un \
système d'alimentation en eau conçu par Riquet : les rigoles de la Montagne Noire conduisent \
l'eau vers le bassin de Saint-Ferréol. Aujourd'hui, le canal accueille surtout la navigation \
de plaisance. Les écluses du canal, souvent de forme ovale, résistent mieux à la poussée des \
terres. Depuis 1996, le canal est inscrit sur la liste du patrimoine mondial de l'UNESCO, qui \
reconnaît la qualité des écluses et des ouvrages d'art."""

BERLINER_S_BAHN = """Die Geschichte der Berliner S-Bahn

Die Berliner S-Bahn ist ein Nahverkehrssystem in Berlin und Brandenburg. Die ersten \
elektrischen Züge fuhren im Jahr 1924 zwischen dem Stettiner Bahnhof und Bernau. Nach dem Bau \
der Mauer im Jahr 1961 wurde das Netz der S-Bahn geteilt. Viele Berliner im Westen \
boykottierten die S-Bahn, weil sie von der Deutschen Reichsbahn der DDR betrieben wurde. Erst \
nach der Wiedervereinigung wurden die getrennten Strecken wieder verbunden. Heute befördert \
die S-Bahn jeden Tag mehr als eine Million Fahrgäste, und die Züge der S-Bahn fahren auf \
einem Netz von über 340 Kilometern."""

ALHAMBRA = """La Alhambra es un conjunto de palacios y fortalezas situado en Granada. Fue \
construida por la dinastía nazarí entre los siglos XIII y XIV. Los palacios nazaríes son la \
parte más visitada de la Alhambra. El Patio de los Leones, con su fuente de doce leones, es \
el lugar más famoso de los palacios nazaríes. Los jardines del Generalife rodean la \
Alhambra."""


def scifact(doc_id: str) -> str:
    """A SciFact abstract as a text file of it reads: the title, a blank line, the text."""
    with SCIFACT.open(encoding="utf-8") as corpus:
        for line in corpus:
            document = json.loads(line)
            if document["_id"] == doc_id:
                return f"{document['title']}\n\n{document['text']}"
    raise AssertionError(f"SciFact document {doc_id} not found")


def plain(text: str) -> list[tuple[Sequence[str], str]]:
    """One chunk without headings (text, Markdown without #, a PDF)."""
    return [((), text)]


def topics(questions: list[str]) -> list[str]:
    assert all(q.startswith(ABOUT) and q.endswith("?") for q in questions), questions
    return [q.removeprefix(ABOUT).removesuffix("?") for q in questions]


def test_an_abstract_without_headings_asks_about_its_key_terms() -> None:
    """The old fallback asked about its frequent single words: "white", "matter",
    "diffusion", "infants"."""
    questions = questions_from_outline(plain(scifact("4983")))
    assert topics(questions) == [
        "white matter",
        "apparent diffusion coefficient",
        "magnetic resonance imaging",
        "relative anisotropy",
    ]


@pytest.mark.parametrize(
    ("doc_id", "expected"),
    [
        # Old: "transcription", "transcript", "reverse", "elements".
        (
            "7912",
            ["reverse transcription", "BC1 RNA gene", "element amplification", "rodent genomes"],
        ),
        # Old: "therapeutic", "chemical", "approaches", "biology".
        (
            "502797",
            ["stem cell biology", "chemical approaches", "small molecules", "full realization"],
        ),
        (
            "29124963",
            [
                "EML4-ALK fusion genes",
                "lung adenocarcinoma patients",
                "wild-type EGFR",
                "non-small cell lung cancer",
            ],
        ),
        # Verbs after a plural ("adipocytes exhibit") are not terms.
        ("2130391", ["cancer cells", "IL-6", "surrounding adipocytes", "CAA"]),
    ],
)
def test_more_abstracts(doc_id: str, expected: list[str]) -> None:
    assert topics(questions_from_outline(plain(scifact(doc_id)))) == expected


def test_a_title_line_is_asked_about_first() -> None:
    """A paper whose title is a short line without a full stop."""
    questions = questions_from_outline(plain(scifact("18670")))
    assert questions[0] == (
        "What is “The DNA Methylome of Human Peripheral Blood Mononuclear Cells” about?"
    )
    assert topics(questions[1:]) == ["ASM", "ASE", "human PBMC"]


def test_very_short_documents_get_few_questions_or_none() -> None:
    """Nothing to ask about gives no question (the old fallback asked about the file's name);
    a short text's noun phrase after an article is enough."""
    assert questions_from_outline(plain("The lamp is trimmed at dawn.")) == []
    assert questions_from_outline(plain("Minutes")) == []
    assert questions_from_outline([]) == []
    assert questions_from_outline(
        plain("The harbour lamp is trimmed at dawn.\n\nThe horn sounds twice a minute in fog.")
    ) == [f"{ABOUT}harbour lamp?"]


@pytest.mark.parametrize(
    ("text", "language", "title", "expected"),
    [
        (CANAL_DU_MIDI, "french", "Le canal du Midi", ["Riquet", "écluses"]),
        (
            BERLINER_S_BAHN,
            "german",
            "Die Geschichte der Berliner S-Bahn",
            # Not "Jahr" ("im Jahr 1924", "im Jahr 1961": a label before a number), not
            # "wurde" (German nouns are capitalised).
            ["Netz", "Züge", "Stettiner Bahnhof"],
        ),
        (ALHAMBRA, "spanish", None, ["Alhambra", "palacios nazaríes", "Leones"]),
    ],
)
def test_other_languages_use_their_own_stop_words(
    text: str, language: str, title: str | None, expected: list[str]
) -> None:
    assert guess_language(text.split()) == language
    questions = questions_from_outline(plain(text))
    if title is not None:
        assert questions[0] == f"What is “{title}” about?"
        questions = questions[1:]
    assert topics(questions) == expected
    assert len(questions_from_outline(plain(text))) <= MAX_QUESTIONS


def test_a_title_in_a_script_without_capitals() -> None:
    """No stop words known to match, no question made up; the title line still counts."""
    assert questions_from_outline(
        plain("港口指南\n\n渡轮每周四黎明从码头出发。灯塔在1911年被漆成红白两色。")
    ) == ["What is “港口指南” about?"]
    assert title_of("the lower case line\nand more text here.") is None


def test_headings_come_first_and_terms_do_not_repeat_them() -> None:
    chunks: list[tuple[Sequence[str], str]] = [
        (("Quillomere harbour guide",), "Quillomere harbour guide"),
        (
            ("Quillomere harbour guide", "Ferries"),
            "Ferries\n\nThe quillomere ferries leave the brantwhistle pier at dawn every Thursday.",
        ),
        (
            ("Quillomere harbour guide", "Lighthouse"),
            "Lighthouse\n\nThe osskerry lighthouse was painted red and white in 1911.",
        ),
    ]
    assert questions_from_outline(chunks) == [
        "What is “Quillomere harbour guide” about?",
        f"{ABOUT}Ferries?",
        f"{ABOUT}Lighthouse?",
        # Not "quillomere ferries" nor "osskerry lighthouse": their sections are asked about.
        f"{ABOUT}brantwhistle pier?",
    ]


def test_a_running_head_in_capitals_is_a_title_in_title_case() -> None:
    text = "THE SIEGE OF VICKSBURG. 49\nThe mortar shells flew over the hill at dawn."
    assert title_of(text) == "The Siege of Vicksburg"
    # A sentence is not a title, nor is a line with nothing after it.
    assert title_of("The lamp is trimmed at dawn.\nThe horn sounds.") is None
    assert title_of("The Crazy Ones") is None


def test_chunk_overlap_does_not_make_a_phrase_look_repeated() -> None:
    """Each chunk repeats the last sentences of the one before it: said once is once."""
    first = "The ferry leaves at dawn. Then the harbour master rings the old bell."
    second = "Then the harbour master rings the old bell. Gulls follow the ferry."
    joined = stitched([first, second], limit=1000)
    assert joined == (
        "The ferry leaves at dawn. Then the harbour master rings the old bell. "
        "Gulls follow the ferry."
    )
    assert key_terms(joined, count=4) == ["ferry", "old bell"]
    # Read twice, the overlap's words would look like a term.
    assert key_terms(f"{first} {second}", count=1) == ["harbour master rings"]
    assert stitched(["Ferries", "Lighthouse"], limit=1000) == "Ferries\n\nLighthouse"
    assert stitched([first, second], limit=9) == "The ferry"

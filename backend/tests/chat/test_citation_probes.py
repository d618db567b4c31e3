"""Citations a reader can verify, over every PDF of the shared corpus.

Each probe is a question whose answer was found by hand on a page of the PDF (checked with
``pdftotext -f N -l N``; the page is the PDF's page index, as the viewer shows it, not the
number printed on the page). For every probe the top search hit must name that page, and
the extractive answer should quote the answering sentence. No answer and no indexed passage
may contain a running header or footer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from tests.chat.test_chat import answer_text, ask, by_type, new_chat
from tests.conftest import CORPUS, register, upload, wait_until_settled

GEOBASE = "GeoBase_NHNC1_Data_Model_UML_EN.pdf"
VICKSBURG = "Seige_of_Vicksburg_Sample_OCR.pdf"
CRAZY = "crazyones.pdf"
EXAMPLE = "example.pdf"


@dataclass(frozen=True)
class Probe:
    question: str
    filename: str
    page: int
    # A part of the answering sentence as the answer quotes it (whitespace collapsed).
    answer: str


PROBES = [
    Probe(
        "Which approach is considered the most viable for managing and distributing "
        "geospatial information?",
        GEOBASE,
        6,
        "The Linear Reference System (LRS) is considered the most viable approach",
    ),
    Probe(
        "What two levels of information must the data model contain?",
        GEOBASE,
        6,
        "two levels of information: mandatory data (black boxes) and optional data",
    ),
    Probe(
        "How is a Linear Event defined?",
        GEOBASE,
        6,
        "a Linear Event is defined by a starting and ending measurement",
    ),
    Probe(
        "What does the Hydro Event package contain?",
        GEOBASE,
        7,
        "The Hydro Event package contains attributive information",
    ),
    Probe(
        "How many packages are described by the model presented in the Model section?",
        GEOBASE,
        8,
        "include descriptions of five packages",
    ),
    Probe(
        "How could the Hydro Network be defined explicitly for hydrographic features?",
        GEOBASE,
        14,
        "could be defined explicitly through spatial analysis",
    ),
    Probe(
        "Which department holds the copyright?",
        GEOBASE,
        2,
        "Her Majesty the Queen in Right of Canada",
    ),
    Probe(
        "Where were the inhabitants of Vicksburg living during the siege?",
        VICKSBURG,
        1,
        "the inhabitants are now living in caves dug out of the sides of the hills",
    ),
    Probe(
        "How many dollars a month does the head of a family draw?",
        VICKSBURG,
        2,
        "thirteen dollars a month drawn here by the head of it",
    ),
    Probe(
        "What is canister shot made of?",
        VICKSBURG,
        3,
        "shot is a tin cylinder with iron heads, filled with balls",
    ),
    Probe(
        "What happens when the long roll is sounded?",
        VICKSBURG,
        4,
        "let the long roll be sounded",
    ),
    Probe(
        "How close to Fort Hill was the regiment?",
        VICKSBURG,
        5,
        "so close to Fort Hill that a hard tack was tossed into it",
    ),
    Probe(
        "What were the rebel prisoners already familiar with?",
        VICKSBURG,
        6,
        "familiar with mule meat and scanty meal rations",
    ),
    Probe(
        "What do we make tools for?",
        CRAZY,
        1,
        "We make tools for these kinds of people.",
    ),
    Probe(
        "What should errors never do?",
        EXAMPLE,
        1,
        "Errors should never pass silently.",
    ),
]

# Running headers and footers of the corpus (as printed, OCR errors included).
FURNITURE = [
    re.compile(r"National Hydro Network, Data Model . Edition 1\.0 2004-06"),
    re.compile(r"GeoBase® (?:\d+|[ivx]+)\b"),
    re.compile(r"THE SIEGE O[FP] VICKSBU[RE]G\.?\s*\d+|\d+ THE SIEGE O[FP] VICKSBU[RE]G"),
]
MIN_QUOTED = 10


def _flat(text: str) -> str:
    return " ".join(text.replace("\\", "").split())


@pytest.fixture
async def corpus(worker_client: httpx.AsyncClient) -> dict[str, str]:
    """Every PDF of the corpus, uploaded by one user; the broken ones fail."""
    headers = await register(worker_client)
    for path in sorted(CORPUS.glob("*.pdf")):
        document = (
            await upload(worker_client, headers, (path.name, path.read_bytes(), "application/pdf"))
        ).json()[0]
        settled = await wait_until_settled(worker_client, headers, document["id"])
        assert settled["status"] == ("failed" if path.name.startswith("bad-") else "ready")
    return headers


async def test_probes_cite_the_answer_page_and_quote_the_answer(
    worker_client: httpx.AsyncClient, corpus: dict[str, str]
) -> None:
    headers = corpus
    rows = []
    for probe in PROBES:
        search = await worker_client.post(
            "/api/v1/search", headers=headers, json={"query": probe.question, "k": 5}
        )
        top = search.json()["results"][0]
        chat_id = await new_chat(worker_client, headers)
        _, events = await ask(worker_client, headers, chat_id, probe.question)
        answer = answer_text(events)
        citations = by_type(events, "data-citations")["data"]["citations"]
        rows.append(
            {
                "probe": probe,
                "hit": (top["filename"], top["page"]),
                "quoted": _flat(probe.answer) in _flat(answer),
                "answer": answer,
                "highlight": [h["text"] for h in top["highlights"]],
                "cited_pages": [(c["filename"], c["page"]) for c in citations],
            }
        )
        for pattern in FURNITURE:
            assert not pattern.search(answer), (probe.question, answer)
            for result in search.json()["results"]:
                assert not pattern.search(result["text"]), result["text"]
    report = "\n".join(
        f"{row['probe'].filename[:12]:12} p{row['probe'].page:<3} hit={row['hit']} "
        f"quoted={row['quoted']} {row['probe'].question!r}\n    answer: {row['answer']!r}"
        for row in rows
    )
    wrong_page = [row for row in rows if row["hit"] != (row["probe"].filename, row["probe"].page)]
    assert not wrong_page, report
    assert sum(row["quoted"] for row in rows) >= MIN_QUOTED, report
    print("\n" + report)

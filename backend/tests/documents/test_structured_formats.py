"""Spreadsheets, CSV/TSV, slides and e-books end to end: upload, the real worker and parse
process, then ``POST /api/v1/search`` finds a known sentence at its location (sheet and rows,
slide, chapter), and the page and passage routes give the viewer what it shows. Hostile
files of each format fail with a sentence, and the worker goes on."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from app.core.settings import Settings
from tests.conftest import make_settings, register, upload_and_settle
from tests.structured_samples import (
    KEEPER_ROW,
    KEEPER_SENTENCE,
    SECOND_SHEET,
    epub_two_chapters,
    pptx_with_notes_and_table,
    xls_workbook,
    xlsx_two_sheets,
    zip_bomb_like,
)

API = "/api/v1"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MAX_ROWS = 500


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url, tmp_path, run_worker=False, log_level="INFO", spreadsheet_max_rows=MAX_ROWS
    )


async def _top_hit(
    client: httpx.AsyncClient, headers: dict[str, str], query: str, document_id: str
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/search", headers=headers, json={"query": query, "document_ids": [document_id]}
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results, query
    return dict(results[0])


async def _page(
    client: httpx.AsyncClient, headers: dict[str, str], document_id: str, number: int
) -> dict[str, Any]:
    response = await client.get(f"{API}/documents/{document_id}/pages/{number}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _highlighted(page: dict[str, Any], hit: dict[str, Any]) -> str:
    return " ".join(page["text"][h["start"] : h["end"]] for h in hit["highlights"])


async def test_xlsx_passage_cites_its_sheet_and_rows_with_the_header(
    worker_client: httpx.AsyncClient,
) -> None:
    headers = await register(worker_client)
    document = await upload_and_settle(
        worker_client, headers, "lights.xlsx", xlsx_two_sheets(), XLSX_TYPE
    )
    assert document["status"] == "ready", document
    assert document["content_type"] == XLSX_TYPE
    assert document["page_count"] == 2

    hit = await _top_hit(worker_client, headers, "Who rowed out through the storm?", document["id"])
    assert hit["sheet"] == SECOND_SHEET
    assert hit["row_start"] <= KEEPER_ROW <= hit["row_end"]
    assert hit["page"] == 2
    # Every passage of the sheet starts with its header row.
    assert hit["text"].startswith("Keeper | Station | Year | Deed\n")
    page = await _page(worker_client, headers, document["id"], 2)
    assert page["title"] == SECOND_SHEET
    assert page["row_numbers"][0] == 1
    assert page["row_numbers"][-1] == KEEPER_ROW
    assert KEEPER_SENTENCE in _highlighted(page, hit)
    # The highlighted row is the one the sheet numbers 42.
    rows = page["text"].split("\n\n")
    start = hit["highlights"][0]["start"]
    row_index = page["text"][:start].count("\n\n")
    assert page["row_numbers"][row_index] == KEEPER_ROW
    assert rows[row_index].startswith("Grace Darling | Longstone | 1838")

    located = await worker_client.get(
        f"{API}/documents/{document['id']}/chunks/{hit['chunk_id']}", headers=headers
    )
    assert located.status_code == 200, located.text
    body = located.json()
    assert (body["sheet"], body["row_start"], body["row_end"]) == (
        hit["sheet"],
        hit["row_start"],
        hit["row_end"],
    )

    first_sheet = await _top_hit(
        worker_client, headers, "Which lighthouse is Ireland's Teardrop?", document["id"]
    )
    assert first_sheet["sheet"] == "Lighthouses"
    assert first_sheet["row_start"] <= 5 <= first_sheet["row_end"]


async def test_xls_rows_keep_their_sheet_numbers_and_dates(
    worker_client: httpx.AsyncClient,
) -> None:
    headers = await register(worker_client)
    document = await upload_and_settle(
        worker_client, headers, "tides.xls", xls_workbook(), "application/vnd.ms-excel"
    )
    assert document["status"] == "ready", document
    assert document["content_type"] == "application/vnd.ms-excel"
    hit = await _top_hit(worker_client, headers, "Which tide floods the slipway?", document["id"])
    assert hit["sheet"] == "Tides"
    assert (hit["row_start"], hit["row_end"]) == (2, 4)
    page = await _page(worker_client, headers, document["id"], 1)
    assert page["row_numbers"] == [1, 2, 4]  # the blank row 3 is skipped, not renumbered
    assert page["text"] == (
        "Date | Harbour | High water\n\n2026-03-14 | Arbroath | 4.5\n\n"
        "2026-03-15 | Stromness | Spring tide floods the slipway"
    )


async def test_csv_and_tsv_in_legacy_encodings_keep_their_columns(
    worker_client: httpx.AsyncClient,
) -> None:
    headers = await register(worker_client)
    csv_data = (
        "Ville;Pays;Remarque\n"
        "Genève;Suisse;Le phare du Léman éclaire la rade\n"
        "Nîmes;France;Aucun phare à Nîmes\n"
    ).encode("cp1252")
    document = await upload_and_settle(worker_client, headers, "phares.csv", csv_data, "text/csv")
    assert document["status"] == "ready", document
    assert document["content_type"] == "text/csv"
    hit = await _top_hit(worker_client, headers, "phare du Léman", document["id"])
    assert hit["sheet"] is None
    assert (hit["row_start"], hit["row_end"]) == (2, 3)
    page = await _page(worker_client, headers, document["id"], 1)
    assert page["text"].split("\n\n")[1] == "Genève | Suisse | Le phare du Léman éclaire la rade"
    assert page["row_numbers"] == [1, 2, 3]

    tsv_data = "Name\tHarbour\tLight\nZoë Müller\tKöln\tGrün blinkend\n".encode("utf-16")
    document = await upload_and_settle(
        worker_client, headers, "beacons.tsv", tsv_data, "text/tab-separated-values"
    )
    assert document["status"] == "ready", document
    hit = await _top_hit(worker_client, headers, "Zoë Müller harbour", document["id"])
    assert (hit["row_start"], hit["row_end"]) == (2, 2)
    assert hit["text"] == "Name | Harbour | Light\n\nZoë Müller | Köln | Grün blinkend"


async def test_pptx_slide_number_is_the_page_with_tables_and_notes(
    worker_client: httpx.AsyncClient,
) -> None:
    headers = await register(worker_client)
    document = await upload_and_settle(
        worker_client, headers, "fog.pptx", pptx_with_notes_and_table(), PPTX_TYPE
    )
    assert document["status"] == "ready", document
    assert document["page_count"] == 3

    notes = await _top_hit(
        worker_client, headers, "How often was the clockwork wound?", document["id"]
    )
    assert notes["page"] == 3
    assert notes["sheet"] is None and notes["row_start"] is None
    page = await _page(worker_client, headers, document["id"], 3)
    assert page["title"] == "Questions"
    assert "wound the clockwork every four hours" in _highlighted(page, notes)
    assert page["text"].startswith("Questions\n\nSpeaker notes\n\n")

    table = await _top_hit(worker_client, headers, "Diaphone range", document["id"])
    assert table["page"] == 2
    assert "Diaphone | 5 miles" in table["text"]
    assert (await _page(worker_client, headers, document["id"], 2))["title"] == "Signal ranges"


async def test_epub_chapter_is_the_location(worker_client: httpx.AsyncClient) -> None:
    headers = await register(worker_client)
    document = await upload_and_settle(
        worker_client, headers, "keeper.epub", epub_two_chapters(), "application/epub+zip"
    )
    assert document["status"] == "ready", document
    # The cover (no text) and the navigation document are not chapters.
    assert document["page_count"] == 2
    hit = await _top_hit(worker_client, headers, "When does the supply boat come?", document["id"])
    assert hit["page"] == 2
    assert hit["heading_path"] == ["Summer", "Visitors"]
    page = await _page(worker_client, headers, document["id"], 2)
    assert page["title"] == "Summer"
    assert "every second Tuesday" in _highlighted(page, hit)
    assert (await _page(worker_client, headers, document["id"], 1))["title"] == "Winter"


def _csv_rows(count: int) -> bytes:
    lines = ["Station,Keeper,Note"] + [f"S{i},K{i},Routine watch {i}" for i in range(count)]
    return ("\n".join(lines) + "\n").encode()


async def test_hostile_structured_files_fail_with_a_reason_and_the_worker_goes_on(
    worker_client: httpx.AsyncClient,
) -> None:
    headers = await register(worker_client)
    long_line = b"id,text\n1," + b"x" * (10 * 1024 * 1024) + b"\n2,after\n"
    many_fields = b"a,b\n" + b",".join([b"y"] * (5 * 1024 * 1024)) + b"\n"
    cases = [
        (
            "bomb.xlsx",
            zip_bomb_like(xlsx_two_sheets(), "xl/worksheets/sheet1.xml"),
            XLSX_TYPE,
            "This Excel workbook is too large when uncompressed (possible zip bomb).",
        ),
        (
            "bomb.pptx",
            zip_bomb_like(pptx_with_notes_and_table(), "ppt/slides/slide1.xml"),
            PPTX_TYPE,
            "This PowerPoint presentation is too large when uncompressed (possible zip bomb).",
        ),
        (
            "bomb.epub",
            zip_bomb_like(epub_two_chapters(), "EPUB/winter.xhtml"),
            "application/epub+zip",
            "This EPUB e-book is too large when uncompressed (possible zip bomb).",
        ),
        (
            "long-line.csv",
            long_line,
            "text/csv",
            "Row 2 is longer than 100,000 characters",
        ),
        (
            "wide-line.csv",
            many_fields,
            "text/csv",
            "Row 2 is longer than 100,000 characters",
        ),
        (
            "tall.csv",
            _csv_rows(MAX_ROWS + 10),
            "text/csv",
            f"This spreadsheet has more than {MAX_ROWS:,} rows with data",
        ),
        (
            "damaged.xlsx",
            xlsx_two_sheets()[:-200],
            XLSX_TYPE,
            "This Excel workbook is damaged and could not be read.",
        ),
    ]
    for name, data, content_type, reason in cases:
        document = await upload_and_settle(worker_client, headers, name, data, content_type)
        assert document["status"] == "failed", (name, document)
        assert reason in document["error"], (name, document["error"])

    good = await upload_and_settle(worker_client, headers, "fine.csv", _csv_rows(20), "text/csv")
    assert good["status"] == "ready", good


async def test_a_sheet_whose_dimensions_lie_is_read_by_its_rows(
    worker_client: httpx.AsyncClient,
) -> None:
    """A sheet declaring A1:XFD1048576 is not padded to 17 billion cells."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(("Name", "Light"))
    sheet.append(("Skerryvore", "White flash every 10 seconds"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = buffer.getvalue()
    patched = _rewrite_member(
        source,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<dimension ref="A1:B2"/>', b'<dimension ref="A1:XFD1048576"/>'),
    )
    headers = await register(worker_client)
    document = await upload_and_settle(worker_client, headers, "lying.xlsx", patched, XLSX_TYPE)
    assert document["status"] == "ready", document
    page = await _page(worker_client, headers, document["id"], 1)
    assert page["text"] == "Name | Light\n\nSkerryvore | White flash every 10 seconds"


def _rewrite_member(data: bytes, name: str, change: Any) -> bytes:
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == name:
                changed = change(content)
                assert changed != content
                content = changed
            target.writestr(info.filename, content)
    return buffer.getvalue()


def test_a_model_is_told_a_spreadsheet_passage_by_its_sheet_and_rows() -> None:
    from app.chat.prompting import Source

    rows = Source(1, "lights.xlsx", 2, 2, ["Keepers"], "…", row_start=21, row_end=42)
    assert rows.label() == "[1] lights.xlsx, sheet “Keepers”, rows 21-42"
    slide = Source(2, "fog.pptx", 3, 3, ["Questions", "Speaker notes"], "…")
    assert slide.label() == "[2] fog.pptx, page 3, section “Questions / Speaker notes”"

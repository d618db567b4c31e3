"""Scanned PDFs and images, read by OCR (real Tesseract) and found through search at their page."""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from app.documents.detect import DocumentKind
from app.documents.ocr import OcrOptions
from app.documents.parse_process import ParseLimits, ParsePool, ParseRequest, tokenizer_spec
from app.documents.parsing import ParseError
from app.documents.tasks import fallback_tokenizer
from app.main import create_app
from tests.conftest import make_settings, register, upload_and_settle
from tests.ocr_samples import (
    LIGHTHOUSE_PAGES,
    PILOT_SENTENCE,
    image_file,
    mixed_pdf,
    scanned_pdf,
)

PDF = "application/pdf"


async def _top_hit(
    client: httpx.AsyncClient, headers: dict[str, str], document_id: str, query: str
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/search",
        headers=headers,
        json={"query": query, "k": 3, "document_ids": [document_id]},
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results, query
    return dict(results[0])


@pytest.fixture
async def custom_worker(database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """A worker app with setting overrides (each set of limits gets its own parse process).
    Start one per test: every worker app takes jobs from the same database."""
    started: list[Any] = []

    async def start(**overrides: Any) -> httpx.AsyncClient:
        application = create_app(make_settings(database_url, tmp_path, **overrides))
        lifespan = application.router.lifespan_context(application)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://testserver"
        )
        started.append((lifespan, client))
        return client

    yield start
    for lifespan, client in reversed(started):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


async def test_scanned_pdf_is_read_by_ocr_and_cited_at_its_page_with_word_boxes(
    worker_client: httpx.AsyncClient,
) -> None:
    headers = await register(worker_client)
    document = await upload_and_settle(worker_client, headers, "scan.pdf", scanned_pdf(), PDF)
    assert document["status"] == "ready", document
    assert (document["page_count"], document["ocr_pages"], document["notice"]) == (2, 2, None)

    hit = await _top_hit(
        worker_client, headers, document["id"], "Where do pilots board incoming ships?"
    )
    assert hit["page"] == 2
    assert any("outer buoy" in highlight["text"] for highlight in hit["highlights"]), hit

    page = (
        await worker_client.get(f"/api/v1/documents/{document['id']}/pages/2", headers=headers)
    ).json()
    assert page["ocr"] is True
    assert PILOT_SENTENCE in page["text"]
    start = page["text"].index(PILOT_SENTENCE)
    boxed = [w for w in page["words"] if start <= w["start"] < start + len(PILOT_SENTENCE)]
    assert " ".join(page["text"][w["start"] : w["end"]] for w in boxed) == PILOT_SENTENCE
    # The sentence is the second line printed on the page: 150 + 56 px down a 2200 px page,
    # starting 150 px from the left of 1700.
    first = boxed[0]
    assert 0.08 < first["left"] < 0.1 and 0.09 < first["top"] < 0.1, first
    for word in boxed:
        assert 0 <= word["left"] < word["right"] <= 1 and 0 <= word["top"] < word["bottom"] <= 1

    text_page = await worker_client.get(
        f"/api/v1/documents/{document['id']}/pages/1", headers=headers
    )
    assert "barometer falls quickly" in text_page.json()["text"]
    # No page images for a PDF: the viewer renders it with pdf.js.
    image = await worker_client.get(
        f"/api/v1/documents/{document['id']}/pages/1/image", headers=headers
    )
    assert image.status_code == 404


@pytest.mark.parametrize(
    ("format_name", "filename", "content_type", "pages"),
    [
        ("TIFF", "scan.tiff", "image/tiff", 2),
        ("PNG", "scan.png", "image/png", 1),
        ("JPEG", "scan.jpg", "image/jpeg", 1),
        ("WEBP", "scan.webp", "image/webp", 1),
    ],
)
async def test_images_are_documents_read_by_ocr(
    worker_client: httpx.AsyncClient,
    format_name: str,
    filename: str,
    content_type: str,
    pages: int,
) -> None:
    headers = await register(worker_client)
    document = await upload_and_settle(
        worker_client, headers, filename, image_file(format_name), "application/octet-stream"
    )
    assert document["status"] == "ready", document
    assert document["content_type"] == content_type
    assert (document["page_count"], document["ocr_pages"]) == (pages, pages)

    query = (
        "Where do pilots board incoming ships?" if pages == 2 else "When is the weather log kept?"
    )
    hit = await _top_hit(worker_client, headers, document["id"], query)
    assert hit["page"] == pages
    expected = "outer buoy" if pages == 2 else "every morning at six"
    assert any(expected in highlight["text"] for highlight in hit["highlights"]), hit

    base = f"/api/v1/documents/{document['id']}/pages"
    image = await worker_client.get(f"{base}/{pages}/image", headers=headers)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(image.content)) as shown:
        assert shown.height == 2000 and 1540 < shown.width < 1550  # 1700 x 2200 fitted
    missing = await worker_client.get(f"{base}/{pages + 1}/image", headers=headers)
    assert missing.status_code == 404
    stranger = await register(worker_client)
    hidden = await worker_client.get(f"{base}/1/image", headers=stranger)
    assert hidden.status_code == 404


async def test_a_page_ocr_cannot_read_is_left_out_with_a_notice(
    custom_worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tesseract missing: the parse process starts without it on its PATH.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))
    client = await custom_worker(ocr_page_timeout_s=59.0)
    headers = await register(client)
    document = await upload_and_settle(client, headers, "mixed.pdf", mixed_pdf(), PDF)
    assert document["status"] == "ready", document
    assert document["ocr_pages"] is None
    assert document["notice"] == (
        "Page 2 left out: This page is a scanned image, and OCR is not available on this "
        "server (Tesseract is not installed), so its text could not be read."
    )
    hit = await _top_hit(client, headers, document["id"], "Where are tide tables printed?")
    assert hit["page"] == 1

    scan = await upload_and_settle(client, headers, "scan.pdf", scanned_pdf(), PDF)
    assert scan["status"] == "failed"
    assert scan["error"].startswith("This page is a scanned image, and OCR is not available")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def test_hostile_images_fail_with_a_sentence_and_the_worker_goes_on(
    worker_client: httpx.AsyncClient,
) -> None:
    headers = await register(worker_client)
    # 400 megapixels in 90 KB: decoding it would take 400 MB as grey pixels.
    bomb = _png(Image.new("1", (20_000, 20_000), 1))
    assert len(bomb) < 200_000
    failed = await upload_and_settle(worker_client, headers, "bomb.png", bomb, "image/png")
    assert failed["status"] == "failed"
    assert failed["error"] == (
        "This image is 20,000 by 20,000 pixels (400 megapixels); the limit is 50 megapixels. "
        "Scale it down (or split it) and upload it again."
    )

    whole = image_file("PNG")
    truncated = await upload_and_settle(
        worker_client, headers, "cut.png", whole[: len(whole) // 2], "image/png"
    )
    assert truncated["status"] == "failed"
    assert truncated["error"] == "This image is damaged or incomplete and could not be read."

    blank = await upload_and_settle(
        worker_client, headers, "blank.png", _png(Image.new("L", (800, 600), 255)), "image/png"
    )
    assert blank["status"] == "failed"
    assert blank["error"] == "No text was found in this image."

    blank_scan = await upload_and_settle(
        worker_client, headers, "blank.pdf", scanned_pdf([[]]), PDF
    )
    assert blank_scan["status"] == "failed"
    assert blank_scan["error"] == (
        "No text was found in this PDF, not even by OCR of its scanned pages."
    )

    after = await upload_and_settle(
        worker_client, headers, "after.txt", b"The worker is still reading.", "text/plain"
    )
    assert after["status"] == "ready"


async def test_ocr_over_its_time_fails_clearly_and_the_worker_goes_on(
    custom_worker: Any,
) -> None:
    slow = await custom_worker(ocr_page_timeout_s=0.001)
    headers = await register(slow)
    document = await upload_and_settle(slow, headers, "scan.pdf", scanned_pdf(), PDF)
    assert document["status"] == "failed"
    assert (
        document["error"] == "OCR of this page took longer than the 0.001 seconds allowed per page."
    )
    after = await upload_and_settle(
        slow, headers, "after.txt", b"Still reading text.", "text/plain"
    )
    assert after["status"] == "ready"


async def test_ocr_without_its_language_pack_fails_clearly(custom_worker: Any) -> None:
    # One worker app per test: two would share the database's job queue.
    foreign = await custom_worker(ocr_languages="eng+zzz")
    headers = await register(foreign)
    document = await upload_and_settle(foreign, headers, "scan.png", image_file("PNG"), "image/png")
    assert document["status"] == "failed"
    assert document["error"] == (
        "OCR language pack 'zzz' is not installed on this server (OCR_LANGUAGES=eng+zzz); ask "
        "the administrator to install it (Debian: tesseract-ocr-zzz)."
    )


async def test_ocr_time_comes_from_its_own_budget_not_the_parse_time_limit() -> None:
    """Three pages of OCR take seconds; the reader's own limit here is one second."""
    scan = scanned_pdf([*LIGHTHOUSE_PAGES, LIGHTHOUSE_PAGES[0]])
    request = ParseRequest(DocumentKind.PDF, tokenizer_spec(fallback_tokenizer()), 230, 32)
    stages: list[str] = []
    budgeted = ParsePool(
        1, ParseLimits(512 * 1024 * 1024, 1.0, ocr=OcrOptions(), ocr_timeout_s=120.0)
    )
    try:
        started = time.monotonic()
        drafts, pages = await budgeted.parse_and_chunk(
            scan, request, lambda stage, fraction: stages.append(stage)
        )
        assert time.monotonic() - started > 1.0
        assert [page.ocr for page in pages] == [True, True, True]
        assert drafts
        assert "ocr" in stages
    finally:
        budgeted.close()
    unbudgeted = ParsePool(
        1, ParseLimits(512 * 1024 * 1024, 1.0, ocr=OcrOptions(), ocr_timeout_s=0.0)
    )
    leftovers_before = _parse_leftovers()
    try:
        with pytest.raises(ParseError, match=r"takes longer than this server allows \(1 second\)"):
            await unbudgeted.parse_and_chunk(scan, request, lambda stage, fraction: None)
    finally:
        unbudgeted.close()
    # Killed mid-page, the child leaves none of Tesseract's files behind.
    assert _parse_leftovers() <= leftovers_before


def _parse_leftovers() -> set[str]:
    return {
        name
        for name in os.listdir(tempfile.gettempdir())
        if name.startswith(("tess_", "docchat-parse-"))
    }

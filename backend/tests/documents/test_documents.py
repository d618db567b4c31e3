from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from app.documents.models import Chunk, ChunkTerm
from tests.conftest import CORPUS, pdf, register, upload, wait_until_settled


async def test_pdf_ingests_with_pages_and_chunks(
    worker_app: FastAPI, worker_client: httpx.AsyncClient
) -> None:
    headers = await register(worker_client)
    response = await upload(worker_client, headers, pdf("GeoBase_NHNC1_Data_Model_UML_EN.pdf"))
    assert response.status_code == 202
    (queued,) = response.json()
    assert queued["status"] == "queued"
    assert queued["content_type"] == "application/pdf"
    assert (
        queued["sha256"]
        == hashlib.sha256((CORPUS / "GeoBase_NHNC1_Data_Model_UML_EN.pdf").read_bytes()).hexdigest()
    )

    ready = await wait_until_settled(worker_client, headers, queued["id"])
    assert ready["status"] == "ready", ready
    assert ready["progress"] == 100
    assert ready["page_count"] == 19
    assert ready["chunk_count"] > 19
    assert ready["error"] is None

    async with worker_app.state.sessionmaker() as session:
        chunks = (
            (
                await session.execute(
                    select(Chunk)
                    .where(Chunk.document_id == uuid.UUID(queued["id"]))
                    .order_by(Chunk.ordinal)
                )
            )
            .scalars()
            .all()
        )
        assert len(chunks) == ready["chunk_count"]
        assert [c.ordinal for c in chunks] == list(range(len(chunks)))
        covered = {page for c in chunks for page in range(c.page_start, c.page_end + 1)}
        assert min(covered) == 1 and max(covered) == 19
        assert len(covered) >= 15  # a few pages are figures without text
        assert all(c.embedding_model == "sentence-transformers/all-MiniLM-L6-v2" for c in chunks)
        assert all(len(c.embedding) == 384 for c in chunks)
        assert all(c.token_count <= 256 for c in chunks)
        postings = await session.scalar(
            select(func.count())
            .select_from(ChunkTerm)
            .where(ChunkTerm.document_id == uuid.UUID(queued["id"]))
        )
        assert postings and postings > len(chunks)


async def test_same_file_twice_returns_existing_record(
    worker_client: httpx.AsyncClient,
) -> None:
    headers = await register(worker_client)
    first = (await upload(worker_client, headers, pdf("crazyones.pdf"))).json()[0]
    second = await upload(worker_client, headers, pdf("crazyones.pdf"))
    assert second.status_code == 202
    assert second.json()[0]["id"] == first["id"]
    listed = (await worker_client.get("/api/v1/documents", headers=headers)).json()
    assert [d["id"] for d in listed] == [first["id"]]


async def test_many_files_in_one_request_and_original_bytes(
    worker_client: httpx.AsyncClient,
) -> None:
    headers = await register(worker_client)
    md = ("notes.md", b"# Title\n\nSome *markdown* text about rivers.\n", "text/markdown")
    txt = ("plain.txt", b"Plain text about lakes and streams.\n", "text/plain")
    response = await upload(worker_client, headers, pdf("example.pdf"), md, txt)
    assert response.status_code == 202
    docs = response.json()
    assert [d["filename"] for d in docs] == ["example.pdf", "notes.md", "plain.txt"]
    assert [d["content_type"] for d in docs] == ["application/pdf", "text/markdown", "text/plain"]
    for doc in docs:
        settled = await wait_until_settled(worker_client, headers, doc["id"])
        assert settled["status"] == "ready", settled
    original = await worker_client.get(f"/api/v1/documents/{docs[0]['id']}/file", headers=headers)
    assert original.status_code == 200
    assert original.headers["content-type"] == "application/pdf"
    assert original.content == (CORPUS / "example.pdf").read_bytes()
    assert "inline" in original.headers["content-disposition"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bad-encrypted.pdf", "password-protected PDF"),
        ("bad-truncated.pdf", "damaged or incomplete"),
    ],
)
async def test_bad_pdfs_fail_with_reason_and_worker_keeps_going(
    worker_client: httpx.AsyncClient, name: str, reason: str
) -> None:
    headers = await register(worker_client)
    bad = (await upload(worker_client, headers, pdf(name))).json()[0]
    good = (await upload(worker_client, headers, pdf("crazyones.pdf"))).json()[0]
    failed = await wait_until_settled(worker_client, headers, bad["id"])
    assert failed["status"] == "failed"
    assert reason in failed["error"]
    assert (await wait_until_settled(worker_client, headers, good["id"]))["status"] == "ready"


async def test_pdf_with_neither_text_nor_images_fails_clearly(
    worker_client: httpx.AsyncClient,
) -> None:
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    document.rect(20, 20, 100, 60)  # vector drawing only, no text
    headers = await register(worker_client)
    data = bytes(document.output())
    doc = (await upload(worker_client, headers, ("scan.pdf", data, "application/pdf"))).json()[0]
    failed = await wait_until_settled(worker_client, headers, doc["id"])
    assert failed["status"] == "failed"
    # Nothing to OCR either: a drawing is not a scan.
    assert failed["error"] == "The document contains no extractable text."


async def test_empty_file_422(client: httpx.AsyncClient, auth_headers: dict[str, str]) -> None:
    response = await upload(client, auth_headers, ("empty.pdf", b"", "application/pdf"))
    assert response.status_code == 422
    assert "empty" in response.json()["error"]["message"]


async def test_spoofed_type_415(client: httpx.AsyncClient, auth_headers: dict[str, str]) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    response = await upload(client, auth_headers, ("photo.pdf", png, "application/pdf"))
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert (await client.get("/api/v1/documents", headers=auth_headers)).json() == []


async def test_oversize_upload_413(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    app_settings = app.state.settings
    too_big = b"a" * (app_settings.max_upload_bytes + 10)
    response = await upload(client, auth_headers, ("big.txt", too_big, "text/plain"))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_hostile_filename_is_sanitised(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    name = "../../etc/\x00pass\x1bwd" + "x" * 400 + ".txt"
    response = await upload(client, auth_headers, (name, b"hello world, a text file", "text/plain"))
    assert response.status_code == 202
    filename = response.json()[0]["filename"]
    assert (
        "/" not in filename
        and ".." not in filename
        and "\x00" not in filename
        and "\x1b" not in filename
    )
    assert len(filename) <= 200
    assert filename.endswith(".txt")


async def test_docx_zip_bomb_fails_not_crashes(worker_client: httpx.AsyncClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "word/document.xml", b"<w:document>" + b" " * (300 * 1024 * 1024) + b"</w:document>"
        )
    headers = await register(worker_client)
    bomb = ("bomb.docx", buffer.getvalue(), "application/octet-stream")
    doc = (await upload(worker_client, headers, bomb)).json()[0]
    failed = await wait_until_settled(worker_client, headers, doc["id"])
    assert failed["status"] == "failed"
    assert "zip bomb" in failed["error"]


async def test_delete_removes_everything_in_one_go(
    worker_app: FastAPI, worker_client: httpx.AsyncClient
) -> None:
    headers = await register(worker_client)
    doc = (await upload(worker_client, headers, pdf("crazyones.pdf"))).json()[0]
    await wait_until_settled(worker_client, headers, doc["id"])
    response = await worker_client.delete(f"/api/v1/documents/{doc['id']}", headers=headers)
    assert response.status_code == 204
    assert (
        await worker_client.get(f"/api/v1/documents/{doc['id']}", headers=headers)
    ).status_code == 404
    assert (
        await worker_client.get(f"/api/v1/documents/{doc['id']}/file", headers=headers)
    ).status_code == 404
    async with worker_app.state.sessionmaker() as session:
        params = {"id": doc["id"]}
        for table in ("chunks", "chunk_terms", "document_files"):
            column = "document_id"
            count = await session.scalar(
                text(f"SELECT count(*) FROM {table} WHERE {column} = :id"), params
            )
            assert count == 0, table
        stats = await session.execute(
            text("SELECT chunk_count, total_length FROM user_corpus_stats")
        )
        assert all(row == (0, 0) for row in stats.all())


async def test_reindex_keeps_exactly_one_set_of_chunks(
    worker_app: FastAPI, worker_client: httpx.AsyncClient
) -> None:
    headers = await register(worker_client)
    doc = (await upload(worker_client, headers, pdf("example.pdf"))).json()[0]
    ready = await wait_until_settled(worker_client, headers, doc["id"])
    response = await worker_client.post(f"/api/v1/documents/{doc['id']}/reindex", headers=headers)
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    again = await wait_until_settled(worker_client, headers, doc["id"])
    assert again["status"] == "ready"
    assert again["chunk_count"] == ready["chunk_count"]
    async with worker_app.state.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(Chunk).where(Chunk.document_id == uuid.UUID(doc["id"]))
        )
        assert count == ready["chunk_count"]


async def test_other_users_documents_are_404(client: httpx.AsyncClient) -> None:
    alice = await register(client)
    bob = await register(client)
    doc = (await upload(client, alice, ("a.txt", b"alice's private notes", "text/plain"))).json()[0]
    for method, suffix in [("GET", ""), ("GET", "/file"), ("DELETE", ""), ("POST", "/reindex")]:
        response = await client.request(
            method, f"/api/v1/documents/{doc['id']}{suffix}", headers=bob
        )
        assert response.status_code == 404, (method, suffix)
    assert (await client.get("/api/v1/documents", headers=bob)).json() == []
    assert (await client.get(f"/api/v1/documents/{doc['id']}", headers=alice)).status_code == 200


def test_corpus_is_present() -> None:
    assert Path(CORPUS / "crazyones.pdf").is_file()

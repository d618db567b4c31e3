"""`GET /documents` at library scale: keyset pages (ties included), sorts, filters, search,
counts, and documents shared through collections."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql

from app.core.db import create_engine, create_sessionmaker
from app.documents import service
from app.documents.models import Document
from app.documents.repository import LibraryFilter, LibrarySort, search_path
from tests.conftest import register, upload
from tests.library.seeding import SeedDocument, at, seed

API = "/api/v1"


async def me(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return str((await client.get(f"{API}/auth/me", headers=headers)).json()["id"])


async def every_page(
    client: httpx.AsyncClient, headers: dict[str, str], *, limit: int, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """Every document, page by page with X-Next-Cursor; and how many pages it took."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"{API}/documents", headers=headers, params=query)
        assert response.status_code == 200, response.text
        pages += 1
        found.extend(response.json())
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            return found, pages
        assert pages < 100


def tied_library() -> list[SeedDocument]:
    """57 documents whose every sort key ties with others: 4 dates, 3 sizes, 5 statuses
    cycles and names that differ only in case."""
    statuses = ["ready", "failed", "queued", "processing"]
    return [
        SeedDocument(
            filename=f"{'Doc' if n % 2 else 'doc'}-{n // 4:02d}.txt",
            status=statuses[n % 4],
            size_bytes=(n % 3) * 1000,
            created_at=at(n % 4),
        )
        for n in range(57)
    ]


def expected_order(documents: list[SeedDocument], sort: str, descending: bool) -> list[str]:
    def key(document: SeedDocument) -> tuple[Any, ...]:
        if sort == "name":
            return (document.filename.lower(), document.id)
        if sort == "size":
            return (document.size_bytes, document.id)
        if sort == "status":
            return (document.status, document.created_at, document.id)
        return (document.created_at, document.id)

    return [str(document.id) for document in sorted(documents, key=key, reverse=descending)]


@pytest.mark.parametrize("sort", ["date", "name", "size", "status"])
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_keyset_pages_list_every_document_once_in_sort_order_despite_ties(
    client: httpx.AsyncClient, app: FastAPI, sort: str, order: str
) -> None:
    headers = await register(client)
    documents = tied_library()
    seed(app.state.settings.database_url, await me(client, headers), documents)

    found, pages = await every_page(client, headers, limit=10, sort=sort, order=order)

    assert [document["id"] for document in found] == expected_order(
        documents, sort, order == "desc"
    )
    assert pages == 6


async def test_offset_and_the_default_newest_first_still_work(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    headers = await register(client)
    documents = tied_library()
    seed(app.state.settings.database_url, await me(client, headers), documents)
    newest_first = expected_order(documents, "date", True)

    everything = (await client.get(f"{API}/documents", headers=headers)).json()
    second = (
        await client.get(f"{API}/documents", headers=headers, params={"limit": 5, "offset": 5})
    ).json()

    assert [document["id"] for document in everything] == newest_first
    assert [document["id"] for document in second] == newest_first[5:10]


async def test_a_bad_cursor_is_a_clear_422(client: httpx.AsyncClient, app: FastAPI) -> None:
    headers = await register(client)
    seed(app.state.settings.database_url, await me(client, headers), tied_library())
    first = await client.get(f"{API}/documents", headers=headers, params={"limit": 3})
    cursor = first.headers["X-Next-Cursor"]

    for params in (
        {"cursor": "not-a-cursor"},
        {"cursor": cursor, "sort": "name"},  # a date cursor
        {"cursor": cursor, "order": "asc"},
        {"cursor": cursor, "offset": 3},
    ):
        response = await client.get(f"{API}/documents", headers=headers, params=params)
        assert response.status_code == 422, params
        assert response.json()["error"]["code"]
        assert response.json()["error"]["message"]


async def test_filters_search_and_counts(client: httpx.AsyncClient, app: FastAPI) -> None:
    headers = await register(client)
    documents = [
        SeedDocument("Annual Report 2024.pdf", kind="pdf", created_at=at(1), folder="reports"),
        SeedDocument("annual-summary.md", kind="markdown", created_at=at(2)),
        SeedDocument("budget.pdf", kind="pdf", status="failed", created_at=at(3)),
        SeedDocument("100%_done.txt", created_at=at(4), folder="reports/2024"),
        SeedDocument("100x_done.txt", status="queued", created_at=at(5), folder="reportsx"),
    ]
    seed(app.state.settings.database_url, await me(client, headers), documents)

    async def names(**params: Any) -> list[str]:
        response = await client.get(
            f"{API}/documents", headers=headers, params={**params, "sort": "name", "order": "asc"}
        )
        assert response.status_code == 200, response.text
        return [document["filename"] for document in response.json()]

    assert await names(status="failed") == ["budget.pdf"]
    assert await names(status="failed,queued") == ["100x_done.txt", "budget.pdf"]
    assert await names(kind="pdf") == ["Annual Report 2024.pdf", "budget.pdf"]
    assert await names(q="ANNUAL") == ["Annual Report 2024.pdf", "annual-summary.md"]
    # % and _ are characters to find, not wildcards.
    assert await names(q="100%") == ["100%_done.txt"]
    assert await names(q="0%_d") == ["100%_done.txt"]
    # The folder is searched too, and filtered on with its subfolders (not "reportsx").
    assert await names(q="2024") == ["100%_done.txt", "Annual Report 2024.pdf"]
    assert await names(folder="reports") == ["100%_done.txt", "Annual Report 2024.pdf"]
    assert await names(folder="reports/2024/") == ["100%_done.txt"]
    assert await names(created_from=at(2).isoformat(), created_to=at(4).isoformat()) == [
        "annual-summary.md",
        "budget.pdf",
    ]
    unknown = await client.get(f"{API}/documents", headers=headers, params={"status": "gone"})
    assert unknown.status_code == 422
    assert "gone is not one of" in unknown.json()["error"]["message"]
    listed = (await client.get(f"{API}/documents", headers=headers, params={"q": "budget"})).json()
    assert listed[0]["kind"] == "pdf"

    counts = (await client.get(f"{API}/documents/counts", headers=headers)).json()
    assert counts == {"total": 5, "queued": 1, "processing": 0, "ready": 3, "failed": 1}
    narrowed = (
        await client.get(
            f"{API}/documents/counts", headers=headers, params={"kind": "pdf", "status": "ready"}
        )
    ).json()
    assert narrowed == {"total": 1, "queued": 0, "processing": 0, "ready": 1, "failed": 1}


async def test_documents_shared_through_a_collection_page_with_ones_own(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner_headers = await register(client)
    reader_headers = await register(client)
    stranger_headers = await register(client)
    url = app.state.settings.database_url
    owner_id, reader_id = await me(client, owner_headers), await me(client, reader_headers)
    shared = [SeedDocument(f"shared-{n:02d}.txt", created_at=at(2 * n)) for n in range(7)]
    unshared = [SeedDocument(f"private-{n:02d}.txt", created_at=at(2 * n)) for n in range(3)]
    own = [SeedDocument(f"own-{n:02d}.txt", created_at=at(2 * n + 1)) for n in range(6)]
    seed(url, owner_id, shared + unshared)
    seed(url, reader_id, own)
    collection = (
        await client.post(f"{API}/collections", headers=owner_headers, json={"name": "Shelf"})
    ).json()["id"]
    added = await client.post(
        f"{API}/collections/{collection}/documents",
        headers=owner_headers,
        json={"document_ids": [str(document.id) for document in shared]},
    )
    assert added.status_code < 300, added.text
    reader_email = (await client.get(f"{API}/auth/me", headers=reader_headers)).json()["email"]
    granted = await client.put(
        f"{API}/collections/{collection}/members",
        headers=owner_headers,
        json={"email": reader_email, "role": "viewer"},
    )
    assert granted.status_code < 300, granted.text

    found, _ = await every_page(client, reader_headers, limit=4)
    assert [document["filename"] for document in found] == [
        "shared-06.txt", "own-05.txt", "shared-05.txt", "own-04.txt", "shared-04.txt",
        "own-03.txt", "shared-03.txt", "own-02.txt", "shared-02.txt", "own-01.txt",
        "shared-01.txt", "own-00.txt", "shared-00.txt",
    ]  # fmt: skip
    roles = {document["filename"]: document["my_role"] for document in found}
    assert roles["shared-00.txt"] == "viewer" and roles["own-00.txt"] == "owner"
    owned, _ = await every_page(client, reader_headers, limit=4, owned="true")
    assert len(owned) == 6
    in_collection, _ = await every_page(
        client, reader_headers, limit=4, collection_id=collection, sort="name", order="asc"
    )
    assert [document["filename"] for document in in_collection] == [
        f"shared-{n:02d}.txt" for n in range(7)
    ]
    counts = (await client.get(f"{API}/documents/counts", headers=reader_headers)).json()
    assert counts["total"] == 13
    assert (await client.get(f"{API}/documents", headers=stranger_headers)).json() == []
    hidden = await client.get(
        f"{API}/documents/counts", headers=stranger_headers, params={"collection_id": collection}
    )
    assert hidden.status_code == 404


async def test_an_upload_keeps_its_folder(client: httpx.AsyncClient) -> None:
    headers = await register(client)
    response = await client.post(
        f"{API}/documents",
        headers=headers,
        files=[("files", ("notes.txt", b"Some notes on the harbour.", "text/plain"))],
        data={"folder": "projects\\harbour/../2024/"},
    )
    assert response.status_code == 202, response.text
    assert response.json()[0]["folder"] == "projects/harbour/2024"
    top = await upload(client, headers, ("top.txt", b"At the top.", "text/plain"))
    assert top.json()[0]["folder"] is None
    listed = (
        await client.get(f"{API}/documents", headers=headers, params={"folder": "projects"})
    ).json()
    assert [document["filename"] for document in listed] == ["notes.txt"]


async def test_the_search_and_sorts_can_use_their_indexes(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """With sequential scans off, each list query's plan reads documents through the index
    migration 0016 built for it (bench/library_list.py measures the plans at 100k rows)."""
    headers = await register(client)
    reader = await me(client, headers)
    seed(app.state.settings.database_url, reader, tied_library())
    engine = create_engine(app.state.settings.database_url, pool_size=1, max_overflow=0)
    captured: list[tuple[str, Any]] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _k, statement, parameters, *_: captured.append((statement, parameters)),
    )
    cases = {
        "ix_documents_user_id_created_at_id": {"wanted": LibraryFilter(owned=True)},
        "ix_documents_user_id_lower_filename_id": {
            "wanted": LibraryFilter(owned=True),
            "sort": LibrarySort.NAME,
        },
        "ix_documents_user_id_size_bytes_id": {
            "wanted": LibraryFilter(owned=True),
            "sort": LibrarySort.SIZE,
        },
        "ix_documents_user_id_status_created_at_id": {
            "wanted": LibraryFilter(owned=True, statuses=("failed",)),
        },
    }
    try:
        for index, options in cases.items():
            captured.clear()
            async with create_sessionmaker(engine)() as session:
                await service.list_library(session, user_id=uuid.UUID(reader), limit=10, **options)
            statement, parameters = next(c for c in captured if "k0" in c[0])
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SET enable_seqscan = off")
                plan = (
                    await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
                ).scalar_one()
            assert f'"Index Name": "{index}"' in json.dumps(plan), (index, plan)
        # The search's expression is the trigram index's (a small table is read through the
        # sort's index instead, so the search alone is asked here).
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SET enable_seqscan = off")
            search = select(Document.id).where(search_path().like("%doc-1%"))
            sql = search.compile(
                dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
            )
            plan = (await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}")).scalar_one()
        assert '"Index Name": "ix_documents_search_trgm"' in json.dumps(plan), plan
    finally:
        await engine.dispose()

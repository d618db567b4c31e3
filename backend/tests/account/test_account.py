"""Deleting an account leaves no row of it anywhere; exporting streams its data as a zip."""

from __future__ import annotations

import io
import json
import tracemalloc
import uuid
import zipfile

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.account.export import export_archive, safe_name
from tests.apikeys.test_api_keys import bearer, create_key
from tests.chat.test_chat import ask, new_chat
from tests.conftest import register, upload, upload_and_settle

PASSWORD = "correct-horse-battery"
NOTES = b"Photosynthesis turns light into chemical energy in the chloroplasts."

# Every column that holds a user's id: a foreign key to users, or a column named like one
# (chunk_terms and document_pages carry an unconstrained user_id). New tables are covered
# by the same query.
USER_COLUMNS = text(
    """
    SELECT c.table_name, c.column_name
    FROM information_schema.columns c
    JOIN information_schema.tables t
      ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
      AND c.data_type = 'uuid'
      AND (c.column_name IN ('user_id', 'owner_id', 'added_by', 'actor_id', 'created_by')
           OR EXISTS (
             SELECT 1 FROM pg_constraint k
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
             WHERE k.contype = 'f' AND k.confrelid = 'public.users'::regclass
               AND k.conrelid = (
                 SELECT r.oid FROM pg_class r
                 WHERE r.relname = c.table_name AND r.relnamespace = 'public'::regnamespace)
               AND a.attname = c.column_name))
    UNION SELECT 'users', 'id'
    ORDER BY 1, 2
    """
)


async def rows_of(session: AsyncSession, user_id: str) -> dict[str, int]:
    columns = (await session.execute(USER_COLUMNS)).all()
    counts = {}
    for table, column in columns:
        count = await session.execute(
            text(f'SELECT count(*) FROM "{table}" WHERE "{column}" = :id'), {"id": user_id}
        )
        counts[f"{table}.{column}"] = count.scalar_one()
    return counts


async def signed_in_user(client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    headers = await register(client, password=PASSWORD)
    return headers, (await client.get("/api/v1/auth/me", headers=headers)).json()["id"]


async def give_data(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """A ready document (chunks, vectors, postings, pages, statistics), a chat with a grounded
    answer, an API key and its last use."""
    document = await upload_and_settle(client, headers, "notes.txt", NOTES, "text/plain")
    assert document["status"] == "ready", document
    response, _ = await ask(client, headers, await new_chat(client, headers), "photosynthesis?")
    assert response.status_code == 200
    key = (await create_key(client, headers))["key"]
    assert (await client.get("/api/v1/documents", headers=bearer(key))).status_code == 200


async def test_deleting_an_account_leaves_no_row_of_it(
    worker_app: FastAPI, worker_client: httpx.AsyncClient
) -> None:
    client = worker_client
    ada, ada_id = await signed_in_user(client)
    bob, bob_id = await signed_in_user(client)
    await give_data(client, ada)
    await give_data(client, bob)
    async with worker_app.state.sessionmaker() as session:
        before = await rows_of(session, ada_id)
    for table in ("documents.user_id", "chunks.user_id", "chunk_terms.user_id",
                  "document_pages.user_id", "chat_messages.user_id", "api_keys.user_id",
                  "refresh_tokens.user_id", "user_corpus_stats.user_id"):  # fmt: skip
        assert before[table] > 0, (table, before)

    response = await client.request(
        "DELETE", "/api/v1/auth/me", headers=ada, json={"password": PASSWORD}
    )
    assert response.status_code == 204, response.text

    async with worker_app.state.sessionmaker() as session:
        after = await rows_of(session, ada_id)
        # The audit log is append-only (docs/admin.md): who did what outlives the account.
        assert after.pop("audit_events.actor_id") > 0
        assert {table: n for table, n in after.items() if n} == {}
        before.pop("audit_events.actor_id")
        assert set(after) == set(before)
        kept = await rows_of(session, bob_id)
        assert all(kept[table] > 0 for table, n in before.items() if n)
        assert (await session.execute(text("SELECT count(*) FROM document_files"))).scalar() == 1
    assert (await client.get("/api/v1/auth/me", headers=ada)).status_code == 401
    assert (await client.get("/api/v1/documents", headers=bob)).json()[0]["status"] == "ready"


async def test_deleting_needs_the_password_and_a_sign_in(client: httpx.AsyncClient) -> None:
    headers, _ = await signed_in_user(client)
    uploaded = await upload(client, headers, ("notes.txt", NOTES, "text/plain"))
    assert uploaded.status_code == 202
    wrong = await client.request(
        "DELETE", "/api/v1/auth/me", headers=headers, json={"password": "not-my-password"}
    )
    assert wrong.status_code == 403
    assert wrong.json()["error"]["message"] == "The password is not correct."
    key = (await create_key(client, headers, scopes=["read", "write"]))["key"]
    by_key = await client.request(
        "DELETE", "/api/v1/auth/me", headers=bearer(key), json={"password": PASSWORD}
    )
    assert by_key.status_code == 403
    missing = await client.request("DELETE", "/api/v1/auth/me", headers=headers, json={})
    assert missing.status_code == 422
    assert len((await client.get("/api/v1/documents", headers=headers)).json()) == 1


async def test_a_single_sign_on_account_is_told_how_to_delete_itself(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """An account created by single sign-on has no password to confirm the delete with: a
    clear 403 (it was a 500), and nothing is deleted."""
    headers, user_id = await signed_in_user(client)
    async with app.state.sessionmaker() as session:
        await session.execute(
            text("UPDATE users SET password_hash = NULL WHERE id = :id"), {"id": user_id}
        )
        await session.commit()
    response = await client.request(
        "DELETE", "/api/v1/auth/me", headers=headers, json={"password": "anything-at-all"}
    )
    assert response.status_code == 403
    assert "single sign-on" in response.json()["error"]["message"]
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200


async def test_export_holds_the_originals_and_chats(client: httpx.AsyncClient) -> None:
    headers, user_id = await signed_in_user(client)
    other, _ = await signed_in_user(client)
    files = [
        ("notes.txt", NOTES, "text/plain"),
        ("../../etc/evil.md", b"# Evil\nHi.", "text/markdown"),
    ]
    assert (await upload(client, headers, *files)).status_code == 202
    assert (
        await upload(client, other, ("other.txt", b"Not yours.", "text/plain"))
    ).status_code == 202
    chat_id = await new_chat(client, headers)
    response, _ = await ask(client, headers, chat_id, "What do plants do with light?")
    assert response.status_code == 200

    export = await client.get("/api/v1/auth/me/export", headers=headers)
    assert export.status_code == 200
    assert export.headers["content-type"] == "application/zip"
    assert export.headers["content-disposition"].startswith("attachment; filename=")
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    assert archive.testzip() is None
    names = archive.namelist()
    assert all(not name.startswith("/") and ".." not in name.split("/") for name in names)
    originals = {
        name.split("-", 1)[1]: archive.read(name) for name in names if name.startswith("documents/")
    }
    assert originals == {"notes.txt": NOTES, "evil.md": b"# Evil\nHi."}
    account = json.loads(archive.read("account.json"))
    assert account["id"] == user_id
    chat_files = sorted(name for name in names if name.startswith("chats/"))
    assert [name.rsplit(".", 1)[1] for name in chat_files] == ["json", "md"]
    chat = json.loads(archive.read(chat_files[0]))
    assert chat["format"] == "docchat.chat.v1"  # as GET /chats/{chat_id}/export?format=json
    assert chat["chat"]["id"] == chat_id
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant"]
    markdown = archive.read(chat_files[1]).decode()
    assert "What do plants do with light?" in markdown
    assert chat["messages"][1]["content"] in markdown

    by_key = await client.get(
        "/api/v1/auth/me/export", headers=bearer((await create_key(client, headers))["key"])
    )
    assert by_key.status_code == 403


async def test_export_completes_without_an_original_it_cannot_read(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers, _ = await signed_in_user(client)
    files = [("kept.txt", NOTES, "text/plain"), ("lost.txt", b"Gone.", "text/plain")]
    uploaded = (await upload(client, headers, *files)).json()
    lost = next(d["id"] for d in uploaded if d["filename"] == "lost.txt")
    async with app.state.sessionmaker() as session:
        await session.execute(
            text("DELETE FROM document_files WHERE document_id = :id"), {"id": lost}
        )
        await session.commit()
    export = await client.get("/api/v1/auth/me/export", headers=headers)
    assert export.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    assert archive.testzip() is None
    missing = archive.read("missing-originals.txt").decode()
    assert f"documents/{lost[:8]}-lost.txt" in missing
    kept = next(n for n in archive.namelist() if n.endswith("-kept.txt"))
    assert archive.read(kept) == NOTES


async def test_export_streams_in_bounded_memory(app: FastAPI, client: httpx.AsyncClient) -> None:
    """A 40 MB original goes out in pieces: the generator never holds much of it."""
    headers, user_id = await signed_in_user(client)
    line = b"The quick brown fox jumps over the lazy dog near the river bank today.\n"
    big = line * (40_000_000 // len(line))
    assert (await upload(client, headers, ("big.txt", big, "text/plain"))).status_code == 202
    del big
    received = 0
    tracemalloc.start()
    try:
        async for piece in export_archive(
            app.state.sessionmaker, app.state.originals, user_id=uuid.UUID(user_id)
        ):
            received += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received > 40_000_000
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_archive_names_stay_in_their_folder() -> None:
    assert safe_name("../../etc/passwd", fallback="file") == "_.._etc_passwd"
    assert safe_name('..\\a:b*?"<>|\x00c', fallback="file") == "_a_b_c"
    assert safe_name("...", fallback="file") == "file"
    assert safe_name("Q3 report (final).pdf", fallback="file") == "Q3 report (final).pdf"

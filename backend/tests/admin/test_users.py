"""The admin's view of accounts: usage, search, quotas, disabling (sessions end at once) and
deleting an account with every row of its data. Admins manage accounts, not content."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import psycopg
from psycopg import sql

from app.core.settings import Settings
from tests.admin.accounts import API, account, admin_and_member, error_code, sign_in
from tests.conftest import upload, wait_until_settled

NOTES = (
    b"# Quillfeather orchard\n\nThe quillfeather orchard grows marbleplum trees that "
    b"flower in March and are picked in August.\n"
)
DIARY = b"Marbleplum jam from the quillfeather orchard sells out at the winter fair.\n"


async def _documents_and_a_chat(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> dict[str, Any]:
    response = await upload(
        client,
        headers,
        ("quillfeather-notes.md", NOTES, "text/markdown"),
        ("quillfeather-diary.txt", DIARY, "text/plain"),
    )
    assert response.status_code == 202, response.text
    document_ids = [d["id"] for d in response.json()]
    for document_id in document_ids:
        assert (await wait_until_settled(client, headers, document_id))["status"] == "ready"
    chat = (await client.post(f"{API}/chats", headers=headers, json={"title": "orchard"})).json()
    answer = await client.post(
        f"{API}/chats/{chat['id']}/messages",
        headers=headers,
        json={"content": "When do the marbleplum trees flower?"},
    )
    assert answer.status_code == 200
    return {"documents": document_ids, "chat": chat["id"]}


async def test_users_list_usage_and_search(worker_client: httpx.AsyncClient) -> None:
    client = worker_client
    admin, member = await admin_and_member(client)
    await _documents_and_a_chat(client, member.headers)
    listed = await client.get(f"{API}/admin/users", headers=admin.headers)
    assert listed.status_code == 200
    users = {u["id"]: u for u in listed.json()}
    assert set(users) == {admin.id, member.id}
    row = users[member.id]
    assert row["email"] == member.email
    assert row["role"] == "member"
    assert row["disabled"] is False
    assert row["last_active_at"] is not None
    assert row["usage"]["documents"] == 2
    assert row["usage"]["storage_bytes"] == len(NOTES) + len(DIARY)
    assert row["usage"]["messages"] == 1
    assert row["usage"]["chunks"] >= 2
    assert users[admin.id]["usage"] == {
        "documents": 0,
        "storage_bytes": 0,
        "chunks": 0,
        "messages": 0,
    }
    assert row["quota"] == {
        "storage_mb": None,
        "documents": None,
        "storage_mb_is_default": True,
        "documents_is_default": True,
    }
    # Counts, never content.
    for secret in ("quillfeather", "marbleplum", "orchard"):
        assert secret not in listed.text.lower()

    found = await client.get(
        f"{API}/admin/users", headers=admin.headers, params={"q": member.email[:10].upper()}
    )
    assert [u["id"] for u in found.json()] == [member.id]
    assert (
        await client.get(f"{API}/admin/users", headers=admin.headers, params={"q": "%"})
    ).json() == []
    paged = await client.get(f"{API}/admin/users", headers=admin.headers, params={"limit": 1})
    assert [u["id"] for u in paged.json()] == [admin.id]


async def test_an_admin_cannot_read_another_users_documents_or_chats(
    worker_client: httpx.AsyncClient,
) -> None:
    client = worker_client
    admin, member = await admin_and_member(client)
    owned = await _documents_and_a_chat(client, member.headers)
    for document_id in owned["documents"]:
        for suffix in ("", "/file", "/pages/1", "/reindex"):
            method = "POST" if suffix == "/reindex" else "GET"
            response = await client.request(
                method, f"{API}/documents/{document_id}{suffix}", headers=admin.headers
            )
            assert response.status_code == 404, (suffix, response.text)
        deleted = await client.delete(f"{API}/documents/{document_id}", headers=admin.headers)
        assert deleted.status_code == 404
    assert (
        await client.get(f"{API}/chats/{owned['chat']}", headers=admin.headers)
    ).status_code == 404
    assert (await client.get(f"{API}/documents", headers=admin.headers)).json() == []
    assert (await client.get(f"{API}/chats", headers=admin.headers)).json() == []
    search = await client.post(
        f"{API}/search", headers=admin.headers, json={"query": "marbleplum quillfeather orchard"}
    )
    assert search.json()["results"] == []
    # The member's documents are untouched.
    assert len((await client.get(f"{API}/documents", headers=member.headers)).json()) == 2


async def test_disabling_ends_every_session_at_once(client: httpx.AsyncClient) -> None:
    admin, member = await admin_and_member(client)
    second_sign_in = (await sign_in(client, member.email)).json()
    assert (await client.get(f"{API}/auth/me", headers=member.headers)).status_code == 200

    disabled = await client.patch(
        f"{API}/admin/users/{member.id}", headers=admin.headers, json={"disabled": True}
    )
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled"] is True

    # The very next request with any of the member's tokens is refused.
    assert (await client.get(f"{API}/auth/me", headers=member.headers)).status_code == 401
    other_access = {"Authorization": f"Bearer {second_sign_in['access_token']}"}
    assert (await client.get(f"{API}/documents", headers=other_access)).status_code == 401
    for refresh_token in (member.refresh_token, second_sign_in["refresh_token"]):
        refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": refresh_token})
        assert refreshed.status_code == 401
    refused = await sign_in(client, member.email)
    assert refused.status_code == 401
    assert "disabled" in refused.json()["error"]["message"]
    # A wrong password does not learn that the account is disabled.
    wrong = await client.post(
        f"{API}/auth/login", json={"email": member.email, "password": "not-the-password"}
    )
    assert "disabled" not in wrong.json()["error"]["message"]

    enabled = await client.patch(
        f"{API}/admin/users/{member.id}", headers=admin.headers, json={"disabled": False}
    )
    assert enabled.json()["disabled"] is False
    assert (await sign_in(client, member.email)).status_code == 200
    # Sessions ended by the disable stay ended.
    stale = await client.post(f"{API}/auth/refresh", json={"refresh_token": member.refresh_token})
    assert stale.status_code == 401


async def test_role_and_quota_changes(client: httpx.AsyncClient, settings: Settings) -> None:
    admin, member = await admin_and_member(client)
    url = f"{API}/admin/users/{member.id}"
    promoted = await client.patch(url, headers=admin.headers, json={"role": "admin"})
    assert promoted.json()["role"] == "admin"
    assert (await client.get(f"{API}/admin/users", headers=member.headers)).status_code == 200
    demoted = await client.patch(url, headers=admin.headers, json={"role": "member"})
    assert demoted.json()["role"] == "member"
    assert (await client.get(f"{API}/admin/users", headers=member.headers)).status_code == 403

    limited = await client.patch(
        url, headers=admin.headers, json={"quota_storage_mb": 5, "quota_documents": 0}
    )
    assert limited.json()["quota"] == {
        "storage_mb": 5,
        "documents": None,  # 0: no limit
        "storage_mb_is_default": False,
        "documents_is_default": False,
    }
    # Only what is sent changes; null returns to the default.
    reset = await client.patch(url, headers=admin.headers, json={"quota_storage_mb": None})
    assert reset.json()["quota"]["storage_mb_is_default"] is True
    assert reset.json()["quota"]["documents_is_default"] is False

    for bad in ({"quota_documents": -1}, {"role": "owner"}, {"disabled": "maybe"}):
        response = await client.patch(url, headers=admin.headers, json=bad)
        assert response.status_code == 422, bad
        assert error_code(response) == "validation_error"
    missing = await client.patch(
        f"{API}/admin/users/{uuid.uuid4()}", headers=admin.headers, json={"role": "admin"}
    )
    assert missing.status_code == 404
    assert error_code(missing) == "not_found"


def _rows_naming(database_url: str, values: list[str]) -> dict[str, int]:
    """How many rows of each public table hold one of `values` in a uuid column (the
    audit log aside: it keeps the record of what the account did), or in a queued job's args
    (a running one is asked to abort and ends on its own: _running_jobs)."""
    found: dict[str, int] = {}
    with psycopg.connect(database_url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = 'uuid' AND table_name <> 'audit_events'"
        ).fetchall()
        assert ("documents", "user_id") in columns and ("chunk_terms", "user_id") in columns
        for table, column in columns:
            count = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE {}::text = ANY(%s)").format(
                    sql.Identifier(table), sql.Identifier(column)
                ),
                (values,),
            ).fetchone()
            if count and count[0]:
                found[f"{table}.{column}"] = count[0]
        jobs = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE args->>'document_id' = ANY(%s) "
            "AND status = 'todo'",
            (values,),
        ).fetchone()
        if jobs and jobs[0]:
            found["procrastinate_jobs"] = jobs[0]
    return found


async def _running_jobs_end(database_url: str, document_ids: list[str]) -> None:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        with psycopg.connect(database_url) as conn:
            running = conn.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE args->>'document_id' = ANY(%s) "
                "AND status = 'doing'",
                (document_ids,),
            ).fetchone()
        if running == (0,):
            return
        assert asyncio.get_running_loop().time() < deadline, "a deleted document's job runs on"
        await asyncio.sleep(0.2)


async def test_deleting_a_user_removes_every_row_of_their_data(
    worker_client: httpx.AsyncClient, database_url: str
) -> None:
    client = worker_client
    admin, member = await admin_and_member(client)
    bystander = await account(client)
    owned = await _documents_and_a_chat(client, member.headers)
    await _documents_and_a_chat(client, bystander.headers)
    # One more document still queued when the account goes: its job must go too.
    queued = await upload(
        client, member.headers, ("late.txt", b"Late marbleplum notes.\n", "text/plain")
    )
    owned["documents"].append(queued.json()[0]["id"])
    invite = await client.post(
        f"{API}/admin/invites", headers=admin.headers, json={"expires_in_hours": 1}
    )
    member_as_admin = await client.patch(
        f"{API}/admin/users/{member.id}", headers=admin.headers, json={"role": "admin"}
    )
    assert member_as_admin.status_code == 200
    await client.post(f"{API}/admin/invites", headers=member.headers, json={"expires_in_hours": 1})

    mine = [member.id, *owned["documents"], owned["chat"]]
    assert _rows_naming(database_url, mine)  # the check sees them before

    deleted = await client.delete(f"{API}/admin/users/{member.id}", headers=admin.headers)
    assert deleted.status_code == 204, deleted.text
    assert _rows_naming(database_url, mine) == {}
    await _running_jobs_end(database_url, owned["documents"])
    assert _rows_naming(database_url, mine) == {}  # an aborted job wrote nothing back
    assert (await client.get(f"{API}/auth/me", headers=member.headers)).status_code == 401
    gone = await client.delete(f"{API}/admin/users/{member.id}", headers=admin.headers)
    assert gone.status_code == 404
    # Everybody else keeps everything.
    assert len((await client.get(f"{API}/documents", headers=bystander.headers)).json()) == 2
    assert invite.status_code == 201
    assert len((await client.get(f"{API}/admin/invites", headers=admin.headers)).json()) == 2
    with psycopg.connect(database_url) as conn:
        stats = conn.execute("SELECT count(*) FROM user_corpus_stats").fetchone()
        record = conn.execute(
            "SELECT actor_id, details->>'email', (details->>'documents')::int FROM audit_events "
            "WHERE action = 'user.delete'"
        ).fetchall()
    assert stats == (1,)
    assert record == [(uuid.UUID(admin.id), member.email, 3)]

"""Personal API keys over the ASGI app and a real PostgreSQL."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update

from app.auth.models import ApiKey, User
from tests.conftest import register, upload

TEXT_FILE = ("notes.txt", b"Photosynthesis turns light into chemical energy.", "text/plain")


async def create_key(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/api-keys", headers=headers, json={"name": "laptop", "scopes": ["read"], **body}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_key_is_shown_once_stored_hashed_and_listed_by_prefix(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    created = await create_key(client, auth_headers, name="  CI runner ")
    key = created["key"]
    assert key.startswith("dc_live_") and len(key) > 40
    assert created["prefix"] == key[:12]
    assert created["name"] == "CI runner"
    assert created["scopes"] == ["read"]

    listed = (await client.get("/api/v1/api-keys", headers=auth_headers)).json()
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    assert listed[0]["prefix"] == key[:12]
    assert listed[0]["last_used_at"] is None

    async with app.state.sessionmaker() as session:
        stored = (await session.execute(select(ApiKey))).scalar_one()
        row = await session.execute(text("SELECT row_to_json(api_keys)::text FROM api_keys"))
        assert key not in row.scalar_one()
    assert stored.key_hash == hashlib.sha256(key.encode()).digest()


async def test_key_works_wherever_a_sign_in_does(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    key = (await create_key(client, auth_headers))["key"]
    me = await client.get("/api/v1/auth/me", headers=bearer(key))
    assert me.status_code == 200
    assert me.json() == (await client.get("/api/v1/auth/me", headers=auth_headers)).json()
    assert (await client.get("/api/v1/documents", headers=bearer(key))).status_code == 200
    chat = await client.post("/api/v1/chats", headers=bearer(key), json={"title": "via key"})
    assert chat.status_code == 201


async def test_read_key_cannot_upload_delete_or_reindex_but_write_key_can(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    read_key = (await create_key(client, auth_headers))["key"]
    write_key = (await create_key(client, auth_headers, scopes=["read", "write"]))["key"]

    refused = await upload(client, bearer(read_key), TEXT_FILE)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert "write scope" in refused.json()["error"]["message"]

    uploaded = await upload(client, bearer(write_key), TEXT_FILE)
    assert uploaded.status_code == 202, uploaded.text
    document_id = uploaded.json()[0]["id"]
    for method, path in (
        ("POST", f"/api/v1/documents/{document_id}/reindex"),
        ("DELETE", f"/api/v1/documents/{document_id}"),
        ("POST", "/api/v1/documents/url"),
    ):
        response = await client.request(
            method, path, headers=bearer(read_key), json={"url": "https://example.com/"}
        )
        assert response.status_code == 403, (method, path, response.text)
    listed = await client.get("/api/v1/documents", headers=bearer(read_key))
    assert [d["id"] for d in listed.json()] == [document_id]
    deleted = await client.delete(f"/api/v1/documents/{document_id}", headers=bearer(write_key))
    assert deleted.status_code == 204


async def test_revoked_key_is_refused_at_its_next_request(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    created = await create_key(client, auth_headers)
    assert (
        await client.get("/api/v1/documents", headers=bearer(created["key"]))
    ).status_code == 200
    revoked = await client.delete(f"/api/v1/api-keys/{created['id']}", headers=auth_headers)
    assert revoked.status_code == 204
    refused = await client.get("/api/v1/documents", headers=bearer(created["key"]))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    assert refused.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/api/v1/api-keys", headers=auth_headers)).json() == []
    again = await client.delete(f"/api/v1/api-keys/{created['id']}", headers=auth_headers)
    assert again.status_code == 404


async def test_expired_key_is_refused(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    created = await create_key(client, auth_headers, expires_at=soon.isoformat())
    assert datetime.fromisoformat(created["expires_at"]) == soon
    assert (
        await client.get("/api/v1/documents", headers=bearer(created["key"]))
    ).status_code == 200
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(ApiKey).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    assert (
        await client.get("/api/v1/documents", headers=bearer(created["key"]))
    ).status_code == 401


async def test_key_ends_with_its_user(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    key = (await create_key(client, auth_headers))["key"]
    async with app.state.sessionmaker() as session:
        await session.execute(update(User).values(is_active=False))
        await session.commit()
    assert (await client.get("/api/v1/auth/me", headers=bearer(key))).status_code == 401


@pytest.mark.parametrize(
    "key", ["dc_live_" + "A" * 43, "dc_live_", "dc_live_ key with spaces", "not-a-key-or-token"]
)
async def test_unknown_key_is_401(client: httpx.AsyncClient, key: str) -> None:
    response = await client.get("/api/v1/documents", headers=bearer(key))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_keys_cannot_manage_keys_or_reach_another_users_keys(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    write_key = (await create_key(client, auth_headers, scopes=["read", "write"]))["key"]
    for method, path in (("GET", "/api/v1/api-keys"), ("POST", "/api/v1/api-keys")):
        response = await client.request(
            method, path, headers=bearer(write_key), json={"name": "x", "scopes": ["read"]}
        )
        assert response.status_code == 403, response.text
    mine = (await client.get("/api/v1/api-keys", headers=auth_headers)).json()
    other = await register(client)
    assert (await client.get("/api/v1/api-keys", headers=other)).json() == []
    stolen = await client.delete(f"/api/v1/api-keys/{mine[0]['id']}", headers=other)
    assert stolen.status_code == 404
    assert (await client.get("/api/v1/auth/me", headers=bearer(write_key))).status_code == 200


async def test_last_use_is_recorded_at_most_once_a_minute(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    created = await create_key(client, auth_headers)
    await client.get("/api/v1/documents", headers=bearer(created["key"]))
    listed = (await client.get("/api/v1/api-keys", headers=auth_headers)).json()[0]
    first_use = datetime.fromisoformat(listed["last_used_at"])
    assert listed["last_used_ip"] == "203.0.113.7"
    assert datetime.now(UTC) - first_use < timedelta(seconds=30)

    async with app.state.sessionmaker() as session:
        xmin_before = (await session.execute(text("SELECT xmin::text FROM api_keys"))).scalar()
    for _ in range(3):
        await client.get("/api/v1/documents", headers=bearer(created["key"]))
    async with app.state.sessionmaker() as session:
        xmin_after = (await session.execute(text("SELECT xmin::text FROM api_keys"))).scalar()
        assert xmin_after == xmin_before  # no write for uses within the minute
        await session.execute(
            update(ApiKey).values(last_used_at=datetime.now(UTC) - timedelta(minutes=2))
        )
        await session.commit()
    await client.get("/api/v1/documents", headers=bearer(created["key"]))
    listed = (await client.get("/api/v1/api-keys", headers=auth_headers)).json()[0]
    assert datetime.fromisoformat(listed["last_used_at"]) >= first_use


async def test_each_key_has_its_own_rate_limit(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    app.state.settings.api_key_rate_limit = "3/minute"
    first = (await create_key(client, auth_headers))["key"]
    second = (await create_key(client, auth_headers))["key"]
    statuses = [
        (await client.get("/api/v1/documents", headers=bearer(first))).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert (await client.get("/api/v1/documents", headers=bearer(second))).status_code == 200
    # A sign-in of the same user is not counted against its keys.
    assert (await client.get("/api/v1/documents", headers=auth_headers)).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["write"]}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["admin"]}, "scopes"),
        ({"name": "   ", "scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2999-01-01T00:00:00"}, "expires_at"),
    ],
)
async def test_invalid_key_requests_are_422(
    client: httpx.AsyncClient, auth_headers: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/v1/api-keys", headers=auth_headers, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].startswith(field)


async def test_key_ids_are_checked_as_uuids(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    assert (
        await client.delete(f"/api/v1/api-keys/{uuid.uuid4()}", headers=auth_headers)
    ).status_code == 404
    assert (
        await client.delete("/api/v1/api-keys/not-a-uuid", headers=auth_headers)
    ).status_code == 422

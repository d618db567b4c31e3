from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.auth.models import User
from app.core import security
from tests.conftest import TEST_SECRET, register

PASSWORD = "correct-horse-battery"


async def _register(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "full_name": "Ada"}
    )


async def _login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_register_returns_user_without_secrets(client: httpx.AsyncClient) -> None:
    response = await _register(client, "Ada@Example.com")
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "Ada@example.com"  # the domain part is normalised
    assert body["full_name"] == "Ada"
    assert set(body) == {"id", "email", "full_name", "created_at"}
    assert PASSWORD not in response.text


async def test_duplicate_email_is_case_insensitive_409(client: httpx.AsyncClient) -> None:
    assert (await _register(client, "dup@example.com")).status_code == 201
    response = await _register(client, "DUP@example.COM")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "a@example.com", "password": "short", "full_name": "A"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD, "full_name": "A"}, "email"),
        ({"email": "a@example.com", "password": PASSWORD}, "full_name"),
    ],
)
async def test_register_validation_422(
    client: httpx.AsyncClient, payload: dict[str, str], field: str
) -> None:
    response = await client.post("/api/v1/auth/register", json=payload)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["request_id"] == response.headers["x-request-id"]
    assert any(field in detail["loc"] for detail in error["details"])


async def test_login_and_me(client: httpx.AsyncClient) -> None:
    await _register(client, "me@example.com")
    response = await _login(client, "ME@example.com")
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "HS256"
    assert header["kid"] == security.key_id(TEST_SECRET)
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["email"] == "me@example.com"


async def test_wrong_password_and_unknown_email_look_the_same(client: httpx.AsyncClient) -> None:
    await _register(client, "known@example.com")
    await _login(client, "warmup@example.com")  # warm the hasher
    started = time.perf_counter()
    wrong = await _login(client, "known@example.com", "wrong-password-1")
    wrong_s = time.perf_counter() - started
    started = time.perf_counter()
    unknown = await _login(client, "nobody@example.com", "wrong-password-1")
    unknown_s = time.perf_counter() - started
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    # Both paths verify an Argon2 hash; an unknown email must not answer much faster.
    assert unknown_s > wrong_s / 3


async def test_me_requires_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_refresh_rotates_and_replay_revokes_family(client: httpx.AsyncClient) -> None:
    await _register(client, "rot@example.com")
    first = (await _login(client, "rot@example.com")).json()
    second = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    # Replaying the used token fails and kills the whole family, including the rotated token.
    replay = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401
    after = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert after.status_code == 401


async def test_logout_revokes_refresh_token(client: httpx.AsyncClient) -> None:
    await _register(client, "out@example.com")
    tokens = (await _login(client, "out@example.com")).json()
    response = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 204
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refresh.status_code == 401


async def test_unknown_refresh_token_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "nope"})
    assert response.status_code == 401


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return str((await client.get("/api/v1/auth/me", headers=headers)).json()["id"])


async def test_forged_access_tokens_rejected(client: httpx.AsyncClient) -> None:
    headers = await register(client)
    user_id = await _user_id(client, headers)
    now = datetime.now(UTC)
    claims = {"sub": user_id, "type": "access", "iat": now, "exp": now + timedelta(minutes=5)}
    kid = security.key_id(TEST_SECRET)
    expired = jwt.encode(
        {**claims, "iat": now - timedelta(hours=1), "exp": now - timedelta(minutes=1)},
        TEST_SECRET,
        algorithm="HS256",
        headers={"kid": kid},
    )
    wrong_signature = jwt.encode(
        claims, "another-secret-" + "y" * 40, algorithm="HS256", headers={"kid": kid}
    )
    other_alg = jwt.encode(claims, TEST_SECRET, algorithm="HS512", headers={"kid": kid})
    payload = {
        "sub": user_id,
        "type": "access",
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 300,
    }
    alg_none = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(payload)}."
    no_kid = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    not_access = jwt.encode(
        {**claims, "type": "refresh"}, TEST_SECRET, algorithm="HS256", headers={"kid": kid}
    )
    for token in (expired, wrong_signature, other_alg, alg_none, no_kid, not_access, "garbage"):
        response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token


async def test_previous_secret_still_accepted_after_rotation(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = await register(client)
    settings = app.state.settings
    old_secret = settings.jwt_secret
    settings.jwt_secret = "rotated-secret-" + "z" * 40
    settings.jwt_previous_secrets = [old_secret]
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    settings.jwt_previous_secrets = []
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401


async def test_login_rehashes_outdated_password_hash(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    await _register(client, "old@example.com")
    weak_hash = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8192),)).hash(PASSWORD)
    async with app.state.sessionmaker() as session:
        user = (
            await session.execute(select(User).where(User.email == "old@example.com"))
        ).scalar_one()
        user.password_hash = weak_hash
        await session.commit()
    assert (await _login(client, "old@example.com")).status_code == 200
    async with app.state.sessionmaker() as session:
        user = (
            await session.execute(select(User).where(User.email == "old@example.com"))
        ).scalar_one()
        assert user.password_hash != weak_hash
        assert security.verify_password(PASSWORD, user.password_hash)[0]


async def test_login_rate_limited_per_ip_with_retry_after(client: httpx.AsyncClient) -> None:
    statuses = [
        (await _login(client, f"u{i}@example.com", "wrong-password")).status_code for i in range(6)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    limited = await _login(client, "u9@example.com", "wrong-password")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


async def test_login_rate_limited_per_email_across_ips(app: FastAPI) -> None:
    statuses = []
    for i in range(6):
        transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{i}", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            statuses.append((await _login(c, "target@example.com", "wrong-password")).status_code)
    assert statuses == [401] * 5 + [429]


async def test_register_rate_limited_per_ip(client: httpx.AsyncClient) -> None:
    statuses = [
        (await _register(client, f"r{i}-{uuid.uuid4().hex[:6]}@example.com")).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [201] * 10
    assert statuses[10] == 429

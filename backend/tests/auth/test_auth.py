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
    assert body["email"] == "ada@example.com"  # stored in its normal form
    assert body["full_name"] == "Ada"
    assert set(body) == {"id", "email", "full_name", "role", "created_at"}
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


async def test_login_rate_limited_per_ip_with_retry_after(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.state.settings.login_rate_limit_per_ip = "4/minute"
    statuses = [
        (await _login(client, f"u{i}@example.com", "wrong-password")).status_code for i in range(5)
    ]
    assert statuses == [401] * 4 + [429]
    limited = await _login(client, "u9@example.com", "wrong-password")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


async def test_login_rate_limited_per_account_and_address(client: httpx.AsyncClient) -> None:
    await _register(client, "pair@example.com")
    statuses = [
        (await _login(client, "pair@example.com", "wrong-password")).status_code for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]  # LOGIN_RATE_LIMIT_PER_ACCOUNT_IP, 5/minute
    # The right password from the same address waits too; another account does not.
    assert (await _login(client, "pair@example.com")).status_code == 429
    assert (await _login(client, "other@example.com", "wrong-password")).status_code == 401


async def _login_from(
    app: FastAPI, address: str, email: str, password: str = PASSWORD
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(address, 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        return await _login(c, email, password)


async def test_wrong_passwords_from_everywhere_do_not_lock_the_owner_out(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Guessing from 12 addresses (past LOGIN_RATE_LIMIT_PER_ACCOUNT, 10/hour) used to make the
    owner's right password answer 429; now the account is only guarded."""
    await _register(client, "victim@example.com")
    for i in range(12):
        guess = await _login_from(app, f"198.51.100.{i}", "victim@example.com", "guess-123456")
        assert guess.status_code == 401, i
    owner = await _login_from(app, "192.0.2.50", "victim@example.com")
    assert owner.status_code == 200, owner.text


async def test_guarded_account_refuses_addresses_that_keep_guessing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await _register(client, "guarded@example.com")
    for i in range(10):
        await _login_from(app, f"198.51.100.{i}", "guarded@example.com", "guess-123456")
    # Guarded now: an address may fail 3 times an hour (LOGIN_RATE_LIMIT_GUARDED_ACCOUNT_IP).
    attacker = "203.0.113.99"
    statuses = [
        (await _login_from(app, attacker, "guarded@example.com", "guess-123456")).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    refused = await _login_from(app, attacker, "guarded@example.com")
    assert refused.status_code == 429  # even a right guess: this address is out of tries
    assert int(refused.headers["retry-after"]) > 60
    assert (await _login_from(app, "192.0.2.51", "guarded@example.com")).status_code == 200


async def test_register_rate_limited_per_ip(client: httpx.AsyncClient) -> None:
    statuses = [
        (await _register(client, f"r{i}-{uuid.uuid4().hex[:6]}@example.com")).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [201] * 10
    assert statuses[10] == 429


async def test_logout_ends_the_access_token_at_once(client: httpx.AsyncClient) -> None:
    await _register(client, "bye@example.com")
    tokens = (await _login(client, "bye@example.com")).json()
    other_device = (await _login(client, "bye@example.com")).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    logout = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}
    )
    assert logout.status_code == 204
    after = await client.get("/api/v1/auth/me", headers=headers)
    assert after.status_code == 401  # not 15 minutes later: now
    assert after.json()["error"]["code"] == "unauthorized"
    # Only that sign-in ended: the other device's session goes on.
    other = {"Authorization": f"Bearer {other_device['access_token']}"}
    assert (await client.get("/api/v1/auth/me", headers=other)).status_code == 200


async def test_refresh_replay_also_ends_the_access_tokens(client: httpx.AsyncClient) -> None:
    await _register(client, "stolen@example.com")
    first = (await _login(client, "stolen@example.com")).json()
    rotated = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    headers = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    replay = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401


async def test_token_without_a_session_is_refused(client: httpx.AsyncClient) -> None:
    headers = await register(client)
    user_id = await _user_id(client, headers)
    now = datetime.now(UTC)
    legacy = jwt.encode(
        {"sub": user_id, "type": "access", "iat": now, "exp": now + timedelta(minutes=5)},
        TEST_SECRET,
        algorithm="HS256",
        headers={"kid": security.key_id(TEST_SECRET)},
    )
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {legacy}"})
    assert response.status_code == 401


async def test_fullwidth_look_alike_is_the_same_account(client: httpx.AsyncClient) -> None:
    assert (await _register(client, "usera@example.com")).status_code == 201
    for look_alike in (
        "\uff35\uff33\uff25\uff32\uff21@example.com",  # fullwidth USERA
        "  UserA@EXAMPLE.com ",
        "usera@\uff45xample.com",  # fullwidth e in the domain
    ):
        response = await _register(client, look_alike)
        assert response.status_code == 409, (look_alike, response.text)
        assert response.json()["error"]["code"] == "conflict"
    signed_in = await _login(client, "\uff35\uff33\uff25\uff32\uff21@example.com")
    assert signed_in.status_code == 200


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("p\u0430ypal@example.com", "look-alike"),  # Cyrillic a among Latin letters
        ("admin@ex\u0430mple.com", "look-alike"),
        ("user\u200b@example.com", "not a valid email"),  # zero-width space
        ("us\udfffer@example.com", "lone surrogate"),
        ("no-at-sign.example.com", "not a valid email"),
    ],
)
async def test_confusable_or_invalid_email_is_refused_with_a_clear_422(
    client: httpx.AsyncClient, email: str, reason: str
) -> None:
    body = {"email": email, "password": PASSWORD, "full_name": "Mallory"}
    response = await client.post(
        "/api/v1/auth/register",
        content=json.dumps(body),  # ASCII escapes: a lone surrogate travels as "\\udfff"
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith("email: ")
    assert reason in error["message"]


async def test_single_script_international_address_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    response = await _register(client, "\u0418\u0432\u0430\u043d@example.com")  # Иван
    assert response.status_code == 201, response.text
    assert response.json()["email"] == "\u0438\u0432\u0430\u043d@example.com"

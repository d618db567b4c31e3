"""Self-service: password change, profile, sessions list and revoke, `docchat reset-password`."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import httpx

from tests.conftest import register

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-new-and-longer-passphrase"


async def _login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, agent: str = "pytest"
) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def _bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_change_password_keeps_this_session_and_ends_the_others(
    client: httpx.AsyncClient,
) -> None:
    email = "change@example.com"
    await register(client, email)
    here = await _login(client, email, agent="laptop")
    elsewhere = await _login(client, email, agent="phone")

    wrong = await client.post(
        "/api/v1/auth/password",
        headers=_bearer(here),
        json={"current_password": "not-the-password", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 403
    assert wrong.json()["error"]["message"] == "The current password is not correct."
    short = await client.post(
        "/api/v1/auth/password",
        headers=_bearer(here),
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    assert short.status_code == 422

    changed = await client.post(
        "/api/v1/auth/password",
        headers=_bearer(here),
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=_bearer(here))).status_code == 200
    # The other device: its access token fails on the very next request, its refresh too.
    assert (await client.get("/api/v1/auth/me", headers=_bearer(elsewhere))).status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": elsewhere["refresh_token"]}
    )
    assert refreshed.status_code == 401
    old = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert old.status_code == 401
    await _login(client, email, NEW_PASSWORD)


async def test_sessions_list_and_revoke(client: httpx.AsyncClient) -> None:
    email = "sessions@example.com"
    await register(client, email)  # a first session, user agent of httpx
    laptop = await _login(client, email, agent="Firefox on the laptop")
    phone = await _login(client, email, agent="Safari on the phone")

    listed = await client.get("/api/v1/auth/sessions", headers=_bearer(laptop))
    assert listed.status_code == 200
    sessions = listed.json()
    assert len(sessions) == 3
    current = [item for item in sessions if item["current"]]
    assert len(current) == 1
    assert current[0]["user_agent"] == "Firefox on the laptop"
    assert current[0]["ip"] == "203.0.113.7"
    assert set(current[0]) == {"id", "created_at", "last_used_at", "ip", "user_agent", "current"}
    phone_session = next(s for s in sessions if s["user_agent"] == "Safari on the phone")

    revoked = await client.delete(
        f"/api/v1/auth/sessions/{phone_session['id']}", headers=_bearer(laptop)
    )
    assert revoked.status_code == 204
    # The revoked session's access token is refused on its next request.
    assert (await client.get("/api/v1/auth/me", headers=_bearer(phone))).status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    ).status_code == 401
    remaining = (await client.get("/api/v1/auth/sessions", headers=_bearer(laptop))).json()
    assert phone_session["id"] not in {item["id"] for item in remaining}
    assert len(remaining) == 2

    # A refresh keeps the session (same id) and moves its last use forward.
    rotated = await client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": laptop["refresh_token"]},
        headers={"User-Agent": "Firefox 2"},
    )
    after = (await client.get("/api/v1/auth/sessions", headers=_bearer(rotated.json()))).json()
    mine = next(item for item in after if item["current"])
    assert mine["id"] == current[0]["id"]
    assert mine["user_agent"] == "Firefox 2"
    assert mine["last_used_at"] > current[0]["last_used_at"]


async def test_sessions_of_someone_else_are_not_found(client: httpx.AsyncClient) -> None:
    await register(client, "owner@example.com")
    owner = await _login(client, "owner@example.com")
    await register(client, "other@example.com")
    other = await _login(client, "other@example.com")
    owner_session = (await client.get("/api/v1/auth/sessions", headers=_bearer(owner))).json()[0]

    response = await client.delete(
        f"/api/v1/auth/sessions/{owner_session['id']}", headers=_bearer(other)
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert (await client.get("/api/v1/auth/me", headers=_bearer(owner))).status_code == 200
    missing = await client.delete(f"/api/v1/auth/sessions/{uuid.uuid4()}", headers=_bearer(other))
    assert missing.status_code == 404
    assert (await client.get("/api/v1/auth/sessions")).status_code == 401


async def test_profile_name_and_email_change(client: httpx.AsyncClient) -> None:
    headers = await register(client, "before@example.com")
    await register(client, "taken@example.com")

    renamed = await client.patch("/api/v1/auth/me", headers=headers, json={"full_name": " Ada L "})
    assert renamed.status_code == 200
    assert renamed.json()["full_name"] == "Ada L"
    assert renamed.json()["pending_email"] is None

    no_password = await client.patch(
        "/api/v1/auth/me", headers=headers, json={"email": "after@example.com"}
    )
    assert no_password.status_code == 403
    wrong = await client.patch(
        "/api/v1/auth/me",
        headers=headers,
        json={"email": "after@example.com", "current_password": "wrong-password"},
    )
    assert wrong.status_code == 403
    taken = await client.patch(
        "/api/v1/auth/me",
        headers=headers,
        json={"email": "TAKEN@example.com", "current_password": PASSWORD},
    )
    assert taken.status_code == 409
    invalid = await client.patch(
        "/api/v1/auth/me", headers=headers, json={"email": "nope", "current_password": PASSWORD}
    )
    assert invalid.status_code == 422

    # Without mail configured the change applies at once.
    moved = await client.patch(
        "/api/v1/auth/me",
        headers=headers,
        json={"email": "After@Example.com", "current_password": PASSWORD},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["email"] == "after@example.com"
    assert (await client.get("/api/v1/auth/me", headers=headers)).json()["email"] == (
        "after@example.com"
    )
    await _login(client, "after@example.com")
    old = await client.post(
        "/api/v1/auth/login", json={"email": "before@example.com", "password": PASSWORD}
    )
    assert old.status_code == 401


async def test_auth_config_without_sso_or_mail(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/oidc/config")
    assert response.status_code == 200
    assert response.json() == {
        "enabled": False,
        "provider_name": None,
        "password_login_enabled": True,
        "password_reset_by_email": False,
    }
    assert (await client.get("/api/v1/auth/oidc/login")).status_code == 404


async def test_reset_password_command(
    client: httpx.AsyncClient, database_url: str, app: object, tmp_path: Path
) -> None:
    headers = await register(client, "forgot@example.com")
    docchat = Path(sys.executable).with_name("docchat")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DOCCHAT_PASSWORD", None)
    process = await asyncio.create_subprocess_exec(
        str(docchat),
        "reset-password",
        "FORGOT@example.com",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert "every session of the account was signed out" in lines[0]
    temporary = lines[-1].removeprefix("temporary password: ")
    assert len(temporary) >= 12
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    await _login(client, "forgot@example.com", temporary)

    unknown = await asyncio.create_subprocess_exec(
        str(docchat),
        "reset-password",
        "nobody@example.com",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await unknown.communicate()
    assert unknown.returncode == 1
    assert "No account has the address nobody@example.com." in err.decode()

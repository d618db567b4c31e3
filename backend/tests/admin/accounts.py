"""Accounts for the admin tests: the first one made on a fresh database is its admin."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

API = "/api/v1"
PASSWORD = "correct-horse-battery"


@dataclass
class Account:
    id: str
    email: str
    role: str
    headers: dict[str, str]
    refresh_token: str


async def sign_up(
    client: httpx.AsyncClient, email: str | None = None, **extra: Any
) -> httpx.Response:
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    return await client.post(
        f"{API}/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": "Test User", **extra},
    )


async def sign_in(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})


async def account(client: httpx.AsyncClient, email: str | None = None, **extra: Any) -> Account:
    """A new account (with `extra` sign-up fields, e.g. invite_token), signed in."""
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    created = await sign_up(client, email, **extra)
    assert created.status_code == 201, created.text
    tokens = await sign_in(client, email)
    assert tokens.status_code == 200, tokens.text
    return Account(
        id=created.json()["id"],
        email=email,
        role=created.json()["role"],
        headers={"Authorization": f"Bearer {tokens.json()['access_token']}"},
        refresh_token=tokens.json()["refresh_token"],
    )


async def admin_and_member(client: httpx.AsyncClient) -> tuple[Account, Account]:
    admin = await account(client)
    member = await account(client)
    assert (admin.role, member.role) == ("admin", "member")
    return admin, member


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])

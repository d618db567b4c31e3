"""Password reset and email change by email, through a real SMTP server (aiosmtpd) that the
test starts on 127.0.0.1, reading the messages it received."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.settings import Settings
from app.main import create_app
from tests.conftest import free_port, make_settings, register

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-new-and-longer-passphrase"
SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret p@ss"
PUBLIC_URL = "https://docchat.example.org"


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok)

    async def wait_for(self, count: int) -> list[EmailMessage]:
        for _ in range(100):
            if len(self.messages) >= count:
                return self.messages
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=box.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def mail_settings(database_url: str, tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Settings:
    _, port = mailbox
    return make_settings(
        database_url,
        tmp_path,
        run_worker=False,
        smtp_url=f"smtp://{SMTP_USER}:s3cret%20p%40ss@127.0.0.1:{port}",
        mail_from="DocChat <docchat@example.org>",
        public_url=PUBLIC_URL,
    )


@pytest.fixture
async def mail_app(mail_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(mail_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def mail_client(mail_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=mail_app, client=("198.51.100.4", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def _link_token(message: EmailMessage, page: str) -> str:
    body = message.get_content()
    match = re.search(rf"{re.escape(PUBLIC_URL)}/{page}/\?token=([\w-]+)", body)
    assert match, body
    return match.group(1)


async def test_reset_by_email_end_to_end(
    mail_client: httpx.AsyncClient, mailbox: tuple[Mailbox, int], mail_app: FastAPI
) -> None:
    box, _ = mailbox
    headers = await register(mail_client, "reset@example.com")
    config = (await mail_client.get("/api/v1/auth/oidc/config")).json()
    assert config["password_reset_by_email"] is True

    asked = await mail_client.post(
        "/api/v1/auth/password-reset", json={"email": "Reset@Example.com"}
    )
    assert asked.status_code == 202
    assert asked.content == b""
    (message,) = await box.wait_for(1)
    assert message["To"] == "reset@example.com"
    assert message["From"] == "DocChat <docchat@example.org>"
    assert "Reset your DocChat password" in message["Subject"]
    assert box.logins == [(SMTP_USER.encode(), SMTP_PASSWORD.encode())]
    token = _link_token(message, "reset-password")

    # Stored hashed: the database never holds the token that was mailed.
    sessionmaker: async_sessionmaker = mail_app.state.sessionmaker  # type: ignore[type-arg]
    async with sessionmaker() as session:
        stored = (await session.execute(text("SELECT token_hash FROM account_tokens"))).scalars()
        assert all(token.encode() not in bytes(value) for value in stored)

    too_short = await mail_client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "short"}
    )
    assert too_short.status_code == 422
    done = await mail_client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204
    # Every session ended; the old password is gone, the new one works.
    assert (await mail_client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    old = await mail_client.post(
        "/api/v1/auth/login", json={"email": "reset@example.com", "password": PASSWORD}
    )
    assert old.status_code == 401
    new = await mail_client.post(
        "/api/v1/auth/login", json={"email": "reset@example.com", "password": NEW_PASSWORD}
    )
    assert new.status_code == 200

    again = await mail_client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "yet-another-passphrase"},
    )
    assert again.status_code == 400
    assert "already used or has expired" in again.json()["error"]["message"]


async def test_unknown_address_gets_the_same_answer_and_no_mail(
    mail_client: httpx.AsyncClient, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    await register(mail_client, "known@example.com")
    unknown = await mail_client.post(
        "/api/v1/auth/password-reset", json={"email": "nobody@example.com"}
    )
    known = await mail_client.post(
        "/api/v1/auth/password-reset", json={"email": "known@example.com"}
    )
    assert unknown.status_code == known.status_code == 202
    assert unknown.content == known.content == b""
    assert unknown.headers.keys() - {"x-request-id", "date"} == known.headers.keys() - {
        "x-request-id",
        "date",
    }
    # Sent in order, after each answer: only the known address got one.
    await box.wait_for(1)
    await asyncio.sleep(0.3)
    assert [message["To"] for message in box.messages] == ["known@example.com"]


async def test_expired_and_forged_tokens_are_refused(
    mail_client: httpx.AsyncClient, mailbox: tuple[Mailbox, int], mail_app: FastAPI
) -> None:
    box, _ = mailbox
    await register(mail_client, "late@example.com")
    await mail_client.post("/api/v1/auth/password-reset", json={"email": "late@example.com"})
    token = _link_token((await box.wait_for(1))[0], "reset-password")
    sessionmaker: async_sessionmaker = mail_app.state.sessionmaker  # type: ignore[type-arg]
    async with sessionmaker() as session:
        await session.execute(
            text("UPDATE account_tokens SET expires_at = now() - interval '1 second'")
        )
        await session.commit()
    for candidate in (token, token[:-2] + "xx"):
        response = await mail_client.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": candidate, "new_password": NEW_PASSWORD},
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_request"


async def test_reset_requests_are_rate_limited_per_address(
    mail_client: httpx.AsyncClient, mailbox: tuple[Mailbox, int]
) -> None:
    # PASSWORD_RESET_RATE_LIMIT_PER_EMAIL is 3/hour: the 4th answer is 429, for an unknown
    # address just as for a known one.
    for address in ("limited@example.com", "ghost@example.com"):
        answers = [
            (await mail_client.post("/api/v1/auth/password-reset", json={"email": address}))
            for _ in range(4)
        ]
        assert [answer.status_code for answer in answers] == [202, 202, 202, 429]
        assert answers[-1].json()["error"]["code"] == "rate_limited"


async def test_email_change_waits_for_the_link_sent_to_the_new_address(
    mail_client: httpx.AsyncClient, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    headers = await register(mail_client, "old@example.com")
    changed = await mail_client.patch(
        "/api/v1/auth/me",
        headers=headers,
        json={"email": "new@example.com", "current_password": PASSWORD},
    )
    assert changed.status_code == 200
    assert changed.json()["email"] == "old@example.com"
    assert changed.json()["pending_email"] == "new@example.com"
    (message,) = await box.wait_for(1)
    assert message["To"] == "new@example.com"
    token = _link_token(message, "confirm-email")

    confirmed = await mail_client.post("/api/v1/auth/email/confirm", json={"token": token})
    assert confirmed.status_code == 200
    assert confirmed.json()["email"] == "new@example.com"
    assert (await mail_client.get("/api/v1/auth/me", headers=headers)).json()["email"] == (
        "new@example.com"
    )
    reused = await mail_client.post("/api/v1/auth/email/confirm", json={"token": token})
    assert reused.status_code == 400


async def test_unreachable_smtp_server_still_answers_202(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        run_worker=False,
        smtp_url=f"smtp://127.0.0.1:{free_port()}",
        mail_from="docchat@example.org",
        public_url=PUBLIC_URL,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await register(client, "down@example.com")
            response = await client.post(
                "/api/v1/auth/password-reset", json={"email": "down@example.com"}
            )
    assert response.status_code == 202


async def test_without_smtp_no_mail_and_the_web_app_is_told(client: httpx.AsyncClient) -> None:
    await register(client, "nomail@example.com")
    response = await client.post(
        "/api/v1/auth/password-reset", json={"email": "nomail@example.com"}
    )
    assert response.status_code == 202
    config = (await client.get("/api/v1/auth/oidc/config")).json()
    assert config["password_reset_by_email"] is False

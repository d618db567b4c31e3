"""Registration modes (open, invite, closed; stored in the database, default from config) and
invite links: expired, used, unknown, revoked, for another address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from app.auth import service as auth
from app.core.settings import Settings
from app.main import create_app
from tests.admin.accounts import API, PASSWORD, account, error_code, sign_in, sign_up
from tests.conftest import make_settings


async def _mode(client: httpx.AsyncClient, headers: dict[str, str], mode: str) -> None:
    response = await client.put(
        f"{API}/admin/settings", headers=headers, json={"registration_mode": mode}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"registration_mode": mode}


async def _invite(
    client: httpx.AsyncClient, headers: dict[str, str], **body: object
) -> dict[str, str]:
    response = await client.post(f"{API}/admin/invites", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_modes_open_invite_closed(client: httpx.AsyncClient) -> None:
    admin = await account(client)
    assert (await client.get(f"{API}/admin/settings", headers=admin.headers)).json() == {
        "registration_mode": "open"
    }
    assert (await sign_up(client)).status_code == 201

    await _mode(client, admin.headers, "closed")
    closed = await sign_up(client)
    assert closed.status_code == 403
    assert error_code(closed) == "forbidden"
    assert "closed" in closed.json()["error"]["message"]
    invite = await _invite(client, admin.headers)
    refused = await sign_up(client, invite_token=invite["token"])
    assert refused.status_code == 403  # closed means closed, invite or not

    await _mode(client, admin.headers, "invite")
    uninvited = await sign_up(client)
    assert uninvited.status_code == 403
    assert "invitation" in uninvited.json()["error"]["message"]
    invited = await sign_up(client, invite_token=invite["token"])
    assert invited.status_code == 201, invited.text
    assert invited.json()["role"] == "member"

    await _mode(client, admin.headers, "open")
    assert (await sign_up(client)).status_code == 201


async def test_invite_link_shape_single_use_and_listing(client: httpx.AsyncClient) -> None:
    admin = await account(client)
    await _mode(client, admin.headers, "invite")
    before = datetime.now(UTC)
    invite = await _invite(client, admin.headers, expires_in_hours=2)
    assert invite["url_path"] == f"/register?invite={invite['token']}"
    assert invite["email"] is None
    expires = datetime.fromisoformat(invite["expires_at"])
    assert before + timedelta(hours=2) <= expires <= datetime.now(UTC) + timedelta(hours=2)

    first = await sign_up(client, "first@example.com", invite_token=invite["token"])
    assert first.status_code == 201
    again = await sign_up(client, "second@example.com", invite_token=invite["token"])
    assert again.status_code == 403
    assert "already been used" in again.json()["error"]["message"]

    listed = (await client.get(f"{API}/admin/invites", headers=admin.headers)).json()
    assert [(i["id"], i["status"]) for i in listed] == [(invite["id"], "used")]
    assert listed[0]["used_at"] is not None
    assert invite["token"] not in str(listed)  # shown once, stored hashed


async def test_expired_unknown_revoked_and_other_address_invites(
    client: httpx.AsyncClient, database_url: str
) -> None:
    admin = await account(client)
    await _mode(client, admin.headers, "invite")
    expired = await _invite(client, admin.headers, expires_in_hours=1)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE invites SET expires_at = now() - interval '1 second' WHERE id = %s",
            (expired["id"],),
        )
    response = await sign_up(client, invite_token=expired["token"])
    assert response.status_code == 403
    assert "expired" in response.json()["error"]["message"]
    listed = (await client.get(f"{API}/admin/invites", headers=admin.headers)).json()
    assert listed[0]["status"] == "expired"

    unknown = await sign_up(client, invite_token="not-a-real-invite-token")
    assert unknown.status_code == 403
    assert "not valid" in unknown.json()["error"]["message"]

    revoked = await _invite(client, admin.headers)
    removed = await client.delete(f"{API}/admin/invites/{revoked['id']}", headers=admin.headers)
    assert removed.status_code == 204
    assert (await sign_up(client, invite_token=revoked["token"])).status_code == 403
    again = await client.delete(f"{API}/admin/invites/{revoked['id']}", headers=admin.headers)
    assert again.status_code == 404

    addressed = await _invite(client, admin.headers, email="Invited@Example.com")
    assert addressed["email"] == "invited@example.com"
    other = await sign_up(client, "someone-else@example.com", invite_token=addressed["token"])
    assert other.status_code == 403
    assert "another email" in other.json()["error"]["message"]
    right = await sign_up(client, "INVITED@example.com", invite_token=addressed["token"])
    assert right.status_code == 201
    # A refused sign-up left the invite usable: the right address could still use it.


async def test_invite_lifetime_bounds(client: httpx.AsyncClient, settings: Settings) -> None:
    admin = await account(client)
    default = await _invite(client, admin.headers)
    hours = (
        datetime.fromisoformat(default["expires_at"]) - datetime.now(UTC)
    ).total_seconds() / 3600
    assert settings.invite_default_hours - 0.1 < hours <= settings.invite_default_hours
    too_long = await client.post(
        f"{API}/admin/invites",
        headers=admin.headers,
        json={"expires_in_hours": settings.invite_max_hours + 1},
    )
    assert too_long.status_code == 422
    assert "INVITE_MAX_HOURS" in too_long.json()["error"]["message"]
    for bad in ({"expires_in_hours": 0}, {"email": "not an email"}):
        response = await client.post(f"{API}/admin/invites", headers=admin.headers, json=bad)
        assert response.status_code == 422, bad


async def test_configured_default_mode_and_first_account(database_url: str, tmp_path: Path) -> None:
    """REGISTRATION_MODE=closed: nobody signs up from the web, not even the first account
    (it comes from `docchat create-user`), until an admin opens registration."""
    app = create_app(make_settings(database_url, tmp_path, registration_mode="closed"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            refused = await sign_up(client)
            assert refused.status_code == 403
            assert "closed" in refused.json()["error"]["message"]
            async with app.state.sessionmaker() as session:
                created = await auth.create_user(
                    session, email="op@example.com", password=PASSWORD, full_name="Operator"
                )
                await session.commit()
            assert created.role == "admin"
            tokens = (await sign_in(client, "op@example.com")).json()
            headers = {"Authorization": f"Bearer {tokens['access_token']}"}
            settings = await client.get(f"{API}/admin/settings", headers=headers)
            assert settings.json() == {"registration_mode": "closed"}
            await _mode(client, headers, "open")
            assert (await sign_up(client)).status_code == 201

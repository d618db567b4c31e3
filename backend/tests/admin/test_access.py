"""Who may use the admin API (every route: anonymous 401, member 403, admin allowed), the
first-run rule (also under a race), and `docchat create-user --admin`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from app.admin import repository as admin_repository
from app.admin import service as admin_service
from app.auth import service as auth
from app.auth.models import Role, User
from app.core.settings import Settings
from app.main import create_app
from tests.admin.accounts import API, PASSWORD, account, admin_and_member, error_code, sign_up
from tests.conftest import TEST_SECRET, walk_routes

BACKEND = Path(__file__).resolve().parents[2]
DOCCHAT = Path(sys.executable).parent / "docchat"

# One request per admin route; `{id}` is filled with an existing account's or invite's id.
ADMIN_REQUESTS: dict[tuple[str, str], dict[str, object]] = {
    ("GET", f"{API}/admin/users"): {},
    ("PATCH", f"{API}/admin/users/{{user_id}}"): {"json": {"quota_documents": 5}},
    ("DELETE", f"{API}/admin/users/{{user_id}}"): {},
    ("GET", f"{API}/admin/settings"): {},
    ("PUT", f"{API}/admin/settings"): {"json": {"registration_mode": "invite"}},
    ("POST", f"{API}/admin/invites"): {"json": {"expires_in_hours": 1}},
    ("GET", f"{API}/admin/invites"): {},
    ("DELETE", f"{API}/admin/invites/{{invite_id}}"): {},
    ("GET", f"{API}/admin/audit"): {},
    ("GET", f"{API}/admin/audit.csv"): {},
}


def test_every_admin_route_is_in_the_access_table() -> None:
    settings = Settings(
        _env_file=None, database_url="postgresql://unused/db", jwt_secret=TEST_SECRET
    )
    routes = {
        (method, path)
        for method, path in walk_routes(list(create_app(settings).routes))
        if path.startswith(f"{API}/admin")
    }
    assert routes == set(ADMIN_REQUESTS)


async def test_anonymous_gets_401_and_member_403_on_every_admin_route(
    client: httpx.AsyncClient,
) -> None:
    admin, member = await admin_and_member(client)
    invite = await client.post(
        f"{API}/admin/invites", headers=admin.headers, json={"expires_in_hours": 1}
    )
    ids = {"user_id": admin.id, "invite_id": invite.json()["id"]}
    for (method, path), extra in ADMIN_REQUESTS.items():
        url = path.format(**ids)
        anonymous = await client.request(method, url, **extra)  # type: ignore[arg-type]
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert error_code(anonymous) == "unauthorized"
        refused = await client.request(method, url, headers=member.headers, **extra)  # type: ignore[arg-type]
        assert refused.status_code == 403, (method, path, refused.text)
        assert error_code(refused) == "forbidden"
        assert refused.json()["error"]["request_id"]
    # None of the refused requests changed anything.
    users = await client.get(f"{API}/admin/users", headers=admin.headers)
    assert [u["quota"]["documents"] for u in users.json()] == [None, None]
    assert (await client.get(f"{API}/admin/settings", headers=admin.headers)).json() == {
        "registration_mode": "open"
    }
    assert len((await client.get(f"{API}/admin/invites", headers=admin.headers)).json()) == 1


async def test_the_first_account_is_admin_and_me_says_so(client: httpx.AsyncClient) -> None:
    first = await account(client)
    second = await account(client)
    me = await client.get(f"{API}/auth/me", headers=first.headers)
    assert me.json()["role"] == "admin"
    me = await client.get(f"{API}/auth/me", headers=second.headers)
    assert me.json()["role"] == "member"
    assert (await client.get(f"{API}/admin/users", headers=first.headers)).status_code == 200


async def test_simultaneous_first_sign_ups_make_exactly_one_admin(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The second first-account transaction waits for the first to commit, then sees it."""
    sessionmaker = app.state.sessionmaker
    async with sessionmaker() as first, sessionmaker() as second:
        one = await auth.create_user(
            first, email="one@example.com", password=PASSWORD, full_name="One"
        )
        other = asyncio.create_task(
            auth.create_user(second, email="two@example.com", password=PASSWORD, full_name="Two")
        )
        await asyncio.sleep(1.0)
        assert not other.done(), "the second sign-up did not wait for the first to commit"
        await first.commit()
        two = await asyncio.wait_for(other, timeout=30)
        await second.commit()
    assert (one.role, two.role) == ("admin", "member")


async def test_a_burst_of_first_sign_ups_over_http_makes_one_admin(
    client: httpx.AsyncClient,
) -> None:
    responses = await asyncio.gather(*(sign_up(client, f"burst-{n}@example.com") for n in range(6)))
    assert [r.status_code for r in responses] == [201] * 6
    assert sorted(r.json()["role"] for r in responses) == ["admin"] + ["member"] * 5


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "HF_HUB_OFFLINE")}
    env.update(ENVIRONMENT="development", DATABASE_URL=database_url, PYTHONPATH=str(BACKEND))
    return subprocess.run(
        [str(DOCCHAT), "create-user", "--full-name", "CLI", "--password", PASSWORD, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_create_user_admin_flag_and_first_run_rule(database_url: str) -> None:
    first = _cli(database_url, "--email", "first@example.com")
    admin = _cli(database_url, "--email", "boss@example.com", "--admin")
    member = _cli(database_url, "--email", "plain@example.com")
    for done in (first, admin, member):
        assert done.returncode == 0, done.stdout + done.stderr
    assert "(admin, " in admin.stdout
    with psycopg.connect(database_url) as conn:
        roles = dict(conn.execute("SELECT email, role FROM users").fetchall())
        audited = conn.execute(
            "SELECT target_id, details->>'via', details->>'role' FROM audit_events "
            "WHERE action = 'auth.register' ORDER BY id"
        ).fetchall()
    assert roles == {
        "first@example.com": Role.ADMIN,
        "boss@example.com": Role.ADMIN,
        "plain@example.com": Role.MEMBER,
    }
    assert [(via, role) for _, via, role in audited] == [
        ("cli", "admin"),
        ("cli", "admin"),
        ("cli", "member"),
    ]
    assert all(uuid.UUID(target) for target, _, _ in audited)


@pytest.mark.parametrize("action", ["demote", "disable", "delete"])
async def test_the_last_admin_cannot_remove_themself(
    client: httpx.AsyncClient, action: str
) -> None:
    admin, member = await admin_and_member(client)
    url = f"{API}/admin/users/{admin.id}"
    requests = {
        "demote": lambda: client.patch(url, headers=admin.headers, json={"role": "member"}),
        "disable": lambda: client.patch(url, headers=admin.headers, json={"disabled": True}),
        "delete": lambda: client.delete(url, headers=admin.headers),
    }
    refused = await requests[action]()
    assert refused.status_code == 409, refused.text
    assert "last administrator" in refused.json()["error"]["message"]
    me = await client.get(f"{API}/auth/me", headers=admin.headers)
    assert me.status_code == 200
    assert me.json()["role"] == "admin"
    # With a second admin, the same request goes through.
    promoted = await client.patch(
        f"{API}/admin/users/{member.id}", headers=admin.headers, json={"role": "admin"}
    )
    assert promoted.status_code == 200
    done = await requests[action]()
    assert done.status_code in (200, 204), done.text


async def test_two_admins_demoting_themselves_at_once_leave_one_admin(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    """Each transaction holds its own account's row when it checks for another admin: the
    second waits for the first to commit (instead of the two deadlocking), then is refused."""
    first, second = await admin_and_member(client)
    await client.patch(
        f"{API}/admin/users/{second.id}", headers=first.headers, json={"role": "admin"}
    )
    demote = admin_service.UserChanges(fields=frozenset({"role"}), role=Role.MEMBER)
    sessionmaker = app.state.sessionmaker
    async with sessionmaker() as one, sessionmaker() as two:
        tasks: list[asyncio.Task[admin_service.AdminUserView]] = []
        for session, account_id in ((one, first.id), (two, second.id)):
            actor = await admin_repository.get_user_for_update(
                session, user_id=uuid.UUID(account_id)
            )
            assert actor is not None
        for session, account_id in ((one, first.id), (two, second.id)):
            actor = await session.get(User, uuid.UUID(account_id))
            assert actor is not None
            tasks.append(
                asyncio.create_task(
                    admin_service.update_user(
                        session, actor=actor, user_id=actor.id, changes=demote, settings=settings
                    )
                )
            )
            await asyncio.wait([tasks[-1]], timeout=2)
        # Both rows are held now. Finish each transaction as its work ends.
        pending = dict(zip(tasks, (one, two), strict=True))
        while pending:
            done, _ = await asyncio.wait(pending, timeout=60, return_when=asyncio.FIRST_COMPLETED)
            assert done, "the two transactions wait for each other"
            for task in done:
                session = pending.pop(task)
                await (session.commit() if task.exception() is None else session.rollback())
    outcomes = [task.exception() or task.result() for task in tasks]
    kinds = sorted(type(outcome).__name__ for outcome in outcomes)
    assert kinds == ["AdminUserView", "Conflict"], outcomes
    roles = [
        (await client.get(f"{API}/auth/me", headers=admin.headers)).json()["role"]
        for admin in (first, second)
    ]
    assert sorted(roles) == ["admin", "member"]

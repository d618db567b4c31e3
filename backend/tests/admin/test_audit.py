"""The audit log: every recorded action with who, what, when, IP and request id; filters and
CSV export; append-only in the database."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from tests.admin.accounts import API, PASSWORD, account, admin_and_member, sign_in
from tests.conftest import upload

CLIENT_IP = "203.0.113.7"  # the test client's address (tests/conftest.py)


async def _events(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/admin/audit", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return list(response.json())


def _one(events: list[dict[str, Any]], action: str) -> dict[str, Any]:
    found = [e for e in events if e["action"] == action]
    assert len(found) == 1, (action, [e["action"] for e in events])
    return found[0]


async def test_each_action_is_recorded_with_actor_target_ip_and_request_id(
    client: httpx.AsyncClient,
) -> None:
    admin, member = await admin_and_member(client)
    admin_actor = {"id": admin.id, "email": admin.email}
    member_actor = {"id": member.id, "email": member.email}
    traced = {"X-Request-ID": "audit-test-request-0001"}

    wrong = await client.post(
        f"{API}/auth/login",
        headers=traced,
        json={"email": member.email, "password": "wrong-password-here"},
    )
    assert wrong.status_code == 401
    unknown = await client.post(
        f"{API}/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert unknown.status_code == 401
    await client.post(f"{API}/auth/logout", json={"refresh_token": member.refresh_token})

    victim = await account(client)
    target = f"{API}/admin/users/{victim.id}"
    await client.patch(target, headers=admin.headers, json={"role": "admin"})
    await client.patch(target, headers=admin.headers, json={"disabled": True})
    await client.patch(target, headers=admin.headers, json={"disabled": False})
    await client.patch(target, headers=admin.headers, json={"quota_documents": 3})
    # A refused change (an unknown user: 404) records nothing.
    await client.patch(
        f"{API}/admin/users/{uuid.uuid4()}", headers=admin.headers, json={"role": "admin"}
    )
    await client.put(
        f"{API}/admin/settings", headers=admin.headers, json={"registration_mode": "invite"}
    )
    invite = (
        await client.post(
            f"{API}/admin/invites",
            headers=admin.headers,
            json={"email": "guest@example.com", "expires_in_hours": 5},
        )
    ).json()
    await client.delete(f"{API}/admin/invites/{invite['id']}", headers=admin.headers)
    # Disabling ended the victim's sessions: sign in again.
    tokens = (await sign_in(client, victim.email)).json()
    victim_headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    owned = await upload(client, victim_headers, ("victim.txt", b"Some text.\n", "text/plain"))
    document_id = owned.json()[0]["id"]
    await client.delete(f"{API}/documents/{document_id}", headers=victim_headers)
    await client.delete(target, headers=admin.headers)

    events = await _events(client, admin.headers)
    for event in events:
        assert event["ip"] == CLIENT_IP, event
        assert event["request_id"], event
        assert datetime.fromisoformat(event["at"]) > datetime.now(UTC) - timedelta(minutes=5)
    assert [e["at"] for e in events] == sorted((e["at"] for e in events), reverse=True)

    failed = [e for e in events if e["action"] == "auth.sign_in_failed"]
    assert len(failed) == 2
    by_reason = {e["details"]["reason"]: e for e in failed}
    assert by_reason["wrong_password"]["actor"] is None
    assert by_reason["wrong_password"]["target_id"] == member.id
    assert by_reason["wrong_password"]["request_id"] == "audit-test-request-0001"
    assert by_reason["wrong_password"]["details"]["email"] == member.email
    assert by_reason["unknown_account"]["target_id"] is None
    assert "password" not in str(failed).replace("wrong_password", "")

    signed_in = [e for e in events if e["action"] == "auth.sign_in"]
    assert {e["actor"]["id"] for e in signed_in} == {admin.id, member.id, victim.id}
    assert _one(events, "auth.sign_out")["actor"] == member_actor
    registered = [e for e in events if e["action"] == "auth.register"]
    assert [e["details"]["role"] for e in reversed(registered)] == ["admin", "member", "member"]

    role = _one(events, "user.role_change")
    assert role["actor"] == admin_actor
    assert (role["target_type"], role["target_id"]) == ("user", victim.id)
    assert role["details"] == {"from": "member", "to": "admin"}
    assert _one(events, "user.disable")["target_id"] == victim.id
    assert _one(events, "user.enable")["target_id"] == victim.id
    assert _one(events, "user.quota_change")["details"] == {
        "quota_documents": {"from": None, "to": 3}
    }
    assert _one(events, "settings.registration_mode")["details"] == {
        "from": "open",
        "to": "invite",
    }
    created = _one(events, "invite.create")
    assert (created["target_type"], created["target_id"]) == ("invite", invite["id"])
    assert created["details"]["email"] == "guest@example.com"
    assert invite["token"] not in str(events)
    assert _one(events, "invite.revoke")["target_id"] == invite["id"]
    deleted_document = _one(events, "document.delete")
    assert deleted_document["actor"] == {"id": victim.id, "email": victim.email}
    assert deleted_document["target_id"] == document_id
    assert deleted_document["details"] == {}  # no filename: admins do not see content
    deleted_user = _one(events, "user.delete")
    assert deleted_user["actor"] == admin_actor
    assert deleted_user["details"] == {"email": victim.email, "documents": 0}
    # The deleted account's own records stay, with the address it had.
    assert any(e["actor"] == {"id": victim.id, "email": victim.email} for e in signed_in)


async def test_filters_and_csv_export(client: httpx.AsyncClient) -> None:
    admin, member = await admin_and_member(client)
    # A value a spreadsheet would run as a formula.
    formula = await account(client, "=hyperlink@example.com")
    for disabled in (True, False, True):
        await client.patch(
            f"{API}/admin/users/{member.id}", headers=admin.headers, json={"disabled": disabled}
        )
    disables = await _events(client, admin.headers, action="user.disable")
    assert len(disables) == 2
    assert {e["action"] for e in disables} == {"user.disable"}

    by_email = await _events(client, admin.headers, actor=formula.email[1:9].upper())
    assert {e["actor"]["id"] for e in by_email} == {formula.id}
    by_id = await _events(client, admin.headers, actor=member.id)
    assert {e["action"] for e in by_id} == {"auth.register", "auth.sign_in"}

    everything = await _events(client, admin.headers)
    middle = sorted(e["at"] for e in everything)[len(everything) // 2]
    since = await _events(client, admin.headers, since=middle)
    until = await _events(client, admin.headers, until=middle)
    assert len(since) + len(until) == len(everything)
    assert all(e["at"] >= middle for e in since) and all(e["at"] < middle for e in until)
    assert len(await _events(client, admin.headers, limit="2")) == 2

    bad = await client.get(f"{API}/admin/audit", headers=admin.headers, params={"since": "soon"})
    assert bad.status_code == 422

    exported = await client.get(
        f"{API}/admin/audit.csv", headers=admin.headers, params={"action": "user.disable"}
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["id"] for row in rows] == [str(e["id"]) for e in disables]
    assert rows[0]["actor_email"] == admin.email
    assert rows[0]["target_id"] == member.id
    assert rows[0]["ip"] == CLIENT_IP

    whole = await client.get(f"{API}/admin/audit.csv", headers=admin.headers)
    rows = list(csv.DictReader(io.StringIO(whole.text)))
    emails = {row["actor_email"] for row in rows}
    assert "'=hyperlink@example.com" in emails
    assert "=hyperlink@example.com" not in emails
    # The export itself is an admin action.
    exports = await _events(client, admin.headers, action="audit.export")
    assert [e["details"] for e in exports] == [
        {"rows": len(rows)},
        {"rows": 2, "action": "user.disable"},
    ]


async def test_the_log_is_append_only_in_the_database(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await account(client)
    for statement in (
        "UPDATE audit_events SET action = 'nothing'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ):
        with (
            psycopg.connect(database_url) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
        ):
            conn.execute(statement)
    with psycopg.connect(database_url) as conn:
        actions = [row[0] for row in conn.execute("SELECT action FROM audit_events ORDER BY id")]
    assert actions == ["auth.register", "auth.sign_in"]

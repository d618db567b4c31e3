"""Single sign-on against a real OpenID provider: the npm `oidc-provider` package, started
here with node on a free port (tests/oidc_provider/provider.mjs), signed in to through its own
HTML login and consent forms. DocChat's side runs through its HTTP routes."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.starlette_client import StarletteOAuth2App
from fastapi import FastAPI
from joserfc import jwt as jose_jwt
from joserfc.jwk import RSAKey

from app.auth import oidc
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import free_port, make_settings, register

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc_provider"
PUBLIC_URL = "http://testserver"
CALLBACK = f"{PUBLIC_URL}/api/v1/auth/oidc/callback"
CLIENT_ID, CLIENT_SECRET = "docchat", "docchat-test-secret"


@dataclass(frozen=True)
class Provider:
    issuer: str


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    node = shutil.which("node")
    if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(
            "the SSO tests need node and `npm ci --prefix backend/tests/oidc_provider` "
            "(.ci/run and `make install` do it)"
        )
    port = free_port()
    process = subprocess.Popen(
        [node, str(PROVIDER_DIR / "provider.mjs"), str(port), CALLBACK],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("listening "), line
    yield Provider(issuer=line.split()[1])
    process.terminate()
    process.wait(timeout=10)


def _settings(database_url: str, tmp: Path, provider: Provider, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "run_worker": False,
        "public_url": PUBLIC_URL,
        "oidc_issuer": provider.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "oidc_provider_name": "Test IdP",
        "oidc_scopes": "openid email profile groups",
        "oidc_groups_claim": "groups",
    }
    return make_settings(database_url, tmp, **{**values, **overrides})


@pytest.fixture
def sso_settings(database_url: str, tmp_path: Path, provider: Provider) -> Settings:
    return _settings(database_url, tmp_path, provider)


async def _app_client(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            yield application, client


@pytest.fixture
async def sso(sso_settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async for pair in _app_client(sso_settings):
        yield pair


async def provider_sign_in(authorize_url: str, login: str) -> str:
    """Sign in at the provider through its HTML forms, as a browser would; the URL it sends
    the browser back to (DocChat's callback)."""
    async with httpx.AsyncClient(timeout=10) as browser:
        response = await browser.get(authorize_url)
        for _ in range(10):
            assert response.status_code in (302, 303), response.text
            location = str(response.next_request.url) if response.next_request else ""
            if location.startswith(CALLBACK):
                return location
            page = await browser.get(location)
            if page.status_code in (302, 303):
                response = page
                continue
            action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
            assert action, page.text
            target = httpx.URL(location).join(action.group(1))
            if 'name="login"' in page.text:
                form = {"prompt": "login", "login": login, "password": "any"}
            else:
                assert 'value="consent"' in page.text, page.text
                form = {"prompt": "consent"}
            response = await browser.post(target, data=form)
        raise AssertionError("the provider never sent the browser back")


def _fragment(response: httpx.Response) -> tuple[str, dict[str, str]]:
    assert response.status_code == 302, response.text
    parts = urlsplit(response.headers["location"])
    # The one-time code comes in the fragment (never sent to a server), a refusal in the query.
    assert parts.query if "/login/" in parts.path else parts.fragment
    values = {key: value[0] for key, value in parse_qs(parts.fragment or parts.query).items()}
    return f"{parts.scheme}://{parts.netloc}{parts.path}", values


async def sso_sign_in(client: httpx.AsyncClient, login: str) -> tuple[str, dict[str, str]]:
    """DocChat's login redirect, the provider's sign-in, then DocChat's callback: the web app
    page the browser lands on and the values in its fragment."""
    client.cookies.clear()
    started = await client.get("/api/v1/auth/oidc/login")
    assert started.status_code == 302, started.text
    callback = await provider_sign_in(started.headers["location"], login)
    return _fragment(await client.get(callback))


async def test_config_reports_the_provider(sso: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = sso
    response = await client.get("/api/v1/auth/oidc/config")
    assert response.json() == {
        "enabled": True,
        "provider_name": "Test IdP",
        "password_login_enabled": True,
        "password_reset_by_email": False,
    }


async def test_login_redirects_with_pkce_state_and_nonce(
    sso: tuple[FastAPI, httpx.AsyncClient], provider: Provider
) -> None:
    _, client = sso
    response = await client.get("/api/v1/auth/oidc/login")
    assert response.status_code == 302
    url = urlsplit(response.headers["location"])
    # The authorization endpoint comes from the provider's discovery document.
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.issuer}/auth"
    query = {key: value[0] for key, value in parse_qs(url.query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"]
    assert set(query["scope"].split()) == {"openid", "email", "profile", "groups"}
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{oidc.FLOW_COOKIE}=")
    assert "HttpOnly" in cookie and "Path=/api/v1/auth/oidc" in cookie
    assert "samesite=lax" in cookie.lower()
    # The verifier itself never leaves DocChat in the clear through the URL.
    assert "code_verifier" not in response.headers["location"]


async def test_code_flow_signs_in_and_links_by_verified_email(
    sso: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = sso
    headers = await register(client, "ada@example.com")
    existing = (await client.get("/api/v1/auth/me", headers=headers)).json()

    page, values = await sso_sign_in(client, "ada@example.com")
    assert page == f"{PUBLIC_URL}/sso/"
    assert set(values) == {"code"}
    exchanged = await client.post("/api/v1/auth/oidc/exchange", json={"code": values["code"]})
    assert exchanged.status_code == 200, exchanged.text
    tokens = exchanged.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.json()["id"] == existing["id"]  # linked to the password account
    # The same tokens as a password sign-in: refresh works, and the session is listed.
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    # The code was single-use.
    again = await client.post("/api/v1/auth/oidc/exchange", json={"code": values["code"]})
    assert again.status_code == 401


async def test_first_sign_in_creates_an_account_without_password(
    sso: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = sso
    _, values = await sso_sign_in(client, "grace@example.com")
    tokens = (await client.post("/api/v1/auth/oidc/exchange", json={"code": values["code"]})).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    assert me["email"] == "grace@example.com"
    assert me["full_name"] == "Test grace"
    # No password: password sign-in fails, a password change explains why.
    login = await client.post(
        "/api/v1/auth/login", json={"email": "grace@example.com", "password": "anything-at-all"}
    )
    assert login.status_code == 401
    change = await client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": "x", "new_password": "a-long-new-password"},
    )
    assert change.status_code == 403
    assert "single sign-on" in change.json()["error"]["message"]

    # A second sign-in finds the same account through the linked identity.
    _, second = await sso_sign_in(client, "grace@example.com")
    tokens = (await client.post("/api/v1/auth/oidc/exchange", json={"code": second["code"]})).json()
    again = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert again.json()["id"] == me["id"]


async def test_unverified_email_is_refused(sso: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = sso
    page, values = await sso_sign_in(client, "unverified:mallory@example.com")
    assert page == f"{PUBLIC_URL}/login/"
    assert values["sso_error"] == (
        "Test IdP has not verified the address mallory@example.com; verify it there first."
    )


async def test_disallowed_domain_is_refused(
    database_url: str, tmp_path: Path, provider: Provider
) -> None:
    settings = _settings(
        database_url, tmp_path, provider, oidc_allowed_email_domains="Example.org, corp.example"
    )
    async for _, client in _app_client(settings):
        page, values = await sso_sign_in(client, "eve@example.com")
        assert page == f"{PUBLIC_URL}/login/"
        assert values["sso_error"] == (
            "Addresses at example.com may not sign in to this DocChat; ask your administrator."
        )
        _, allowed = await sso_sign_in(client, "bob@example.org")
        assert "code" in allowed


async def test_callback_needs_the_browser_that_started_it(
    sso: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = sso
    started = await client.get("/api/v1/auth/oidc/login")
    callback = await provider_sign_in(started.headers["location"], "ada@example.com")
    client.cookies.clear()  # another browser (or a forged link) has no flow cookie
    _, values = _fragment(await client.get(callback))
    assert "started in another browser" in values["sso_error"]

    started = await client.get("/api/v1/auth/oidc/login")
    callback = await provider_sign_in(started.headers["location"], "ada@example.com")
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    _, values = _fragment(await client.get(forged))
    assert values["sso_error"] == "The sign-in answer does not match the sign-in that was started."

    refused = await client.get(
        "/api/v1/auth/oidc/callback",
        params={"error": "access_denied", "error_description": "End-User aborted interaction"},
    )
    _, values = _fragment(refused)
    assert values["sso_error"] == "Test IdP did not sign you in: End-User aborted interaction."


async def test_code_exchange_needs_the_pkce_verifier(
    sso: tuple[FastAPI, httpx.AsyncClient], sso_settings: Settings
) -> None:
    app, client = sso
    started = await client.get("/api/v1/auth/oidc/login")
    flow = oidc.open_flow(client.cookies[oidc.FLOW_COOKIE], secret=sso_settings.signing_secret)
    callback = await provider_sign_in(started.headers["location"], "ada@example.com")
    query = {key: value[0] for key, value in parse_qs(urlsplit(callback).query).items()}
    wrong = oidc.Flow(state=flow.state, nonce=flow.nonce, code_verifier="x" * 43)
    with pytest.raises(oidc.SignInRejected, match="invalid_grant"):
        await oidc.finish(
            app.state.oidc_client,
            sso_settings,
            flow=wrong,
            state=query["state"],
            code=query["code"],
        )


# --- ID token validation, on tokens the real provider issued -----------------------------


async def _provider_tokens(
    provider: Provider, *, client_id: str, client_secret: str, nonce: str
) -> dict[str, Any]:
    """A token response for `client_id`, through the real authorization code flow."""
    settings = make_settings(
        "postgresql://unused/unused",
        Path("/nonexistent"),
        public_url=PUBLIC_URL,
        oidc_issuer=provider.issuer,
        oidc_client_id=client_id,
        oidc_client_secret=client_secret,
        oidc_scopes="openid email profile groups",
    )
    client = oidc.create_client(settings)
    created = await client.create_authorization_url(CALLBACK, nonce=nonce)
    callback = await provider_sign_in(created["url"], "ada@example.com")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    token: dict[str, Any] = await client.fetch_access_token(
        CALLBACK, code=code, code_verifier=created["code_verifier"]
    )
    return token


@pytest.fixture
def docchat_client(sso_settings: Settings) -> StarletteOAuth2App:
    return oidc.create_client(sso_settings)


def _segments(id_token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = id_token.split(".")
    pad = lambda part: part + "=" * (-len(part) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def _encode(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


async def test_a_valid_id_token_passes(
    provider: Provider, docchat_client: StarletteOAuth2App, sso_settings: Settings
) -> None:
    token = await _provider_tokens(
        provider, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, nonce="n-1"
    )
    claims = await oidc.validate_id_token(docchat_client, sso_settings, token=token, nonce="n-1")
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == CLIENT_ID
    identity = oidc.identity_from_claims(claims, sso_settings)
    assert identity.email == "ada@example.com"
    assert identity.email_verified is True
    assert identity.groups == ["engineering", "everyone"]


async def test_nonce_mismatch_is_refused(
    provider: Provider, docchat_client: StarletteOAuth2App, sso_settings: Settings
) -> None:
    token = await _provider_tokens(
        provider, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, nonce="n-2"
    )
    with pytest.raises(oidc.SignInRejected, match="nonce"):
        await oidc.validate_id_token(docchat_client, sso_settings, token=token, nonce="other")


async def test_wrong_audience_is_refused(
    provider: Provider, docchat_client: StarletteOAuth2App, sso_settings: Settings
) -> None:
    # A genuine ID token of the same provider, issued to another application.
    token = await _provider_tokens(
        provider, client_id="other-app", client_secret="other-app-secret", nonce="n-3"
    )
    assert _segments(token["id_token"])[1]["aud"] == "other-app"
    with pytest.raises(oidc.SignInRejected, match="aud"):
        await oidc.validate_id_token(docchat_client, sso_settings, token=token, nonce="n-3")


async def test_wrong_issuer_is_refused(
    provider: Provider, docchat_client: StarletteOAuth2App, sso_settings: Settings
) -> None:
    token = await _provider_tokens(
        provider, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, nonce="n-4"
    )
    elsewhere = sso_settings.model_copy(update={"oidc_issuer": "https://login.example.net"})
    with pytest.raises(oidc.SignInRejected, match="iss"):
        await oidc.validate_id_token(docchat_client, elsewhere, token=token, nonce="n-4")


async def test_tampered_and_re_signed_tokens_are_refused(
    provider: Provider, docchat_client: StarletteOAuth2App, sso_settings: Settings
) -> None:
    token = await _provider_tokens(
        provider, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, nonce="n-5"
    )
    header, payload, signature = _segments(token["id_token"])

    # Claims changed after signing: the provider's signature no longer matches.
    tampered = {**payload, "email": "admin@example.com"}
    forged = f"{_encode(header)}.{_encode(tampered)}.{signature}"
    with pytest.raises(oidc.SignInRejected, match="failed verification"):
        await oidc.validate_id_token(
            docchat_client, sso_settings, token={**token, "id_token": forged}, nonce="n-5"
        )

    # Signed with an attacker's key under the provider's key id.
    attacker = RSAKey.generate_key(2048, parameters={"kid": header["kid"]})
    resigned = jose_jwt.encode({"alg": "RS256", "kid": header["kid"]}, tampered, attacker)
    with pytest.raises(oidc.SignInRejected, match="failed verification"):
        await oidc.validate_id_token(
            docchat_client, sso_settings, token={**token, "id_token": resigned}, nonce="n-5"
        )

    # No signature at all.
    unsigned = f"{_encode({'alg': 'none'})}.{_encode(tampered)}."
    with pytest.raises(oidc.SignInRejected, match="failed verification"):
        await oidc.validate_id_token(
            docchat_client, sso_settings, token={**token, "id_token": unsigned}, nonce="n-5"
        )


async def test_password_login_can_be_turned_off(
    database_url: str, tmp_path: Path, provider: Provider
) -> None:
    settings = _settings(database_url, tmp_path, provider, password_login_enabled=False)
    async for _, client in _app_client(settings):
        config = (await client.get("/api/v1/auth/oidc/config")).json()
        assert config["password_login_enabled"] is False
        assert config["password_reset_by_email"] is False
        for path, body in (
            ("/api/v1/auth/login", {"email": "a@example.com", "password": "whatever-1"}),
            (
                "/api/v1/auth/register",
                {"email": "a@example.com", "password": "whatever-12", "full_name": "A"},
            ),
            ("/api/v1/auth/password-reset", {"email": "a@example.com"}),
        ):
            response = await client.post(path, json=body)
            assert response.status_code == 403, path
            assert "single sign-on" in response.json()["error"]["message"]
        _, values = await sso_sign_in(client, "sso-only@example.com")
        assert "code" in values


async def test_unreachable_or_misnamed_provider_is_explained(
    database_url: str, tmp_path: Path, provider: Provider
) -> None:
    down = _settings(
        database_url, tmp_path, provider, oidc_issuer=f"http://127.0.0.1:{free_port()}"
    )
    async for _, client in _app_client(down):
        page, values = _fragment(await client.get("/api/v1/auth/oidc/login"))
        assert page == f"{PUBLIC_URL}/login/"
        assert values["sso_error"] == "Test IdP cannot be reached right now; try again later."
    # The same provider under another name: its discovery document names another issuer.
    port = urlsplit(provider.issuer).port
    misnamed = _settings(database_url, tmp_path, provider, oidc_issuer=f"http://localhost:{port}")
    async for _, client in _app_client(misnamed):
        _, values = _fragment(await client.get("/api/v1/auth/oidc/login"))
        assert "discovery document names another issuer" in values["sso_error"]


async def test_group_claim_keeps_admin_owned_groups_in_step(
    sso: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """ada's claim lists engineering and everyone: she joins the admin's groups of those
    names, leaves the admin's group it does not list, and a member's group of the same name
    is not touched."""
    _, client = sso
    admin = await register(client, "root@example.com")  # the first account: an admin
    assert (await client.get("/api/v1/auth/me", headers=admin)).json()["role"] == "admin"
    member = await register(client, "mo@example.com")
    ada = await register(client, "ada@example.com")

    async def group(headers: dict[str, str], name: str) -> str:
        response = await client.post("/api/v1/groups", headers=headers, json={"name": name})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    engineering, alumni = await group(admin, "engineering"), await group(admin, "alumni")
    members_engineering = await group(member, "engineering")
    added = await client.put(
        f"/api/v1/groups/{alumni}/members", headers=admin, json={"email": "ada@example.com"}
    )
    assert added.status_code == 204

    _, values = await sso_sign_in(client, "ada@example.com")
    assert (
        await client.post("/api/v1/auth/oidc/exchange", json={"code": values["code"]})
    ).status_code == 200

    async def emails(headers: dict[str, str], group_id: str) -> set[str]:
        response = await client.get(f"/api/v1/groups/{group_id}/members", headers=headers)
        return {person["email"] for person in response.json()}

    assert "ada@example.com" in await emails(admin, engineering)
    assert "ada@example.com" not in await emails(admin, alumni)
    assert "ada@example.com" not in await emails(member, members_engineering)
    mine = {g["id"] for g in (await client.get("/api/v1/groups", headers=ada)).json()}
    assert engineering in mine and alumni not in mine

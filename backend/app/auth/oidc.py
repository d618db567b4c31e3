"""Single sign-on with OpenID Connect (authorization code + PKCE), done by Authlib: discovery,
the authorization URL (state, nonce, S256 code challenge), the code exchange, and the ID
token's signature (the provider's JWKS) and claims (issuer, audience, expiry, nonce, azp).

Authlib talks to the provider with httpx2 (its HTTP client when installed, as here): its
errors are httpx2's.

Between the redirect to the provider and its callback the flow's secrets (state, nonce, PKCE
verifier) live in a short-lived signed cookie scoped to the callback's path, so the callback
only completes in the browser that started it."""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2
import jwt
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from joserfc.errors import JoseError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import Settings


class GroupSync(Protocol):
    """Keeps DocChat groups in step with an identity's group claim. The sharing domain
    implements it; main.py hands it to the app (app.state.sso_group_sync), because auth sits
    below sharing and cannot import it."""

    async def __call__(
        self, session: AsyncSession, *, user_id: uuid.UUID, names: Sequence[str]
    ) -> None: ...


logger = logging.getLogger(__name__)

FLOW_COOKIE = "docchat_oidc_flow"
FLOW_COOKIE_PATH = "/api/v1/auth/oidc"
FLOW_TTL_S = 600
_FLOW_AUDIENCE = "docchat-oidc-flow"
# Clock difference tolerated between the provider and this server.
ID_TOKEN_LEEWAY_S = 60
HTTP_TIMEOUT_S = 10


class SignInRejected(Exception):
    """Single sign-on did not prove who the person is; the message says why, for them."""


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str | None
    groups: list[str]


def create_client(settings: Settings) -> StarletteOAuth2App:
    """One Authlib client per app: it keeps the discovery document and the JWKS (refetched
    when a token names a key it does not know, after a key rotation)."""
    oauth = OAuth()
    client: StarletteOAuth2App = oauth.register(
        "oidc",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": settings.oidc_scopes,
            "code_challenge_method": "S256",
            "timeout": HTTP_TIMEOUT_S,
        },
    )
    return client


async def _metadata(client: StarletteOAuth2App, settings: Settings) -> dict[str, Any]:
    try:
        metadata: dict[str, Any] = await client.load_server_metadata()
    except (httpx2.HTTPError, ValueError) as exc:
        logger.warning("oidc discovery failed", extra={"error": type(exc).__name__})
        raise SignInRejected(
            f"{settings.oidc_provider_name} cannot be reached right now; try again later."
        ) from None
    if metadata.get("issuer") != settings.oidc_issuer:
        # OpenID Connect Discovery 4.3: the document must name the issuer it was fetched for.
        client.server_metadata.clear()
        raise SignInRejected(
            f"{settings.oidc_provider_name} is misconfigured: its discovery document names "
            "another issuer than OIDC_ISSUER."
        )
    return metadata


async def start(client: StarletteOAuth2App, settings: Settings) -> tuple[str, Flow]:
    """The provider's authorization URL and the flow to remember until its callback."""
    await _metadata(client, settings)
    created = await client.create_authorization_url(settings.oidc_callback_url)
    flow = Flow(
        state=created["state"], nonce=created["nonce"], code_verifier=created["code_verifier"]
    )
    return str(created["url"]), flow


def seal_flow(flow: Flow, *, secret: str) -> str:
    now = int(time.time())
    return jwt.encode(
        {
            "aud": _FLOW_AUDIENCE,
            "iat": now,
            "exp": now + FLOW_TTL_S,
            "state": flow.state,
            "nonce": flow.nonce,
            "verifier": flow.code_verifier,
        },
        secret,
        algorithm="HS256",
    )


def open_flow(sealed: str | None, *, secret: str) -> Flow:
    if not sealed:
        raise SignInRejected(
            "The sign-in was started in another browser or took too long; start it again."
        )
    try:
        claims = jwt.decode(sealed, secret, algorithms=["HS256"], audience=_FLOW_AUDIENCE)
        return Flow(
            state=str(claims["state"]),
            nonce=str(claims["nonce"]),
            code_verifier=str(claims["verifier"]),
        )
    except (jwt.PyJWTError, KeyError):
        raise SignInRejected(
            "The sign-in was started in another browser or took too long; start it again."
        ) from None


def _claims_options(settings: Settings, nonce: str) -> dict[str, Any]:
    return {
        "iss": {"essential": True, "value": settings.oidc_issuer},
        "aud": {"essential": True, "value": settings.oidc_client_id},
        "sub": {"essential": True},
        "nonce": {"essential": True, "value": nonce},
    }


async def validate_id_token(
    client: StarletteOAuth2App, settings: Settings, *, token: dict[str, Any], nonce: str
) -> dict[str, Any]:
    """The claims of `token["id_token"]` once its signature, issuer, audience, expiry and
    nonce hold; SignInRejected otherwise."""
    if "id_token" not in token:
        raise SignInRejected(f"{settings.oidc_provider_name} returned no ID token.")
    try:
        claims = await client.parse_id_token(
            token, nonce, claims_options=_claims_options(settings, nonce), leeway=ID_TOKEN_LEEWAY_S
        )
    except httpx2.HTTPError as exc:
        logger.warning("oidc jwks fetch failed", extra={"error": type(exc).__name__})
        raise SignInRejected(
            f"{settings.oidc_provider_name} cannot be reached right now; try again later."
        ) from None
    except (JoseError, ValueError) as exc:
        logger.warning("oidc id token rejected", extra={"error": repr(exc)})
        raise SignInRejected(
            f"The sign-in answer from {settings.oidc_provider_name} failed verification "
            f"({_reason(exc)}); sign in again."
        ) from None
    return dict(claims)


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.split(":", 1)[0] if len(text) > 80 else text


async def finish(
    client: StarletteOAuth2App, settings: Settings, *, flow: Flow, state: str, code: str
) -> Identity:
    """Exchange the callback's code (with the PKCE verifier) and verify the ID token."""
    if not hmac.compare_digest(state.encode(), flow.state.encode()):
        raise SignInRejected("The sign-in answer does not match the sign-in that was started.")
    await _metadata(client, settings)
    try:
        token = await client.fetch_access_token(
            settings.oidc_callback_url, code=code, code_verifier=flow.code_verifier
        )
    except OAuthError as exc:
        logger.warning("oidc code exchange refused", extra={"error": exc.error})
        raise SignInRejected(
            f"{settings.oidc_provider_name} refused the sign-in ({exc.error}); sign in again."
        ) from None
    except httpx2.HTTPError as exc:
        logger.warning("oidc code exchange failed", extra={"error": type(exc).__name__})
        raise SignInRejected(
            f"{settings.oidc_provider_name} cannot be reached right now; try again later."
        ) from None
    claims = await validate_id_token(client, settings, token=token, nonce=flow.nonce)
    return identity_from_claims(claims, settings)


def identity_from_claims(claims: dict[str, Any], settings: Settings) -> Identity:
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise SignInRejected(
            f"{settings.oidc_provider_name} did not share an email address; ask your "
            "administrator to grant DocChat the 'email' scope."
        )
    groups: list[str] = []
    if settings.oidc_groups_claim:
        raw = claims.get(settings.oidc_groups_claim)
        if isinstance(raw, list):
            groups = [str(group) for group in raw]
        elif isinstance(raw, str):
            groups = [raw]
    name = claims.get("name")
    return Identity(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=email,
        # Some providers send the boolean as a string.
        email_verified=claims.get("email_verified") in (True, "true"),
        name=name if isinstance(name, str) else None,
        groups=groups,
    )

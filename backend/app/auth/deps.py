"""Who is calling: the one dependency that checks every credential (an access token from a
sign-in, or a personal API key) and the scope a route needs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service
from app.auth.models import Role, User
from app.core import security
from app.core.db import SessionDep
from app.core.errors import Forbidden, Unauthorized
from app.core.logging import user_id_var
from app.core.ratelimit import TOO_MANY_REQUESTS, RateLimitDep, RateLimitGate, client_ip
from app.core.settings import Settings, SettingsDep

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An access token from /api/v1/auth/login, or a personal API key (dc_live_…)",
)

INVALID_ACCESS_TOKEN = "The access token is invalid or has expired."  # noqa: S105
INVALID_API_KEY = "The API key is invalid, revoked or expired."
READ_ONLY_KEY = "This API key can only read; create a key with the write scope to change data."
SIGN_IN_REQUIRED = "Sign in to do this: an API key cannot manage API keys, sessions or the account."


@dataclass(frozen=True)
class Principal:
    """A caller: a user, through a sign-in (every scope) or one of their API keys."""

    user: User
    scopes: frozenset[str]
    api_key_id: uuid.UUID | None = None
    # A sign-in's refresh-token family: what the sessions list calls a session.
    session_id: uuid.UUID | None = None


def secrets_by_kid(settings: Settings) -> dict[str, str]:
    accepted = [settings.signing_secret, *settings.jwt_previous_secrets]
    return {security.key_id(secret): secret for secret in accepted}


async def authenticate_api_key(
    session: AsyncSession, *, key: str, ip: str, settings: Settings, gate: RateLimitGate
) -> Principal:
    """The caller of an API key (REST and MCP alike), counted against the key's own limit."""
    found = await service.get_api_key_user(session, key=key)
    if found is None:
        raise Unauthorized(INVALID_API_KEY)
    user, api_key = found
    gate.hit(settings.api_key_rate_limit, "api-key", str(api_key.id), message=TOO_MANY_REQUESTS)
    await service.record_api_key_use(session, api_key=api_key, ip=ip)
    return Principal(user=user, scopes=frozenset(api_key.scopes), api_key_id=api_key.id)


async def _authenticate_access_token(
    session: AsyncSession, *, token: str, settings: Settings
) -> Principal:
    try:
        claims = security.decode_access_token(token, secrets_by_kid=secrets_by_kid(settings))
    except security.InvalidToken:
        raise Unauthorized(INVALID_ACCESS_TOKEN) from None
    user = await service.get_session_user(
        session, user_id=claims.user_id, session_id=claims.session_id
    )
    if user is None:
        raise Unauthorized(INVALID_ACCESS_TOKEN)
    return Principal(user=user, scopes=security.ALL_SCOPES, session_id=claims.session_id)


async def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    gate: RateLimitDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    token = credentials.credentials
    if security.is_api_key(token):
        principal = await authenticate_api_key(
            session, key=token, ip=client_ip(request), settings=settings, gate=gate
        )
    else:
        principal = await _authenticate_access_token(session, token=token, settings=settings)
    request.state.user_id = str(principal.user.id)
    user_id_var.set(str(principal.user.id))
    await service.note_activity(session, user=principal.user)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_current_user(principal: PrincipalDep) -> User:
    """Any caller: a sign-in, or an API key (every key can read)."""
    return principal.user


async def get_writing_user(principal: PrincipalDep) -> User:
    """A caller that may change data: a sign-in, or an API key with the write scope."""
    if security.WRITE_SCOPE not in principal.scopes:
        raise Forbidden(READ_ONLY_KEY)
    return principal.user


@dataclass(frozen=True)
class SignIn:
    user: User
    session_id: uuid.UUID


async def get_sign_in(principal: PrincipalDep) -> SignIn:
    """A sign-in only: managing keys, sessions and the account itself is not for API keys."""
    if principal.session_id is None:
        raise Forbidden(SIGN_IN_REQUIRED)
    return SignIn(user=principal.user, session_id=principal.session_id)


CurrentSignIn = Annotated[SignIn, Depends(get_sign_in)]


async def get_signed_in_user(sign_in: CurrentSignIn) -> User:
    return sign_in.user


CurrentUser = Annotated[User, Depends(get_current_user)]
WritingUser = Annotated[User, Depends(get_writing_user)]
SignedInUser = Annotated[User, Depends(get_signed_in_user)]

ADMIN_ONLY = "This needs an administrator account."


async def get_admin_user(user: CurrentUser) -> User:
    if user.role != Role.ADMIN:
        raise Forbidden(ADMIN_ONLY)
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]


def per_user_limit(scope: str, limit_of: Callable[[Settings], str]) -> params.Depends:
    """A route dependency that counts one request against the signed-in user's budget."""

    async def check(user: CurrentUser, settings: SettingsDep, gate: RateLimitDep) -> None:
        gate.hit(limit_of(settings), scope, str(user.id), message=TOO_MANY_REQUESTS)

    return params.Depends(check)

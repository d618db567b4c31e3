from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import service
from app.auth.models import Role, User
from app.core import security
from app.core.db import SessionDep
from app.core.errors import Forbidden, Unauthorized
from app.core.logging import user_id_var
from app.core.ratelimit import TOO_MANY_REQUESTS, RateLimitDep
from app.core.settings import Settings, SettingsDep

bearer_scheme = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login")


def secrets_by_kid(settings: Settings) -> dict[str, str]:
    accepted = [settings.signing_secret, *settings.jwt_previous_secrets]
    return {security.key_id(secret): secret for secret in accepted}


async def get_current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    try:
        claims = security.decode_access_token(
            credentials.credentials, secrets_by_kid=secrets_by_kid(settings)
        )
    except security.InvalidToken:
        raise Unauthorized("The access token is invalid or has expired.") from None
    user = await service.get_session_user(
        session, user_id=claims.user_id, session_id=claims.session_id
    )
    if user is None:
        raise Unauthorized("The access token is invalid or has expired.")
    request.state.user_id = str(user.id)
    user_id_var.set(str(user.id))
    await service.note_activity(session, user=user)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]

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

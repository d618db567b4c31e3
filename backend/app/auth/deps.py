from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import service
from app.auth.models import User
from app.core import security
from app.core.db import SessionDep
from app.core.errors import Unauthorized
from app.core.logging import user_id_var
from app.core.settings import Settings

bearer_scheme = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login")


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


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
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]

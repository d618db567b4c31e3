from __future__ import annotations

from fastapi import Request, Response, status

from app.auth import service
from app.auth.deps import CurrentUser
from app.auth.schemas import LoginIn, RefreshIn, RegisterIn, TokenPair, UserOut
from app.auth.throttle import LoginThrottle
from app.core.db import SessionDep
from app.core.errors import Unauthorized
from app.core.openapi import ERROR_RESPONSE
from app.core.ratelimit import RateLimitDep, client_ip
from app.core.routing import API_PREFIX, api_router
from app.core.settings import SettingsDep

router = api_router(
    prefix=f"{API_PREFIX}/auth",
    tags=["auth"],
    responses={400: ERROR_RESPONSE, 422: ERROR_RESPONSE, 503: ERROR_RESPONSE},
)

REFRESH_LIMIT = "60/minute"


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses={403: ERROR_RESPONSE, 409: ERROR_RESPONSE, 429: ERROR_RESPONSE},
)
async def register(
    body: RegisterIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    rate_limit: RateLimitDep,
) -> UserOut:
    # 409 tells that an address has an account (docs/architecture.md, "Sign-up and account
    # enumeration"): this limit is what bounds that probing.
    rate_limit.hit(settings.register_rate_limit_per_ip, "register-ip", client_ip(request))
    user = await service.register(
        session,
        settings=settings,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
        invite_token=body.invite_token,
    )
    return UserOut.model_validate(user)


@router.post(
    "/login", response_model=TokenPair, responses={401: ERROR_RESPONSE, 429: ERROR_RESPONSE}
)
async def login(
    body: LoginIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    rate_limit: RateLimitDep,
) -> TokenPair:
    throttle = LoginThrottle(rate_limit, settings, email=body.email, ip=client_ip(request))
    throttle.before_attempt()
    try:
        tokens = await service.sign_in(
            session, email=body.email, password=body.password, settings=settings
        )
    except Unauthorized:
        throttle.failed()
        raise
    return TokenPair(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


@router.post(
    "/refresh", response_model=TokenPair, responses={401: ERROR_RESPONSE, 429: ERROR_RESPONSE}
)
async def refresh(
    body: RefreshIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    rate_limit: RateLimitDep,
) -> TokenPair:
    rate_limit.hit(REFRESH_LIMIT, "refresh-ip", client_ip(request))
    tokens = await service.rotate_refresh_token(
        session, refresh_token=body.refresh_token, settings=settings
    )
    return TokenPair(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshIn, session: SessionDep) -> Response:
    await service.revoke_refresh_token(session, refresh_token=body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=UserOut, responses={401: ERROR_RESPONSE})
async def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)

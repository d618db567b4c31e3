from __future__ import annotations

import logging
import uuid
from typing import Annotated
from urllib.parse import urlencode

from authlib.integrations.starlette_client import StarletteOAuth2App
from fastapi import BackgroundTasks, Depends, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from app.auth import oidc, service
from app.auth.deps import CurrentSignIn, CurrentUser, SignedInUser
from app.auth.schemas import (
    AuthConfigOut,
    EmailConfirmIn,
    LoginIn,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    ProfileIn,
    ProfileOut,
    RefreshIn,
    RegisterIn,
    SessionOut,
    SignInCodeIn,
    TokenPair,
    UserOut,
)
from app.auth.throttle import LoginThrottle
from app.core.db import SessionDep
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.mail import Mail, send_mail
from app.core.openapi import ERROR_RESPONSE
from app.core.ratelimit import RateLimitDep, client_ip
from app.core.routing import API_PREFIX, api_router
from app.core.settings import Settings, SettingsDep

logger = logging.getLogger(__name__)

router = api_router(
    prefix=f"{API_PREFIX}/auth",
    tags=["auth"],
    responses={400: ERROR_RESPONSE, 422: ERROR_RESPONSE, 503: ERROR_RESPONSE},
)

REFRESH_LIMIT = "60/minute"
PASSWORD_LOGIN_OFF = "Password sign-in is turned off here; use single sign-on."  # noqa: S105


def _client(request: Request) -> service.Client:
    return service.Client(ip=client_ip(request), user_agent=request.headers.get("user-agent"))


def _token_pair(tokens: service.IssuedTokens) -> TokenPair:
    return TokenPair(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


def _require_password_login(settings: Settings) -> None:
    if not settings.password_login_enabled:
        raise Forbidden(PASSWORD_LOGIN_OFF)


def _send_later(background: BackgroundTasks, settings: Settings, mail: Mail | None) -> None:
    """Send after the response: the answer takes as long whether or not a mail goes out."""
    if mail is not None and settings.smtp_url and settings.mail_from:
        background.add_task(
            send_mail, smtp_url=settings.smtp_url, sender=settings.mail_from, mail=mail
        )


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
    _require_password_login(settings)
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
    "/login",
    response_model=TokenPair,
    responses={401: ERROR_RESPONSE, 403: ERROR_RESPONSE, 429: ERROR_RESPONSE},
)
async def login(
    body: LoginIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    rate_limit: RateLimitDep,
) -> TokenPair:
    _require_password_login(settings)
    throttle = LoginThrottle(rate_limit, settings, email=body.email, ip=client_ip(request))
    throttle.before_attempt()
    try:
        tokens = await service.sign_in(
            session,
            email=body.email,
            password=body.password,
            settings=settings,
            client=_client(request),
        )
    except Unauthorized:
        throttle.failed()
        raise
    return _token_pair(tokens)


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
        session, refresh_token=body.refresh_token, settings=settings, client=_client(request)
    )
    return _token_pair(tokens)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshIn, session: SessionDep) -> Response:
    await service.revoke_refresh_token(session, refresh_token=body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=UserOut, responses={401: ERROR_RESPONSE})
async def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.patch(
    "/me",
    response_model=ProfileOut,
    responses={401: ERROR_RESPONSE, 403: ERROR_RESPONSE, 409: ERROR_RESPONSE},
)
async def update_me(
    body: ProfileIn,
    user: SignedInUser,
    session: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
) -> ProfileOut:
    """Display name at once; a new email needs `current_password`, and with mail configured
    it applies once the link sent to the new address is opened (`pending_email` until then)."""
    change = await service.update_profile(
        session,
        user=user,
        settings=settings,
        full_name=body.full_name,
        email=body.email,
        current_password=body.current_password,
    )
    _send_later(background, settings, change.mail)
    out = ProfileOut.model_validate(change.user)
    out.pending_email = change.pending_email
    return out


@router.post(
    "/email/confirm",
    response_model=UserOut,
    responses={409: ERROR_RESPONSE, 429: ERROR_RESPONSE},
)
async def confirm_email(
    body: EmailConfirmIn, request: Request, session: SessionDep, rate_limit: RateLimitDep
) -> UserOut:
    rate_limit.hit(REFRESH_LIMIT, "email-confirm-ip", client_ip(request))
    return UserOut.model_validate(await service.confirm_email_change(session, token=body.token))


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={401: ERROR_RESPONSE, 403: ERROR_RESPONSE, 429: ERROR_RESPONSE},
)
async def change_password(
    body: PasswordChangeIn,
    sign_in: CurrentSignIn,
    session: SessionDep,
    settings: SettingsDep,
    rate_limit: RateLimitDep,
) -> Response:
    """Set a new password; every other session is signed out, this one stays."""
    rate_limit.hit(
        settings.login_rate_limit_per_account_ip, "password-change", str(sign_in.user.id)
    )
    await service.change_password(
        session,
        user=sign_in.user,
        current_password=body.current_password,
        new_password=body.new_password,
        current_session_id=sign_in.session_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sessions", response_model=list[SessionOut], responses={401: ERROR_RESPONSE})
async def list_sessions(sign_in: CurrentSignIn, session: SessionDep) -> list[SessionOut]:
    """The signed-in devices that can still refresh, the most recently active first."""
    rows = await service.list_sessions(session, user_id=sign_in.user.id)
    return [
        SessionOut(
            id=row.id,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            ip=row.ip,
            user_agent=row.user_agent,
            current=row.id == sign_in.session_id,
        )
        for row in rows
    ]


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={401: ERROR_RESPONSE, 404: ERROR_RESPONSE},
)
async def revoke_session(
    session_id: uuid.UUID, user: SignedInUser, session: SessionDep
) -> Response:
    await service.revoke_session(session, user_id=user.id, session_id=session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses={403: ERROR_RESPONSE, 429: ERROR_RESPONSE},
)
async def request_password_reset(
    body: PasswordResetIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    rate_limit: RateLimitDep,
    background: BackgroundTasks,
) -> Response:
    """202 whether or not the address has an account; the mail (when there is one and SMTP
    is configured) links to the web app's reset page."""
    _require_password_login(settings)
    rate_limit.hit(settings.password_reset_rate_limit_per_ip, "reset-ip", client_ip(request))
    rate_limit.hit(settings.password_reset_rate_limit_per_email, "reset-email", body.email)
    mail = await service.request_password_reset(session, email=body.email, settings=settings)
    _send_later(background, settings, mail)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: ERROR_RESPONSE, 429: ERROR_RESPONSE},
)
async def confirm_password_reset(
    body: PasswordResetConfirmIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    rate_limit: RateLimitDep,
) -> Response:
    """Set the new password; the link stops working, and every session is signed out."""
    _require_password_login(settings)
    rate_limit.hit(
        settings.password_reset_rate_limit_per_ip, "reset-confirm-ip", client_ip(request)
    )
    await service.confirm_password_reset(session, token=body.token, new_password=body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- single sign-on ----------------------------------------------------------------------


def get_oidc_client(request: Request, settings: SettingsDep) -> StarletteOAuth2App:
    if not settings.oidc_enabled:
        raise NotFound("Single sign-on is not configured.")
    client: StarletteOAuth2App | None = getattr(request.app.state, "oidc_client", None)
    if client is None:
        client = oidc.create_client(settings)
        request.app.state.oidc_client = client
    return client


OidcClientDep = Annotated[StarletteOAuth2App, Depends(get_oidc_client)]


@router.get("/oidc/config", response_model=AuthConfigOut)
async def auth_config(settings: SettingsDep) -> AuthConfigOut:
    return AuthConfigOut(
        enabled=settings.oidc_enabled,
        provider_name=settings.oidc_provider_name if settings.oidc_enabled else None,
        password_login_enabled=settings.password_login_enabled,
        password_reset_by_email=settings.mail_enabled and settings.password_login_enabled,
    )


def _back_to_app(
    settings: Settings, *, code: str | None = None, error: str | None = None
) -> RedirectResponse:
    """The web app's page for the outcome: /sso/ with the one-time code in the fragment, which
    is never sent to a server (so it stays out of access logs and Referer headers), or
    /login/?sso_error=<why>."""
    if code is not None:
        target = f"{settings.public_url}/sso/#{urlencode({'code': code})}"
    else:
        target = f"{settings.public_url}/login/?{urlencode({'sso_error': error or ''})}"
    response = RedirectResponse(target, 302)
    response.delete_cookie(oidc.FLOW_COOKIE, path=oidc.FLOW_COOKIE_PATH)
    return response


@router.get("/oidc/login", status_code=302, responses={404: ERROR_RESPONSE})
async def oidc_login(
    request: Request,
    settings: SettingsDep,
    client: OidcClientDep,
    rate_limit: RateLimitDep,
) -> RedirectResponse:
    """302 to the provider's sign-in page (authorization code flow with PKCE)."""
    rate_limit.hit(settings.login_rate_limit_per_ip, "oidc-login-ip", client_ip(request))
    try:
        url, flow = await oidc.start(client, settings)
    except oidc.SignInRejected as exc:
        return _back_to_app(settings, error=str(exc))
    response = RedirectResponse(url, 302)
    response.set_cookie(
        oidc.FLOW_COOKIE,
        oidc.seal_flow(flow, secret=settings.signing_secret),
        max_age=oidc.FLOW_TTL_S,
        path=oidc.FLOW_COOKIE_PATH,
        httponly=True,
        secure=(settings.public_url or "").startswith("https://"),
        # Lax: sent on the provider's top-level redirect back to the callback.
        samesite="lax",
    )
    return response


@router.get("/oidc/callback", status_code=302, responses={404: ERROR_RESPONSE})
async def oidc_callback(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: OidcClientDep,
    rate_limit: RateLimitDep,
    state: Annotated[str, Query(max_length=500)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
    error_description: Annotated[str, Query(max_length=500)] = "",
) -> RedirectResponse:
    """The provider returns the browser here; it goes on to the web app's /sso/ page with a
    one-time code (POST /api/v1/auth/oidc/exchange), or to /login/ with the reason."""
    rate_limit.hit(settings.login_rate_limit_per_ip, "oidc-login-ip", client_ip(request))
    try:
        if error:
            raise oidc.SignInRejected(
                f"{settings.oidc_provider_name} did not sign you in: {error_description or error}."
            )
        flow = oidc.open_flow(request.cookies.get(oidc.FLOW_COOKIE), secret=settings.signing_secret)
        identity = await oidc.finish(client, settings, flow=flow, state=state, code=code)
        user = await service.sign_in_with_identity(session, identity=identity, settings=settings)
        if settings.oidc_groups_claim:
            sync_groups: oidc.GroupSync = request.app.state.sso_group_sync
            await sync_groups(session, user_id=user.id, names=identity.groups)
    except oidc.SignInRejected as exc:
        logger.info("single sign-on refused", extra={"reason": str(exc)})
        return _back_to_app(settings, error=str(exc))
    code_for_app = await service.create_sign_in_code(session, user_id=user.id)
    return _back_to_app(settings, code=code_for_app)


@router.post(
    "/oidc/exchange",
    response_model=TokenPair,
    responses={401: ERROR_RESPONSE, 404: ERROR_RESPONSE, 429: ERROR_RESPONSE},
)
async def oidc_exchange(
    body: SignInCodeIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    rate_limit: RateLimitDep,
) -> TokenPair:
    """The web app trades the callback's one-time code (60 s, single use) for the same
    tokens a password sign-in returns."""
    if not settings.oidc_enabled:
        raise NotFound("Single sign-on is not configured.")
    rate_limit.hit(settings.login_rate_limit_per_ip, "oidc-exchange-ip", client_ip(request))
    user = await service.redeem_sign_in_code(session, code=body.code)
    tokens = await service.issue_tokens(
        session, user=user, settings=settings, client=_client(request)
    )
    return _token_pair(tokens)

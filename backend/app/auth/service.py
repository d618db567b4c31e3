"""Accounts and sessions. Services flush but never commit: the request scope does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import registration, repository
from app.auth.emails import normalize_email, valid_email
from app.auth.models import ApiKey, Role, User
from app.auth.oidc import Identity, SignInRejected
from app.core import priority, security
from app.core.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from app.core.mail import Mail
from app.core.settings import Settings

INVALID_CREDENTIALS = "Incorrect email or password."
ACCOUNT_DISABLED = "This account is disabled. Ask an administrator to enable it."
# last_active_at is written at most this often per user (a read request stays a read).
ACTIVITY_RESOLUTION = timedelta(minutes=5)


# One hash at a time per process, in one low-priority thread: Argon2 costs ~140 ms of CPU and
# 64 MB, and a burst of sign-ins would otherwise take every core. When the CPUs are busy,
# searches and chats go first and a sign-in takes a little longer.
_HASHING = ThreadPoolExecutor(
    max_workers=1,
    thread_name_prefix="password-hashing",
    initializer=priority.lower_this_thread,
    initargs=(priority.YIELDING,),
)
T = TypeVar("T")
INVALID_REFRESH = "The session has expired or was revoked; sign in again."


ACCOUNT_EXISTS = "An account with this email already exists."


async def get_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    """The account of an address in any spelling that normalizes to it (app.auth.emails);
    `uq_users_email_lower` answers the query."""
    return await repository.user_by_normal_email(session, normal_email=normalize_email(email))


async def create_user(
    session: AsyncSession, *, email: str, password: str, full_name: str, role: Role | None = None
) -> User:
    """Stores `email` in its normal form (app.auth.emails). Without a `role`, the first
    account of the install is an admin and every later one a member."""
    password_hash = await _hash_off_loop(security.hash_password, password)
    if await get_user_by_email(session, email=email) is not None:
        raise Conflict(ACCOUNT_EXISTS)
    if role is None:
        role = Role.ADMIN if await repository.is_first_account(session) else Role.MEMBER
    user = await repository.add_user(
        session,
        email=normalize_email(email),
        full_name=full_name.strip(),
        password_hash=password_hash,
        role=role,
    )
    if user is None:  # the same address registered at the same moment
        raise Conflict(ACCOUNT_EXISTS)
    return user


async def register(
    session: AsyncSession,
    *,
    settings: Settings,
    email: str,
    password: str,
    full_name: str,
    invite_token: str | None,
) -> User:
    """Sign-up, as the registration mode allows (app.auth.registration)."""
    invite = await registration.admit(
        session, settings=settings, email=email, invite_token=invite_token
    )
    user = await create_user(session, email=email, password=password, full_name=full_name)
    if invite is not None:
        await registration.use_invite(session, invite=invite, user_id=user.id)
    await audit.record(
        session,
        action=audit.REGISTER,
        actor_id=user.id,
        target_type="user",
        target_id=str(user.id),
        details={"role": user.role, **({"invite_id": str(invite.id)} if invite else {})},
    )
    return user


async def get_session_user(
    session: AsyncSession, *, user_id: uuid.UUID, session_id: uuid.UUID
) -> User | None:
    """The active user of an access token, unless its sign-in was logged out (or its
    refresh-token family revoked after a replay): one indexed query, like the plain lookup."""
    return await repository.active_session_user(session, user_id=user_id, session_id=session_id)


# A key's last use is written at most this often: not a write per request.
API_KEY_USE_RESOLUTION = timedelta(minutes=1)


async def get_api_key_user(session: AsyncSession, *, key: str) -> tuple[User, ApiKey] | None:
    """The active user of an API key and the key, unless it was revoked or has expired."""
    return await repository.active_api_key_user(session, key_hash=security.hash_opaque_token(key))


async def record_api_key_use(session: AsyncSession, *, api_key: ApiKey, ip: str) -> None:
    """Remember when and from where the key was used, at most once a minute."""
    now = datetime.now(UTC)
    if api_key.last_used_at is not None and now - api_key.last_used_at < API_KEY_USE_RESOLUTION:
        return
    await repository.set_api_key_use(session, api_key_id=api_key.id, at=now, ip=ip)


class SignInFailed(Unauthorized):
    """A refused sign-in; the request still commits its audit record."""

    keeps_changes = True


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User:
    """The account of a right email and password; a refused attempt is audited."""
    user = await get_user_by_email(session, email=email)
    if user is not None:
        session.expunge(user)
    # Argon2 costs ~100 ms of CPU and 64 MB: end the read-only transaction first, so a burst of
    # sign-ins cannot hold every pooled connection while it hashes.
    await session.rollback()
    if user is None:
        await _hash_off_loop(security.verify_password, password, security.DUMMY_PASSWORD_HASH)
        await _record_failed_sign_in(session, email=email, user=None, reason="unknown_account")
        raise SignInFailed(INVALID_CREDENTIALS)
    if user.password_hash is None:  # a single sign-on account: no password to match
        await _hash_off_loop(security.verify_password, password, security.DUMMY_PASSWORD_HASH)
        await _record_failed_sign_in(session, email=email, user=user, reason="no_password")
        raise SignInFailed(INVALID_CREDENTIALS)
    valid, updated_hash = await _hash_off_loop(
        security.verify_password, password, user.password_hash
    )
    if not valid:
        await _record_failed_sign_in(session, email=email, user=user, reason="wrong_password")
        raise SignInFailed(INVALID_CREDENTIALS)
    if not user.is_active:  # told only to whoever knows the password
        await _record_failed_sign_in(session, email=email, user=user, reason="disabled")
        raise SignInFailed(ACCOUNT_DISABLED)
    if updated_hash is not None:
        await repository.set_password_hash(session, user_id=user.id, password_hash=updated_hash)
        user.password_hash = updated_hash
    return user


async def password_matches(*, user: User, password: str) -> bool:
    """Whether a signed-in user typed their password (to confirm something they cannot undo)."""
    valid, _ = await _hash_off_loop(security.verify_password, password, user.password_hash)
    return valid


async def delete_user(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    """The user row; its foreign keys cascade to every row that references it."""
    await repository.delete_user(session, user_id=user_id)


async def _record_failed_sign_in(
    session: AsyncSession, *, email: str, user: User | None, reason: str
) -> None:
    await audit.record(
        session,
        action=audit.SIGN_IN_FAILED,
        actor_id=None,
        target_type="user" if user else None,
        target_id=str(user.id) if user else None,
        details={"email": normalize_email(email), "reason": reason},
    )


async def sign_in(
    session: AsyncSession, *, email: str, password: str, settings: Settings, client: Client
) -> IssuedTokens:
    user = await authenticate(session, email=email, password=password)
    await note_activity(session, user=user)
    await audit.record(session, action=audit.SIGN_IN, actor_id=user.id)
    return await issue_tokens(session, user=user, settings=settings, client=client)


async def note_activity(session: AsyncSession, *, user: User) -> None:
    """Set the user's last_active_at, when it is older than ACTIVITY_RESOLUTION."""
    if user.last_active_at is None or (
        datetime.now(UTC) - user.last_active_at >= ACTIVITY_RESOLUTION
    ):
        await repository.touch_last_active(session, user_id=user.id)


async def set_disabled(session: AsyncSession, *, user: User, disabled: bool) -> None:
    """Disable (every session of the user ends at once: access tokens are checked against
    `is_active` on each request and refresh tokens are revoked) or enable an account."""
    user.disabled_at = datetime.now(UTC) if disabled else None
    user.is_active = not disabled
    await session.flush()
    if disabled:
        await repository.revoke_user_refresh_tokens(session, user_id=user.id)


async def _hash_off_loop(function: Callable[..., T], *args: object) -> T:
    return await asyncio.wrap_future(_HASHING.submit(function, *args))


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class Client:
    """Where a request comes from, as the sessions list shows it."""

    ip: str | None = None
    user_agent: str | None = None


USER_AGENT_MAX = 300


async def issue_tokens(
    session: AsyncSession,
    *,
    user: User,
    settings: Settings,
    family_id: uuid.UUID | None = None,
    client: Client | None = None,
) -> IssuedTokens:
    refresh_token = security.new_opaque_token()
    family_id = family_id or uuid.uuid4()
    client = client or Client()
    await repository.add_refresh_token(
        session,
        user_id=user.id,
        family_id=family_id,
        token_hash=security.hash_opaque_token(refresh_token),
        expires_at=datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_s),
        ip=client.ip,
        user_agent=(client.user_agent or "")[:USER_AGENT_MAX] or None,
    )
    access_token = security.create_access_token(
        user.id,
        session_id=family_id,
        secret=settings.signing_secret,
        ttl_s=settings.access_token_ttl_s,
    )
    return IssuedTokens(access_token, refresh_token, settings.access_token_ttl_s)


class RefreshReplayed(Unauthorized):
    """A used refresh token came back: its family has been revoked, and stays revoked."""

    keeps_changes = True


async def rotate_refresh_token(
    session: AsyncSession, *, refresh_token: str, settings: Settings, client: Client | None = None
) -> IssuedTokens:
    now = datetime.now(UTC)
    stored = await repository.refresh_token_for_update(
        session, token_hash=security.hash_opaque_token(refresh_token)
    )
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        raise Unauthorized(INVALID_REFRESH)
    if stored.used_at is not None:
        await repository.revoke_family(session, family_id=stored.family_id)
        raise RefreshReplayed(INVALID_REFRESH)
    user = await repository.user_by_id(session, user_id=stored.user_id)
    if user is None or not user.is_active:
        raise Unauthorized(INVALID_REFRESH)
    stored.used_at = now
    return await issue_tokens(
        session, user=user, settings=settings, family_id=stored.family_id, client=client
    )


async def revoke_refresh_token(session: AsyncSession, *, refresh_token: str) -> None:
    """Log out: the token's whole family ends, so no rotated descendant survives, and the
    access tokens of that sign-in stop working at once (get_session_user)."""
    family = await repository.family_of_refresh_token(
        session, token_hash=security.hash_opaque_token(refresh_token)
    )
    if family is not None:
        family_id, user_id = family
        await repository.revoke_family(session, family_id=family_id)
        await audit.record(session, action=audit.SIGN_OUT, actor_id=user_id)


# --- self-service ------------------------------------------------------------------------

WRONG_PASSWORD = "The current password is not correct."  # noqa: S105
NO_PASSWORD = "This account signs in with single sign-on and has no password to change."  # noqa: S105
SESSION_NOT_FOUND = "No such session."
RESET_LINK_INVALID = (
    "This reset link is invalid, was already used or has expired; ask for a new one."
)
EMAIL_LINK_INVALID = "This confirmation link is invalid, was already used or has expired."
PASSWORD_RESET = "password_reset"  # noqa: S105
EMAIL_CHANGE = "email_change"
SIGN_IN_CODE = "sign_in"
# The one-time code that hands a single sign-on's session to the web app.
SIGN_IN_CODE_TTL_S = 60
EMAIL_CHANGE_TTL_S = 24 * 3600


async def _check_password(user: User, password: str) -> None:
    if user.password_hash is None:
        raise Forbidden(NO_PASSWORD)
    valid, _ = await _hash_off_loop(security.verify_password, password, user.password_hash)
    if not valid:
        raise Forbidden(WRONG_PASSWORD)


async def change_password(
    session: AsyncSession,
    *,
    user: User,
    current_password: str,
    new_password: str,
    current_session_id: uuid.UUID,
) -> None:
    """Set a new password and sign out every other session (this one stays)."""
    await _check_password(user, current_password)
    user.password_hash = await _hash_off_loop(security.hash_password, new_password)
    await repository.save_users(session)
    await repository.revoke_sessions(session, user_id=user.id, except_family_id=current_session_id)
    await audit.record(session, action=audit.PASSWORD_CHANGE, actor_id=user.id)


@dataclass(frozen=True)
class ProfileChange:
    user: User
    # The address waiting for confirmation by the link sent to it (mail configured).
    pending_email: str | None = None
    mail: Mail | None = None


async def update_profile(
    session: AsyncSession,
    *,
    user: User,
    settings: Settings,
    full_name: str | None = None,
    email: str | None = None,
    current_password: str | None = None,
) -> ProfileChange:
    """Change the display name at once; an email change needs the current password and, when
    mail is configured, takes effect once the link sent to the new address is opened."""
    if full_name is not None:
        user.full_name = full_name.strip()
    change = ProfileChange(user=user)
    if email is not None and normalize_email(email) != user.email:
        await _check_password(user, current_password or "")
        if await get_user_by_email(session, email=email) is not None:
            raise Conflict(ACCOUNT_EXISTS)
        if settings.mail_enabled:
            token = await _new_account_token(
                session,
                user_id=user.id,
                purpose=EMAIL_CHANGE,
                ttl_s=EMAIL_CHANGE_TTL_S,
                new_email=normalize_email(email),
            )
            mail = Mail(
                to=normalize_email(email),
                subject="Confirm your new DocChat email address",
                text=(
                    f"Someone (hopefully you) asked to use this address for the DocChat account "
                    f"of {user.full_name}.\n\nOpen this link within 24 hours to confirm:\n"
                    f"{settings.public_url}/confirm-email/?token={token}\n\n"
                    "If this was not you, ignore this message: nothing changes.\n"
                ),
            )
            change = ProfileChange(user=user, pending_email=normalize_email(email), mail=mail)
        else:
            user.email = normalize_email(email)
    if not await repository.save_users(session):
        raise Conflict(ACCOUNT_EXISTS)
    return change


async def confirm_email_change(session: AsyncSession, *, token: str) -> User:
    stored = await repository.claim_account_token(
        session, token_hash=security.hash_opaque_token(token), purpose=EMAIL_CHANGE
    )
    user = None if stored is None else await repository.user_by_id(session, user_id=stored.user_id)
    if stored is None or stored.new_email is None or user is None:
        raise BadRequest(EMAIL_LINK_INVALID)
    if await get_user_by_email(session, email=stored.new_email) is not None:
        raise Conflict(ACCOUNT_EXISTS)
    user.email = stored.new_email
    if not await repository.save_users(session):
        raise Conflict(ACCOUNT_EXISTS)
    return user


async def list_sessions(
    session: AsyncSession, *, user_id: uuid.UUID
) -> list[repository.SessionRow]:
    return await repository.active_sessions(session, user_id=user_id)


async def revoke_session(
    session: AsyncSession, *, user_id: uuid.UUID, session_id: uuid.UUID
) -> None:
    """Sign one of the user's sessions out: its refresh token stops working, and so does its
    access token on the next request (get_session_user)."""
    if not await repository.session_exists(session, user_id=user_id, family_id=session_id):
        raise NotFound(SESSION_NOT_FOUND)
    await repository.revoke_sessions(session, user_id=user_id, family_id=session_id)
    await audit.record(
        session,
        action=audit.SESSION_REVOKE,
        actor_id=user_id,
        target_type="session",
        target_id=str(session_id),
    )


async def _new_account_token(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    purpose: str,
    ttl_s: int,
    new_email: str | None = None,
) -> str:
    token = security.new_opaque_token()
    await repository.add_account_token(
        session,
        user_id=user_id,
        purpose=purpose,
        token_hash=security.hash_opaque_token(token),
        new_email=new_email,
        expires_at=datetime.now(UTC) + timedelta(seconds=ttl_s),
    )
    return token


async def request_password_reset(
    session: AsyncSession, *, email: str, settings: Settings
) -> Mail | None:
    """The reset mail to send, or None when the address has no account that can use one
    (the caller answers the same either way)."""
    user = await get_user_by_email(session, email=email)
    if user is None or not user.is_active or not settings.mail_enabled:
        return None
    token = await _new_account_token(
        session, user_id=user.id, purpose=PASSWORD_RESET, ttl_s=settings.password_reset_ttl_s
    )
    minutes = settings.password_reset_ttl_s // 60
    return Mail(
        to=user.email,
        subject="Reset your DocChat password",
        text=(
            f"Someone (hopefully you) asked to reset the password of the DocChat account "
            f"for {user.email}.\n\nOpen this link within {minutes} minutes to choose a new "
            f"password (it works once):\n{settings.public_url}/reset-password/?token={token}\n\n"
            "If this was not you, ignore this message: your password stays as it is.\n"
        ),
    )


async def confirm_password_reset(session: AsyncSession, *, token: str, new_password: str) -> User:
    """Set the password of the token's account, end its other reset links and every session."""
    stored = await repository.claim_account_token(
        session, token_hash=security.hash_opaque_token(token), purpose=PASSWORD_RESET
    )
    user = None if stored is None else await repository.user_by_id(session, user_id=stored.user_id)
    if user is None or not user.is_active:
        raise BadRequest(RESET_LINK_INVALID)
    user.password_hash = await _hash_off_loop(security.hash_password, new_password)
    await repository.save_users(session)
    await repository.expire_account_tokens(session, user_id=user.id, purpose=PASSWORD_RESET)
    await repository.revoke_sessions(session, user_id=user.id)
    await audit.record(session, action=audit.PASSWORD_RESET, actor_id=user.id)
    return user


async def set_temporary_password(session: AsyncSession, *, email: str, password: str) -> User:
    """`docchat reset-password`: a password an admin hands over; every session ends."""
    user = await get_user_by_email(session, email=email)
    if user is None:
        raise NotFound(f"No account has the address {normalize_email(email)}.")
    user.password_hash = await _hash_off_loop(security.hash_password, password)
    await repository.save_users(session)
    await repository.expire_account_tokens(session, user_id=user.id, purpose=PASSWORD_RESET)
    await repository.revoke_sessions(session, user_id=user.id)
    return user


# --- single sign-on ----------------------------------------------------------------------


async def sign_in_with_identity(
    session: AsyncSession, *, identity: Identity, settings: Settings
) -> User:
    """The account of a verified single sign-on identity: the one linked to it, else the one
    with its (verified) email, which gets linked, else a new account without a password."""
    user = await repository.user_of_identity(
        session, issuer=identity.issuer, subject=identity.subject
    )
    if user is None:
        if not identity.email_verified:
            raise SignInRejected(
                f"{settings.oidc_provider_name} has not verified the address {identity.email}; "
                "verify it there first."
            )
        domain = identity.email.rpartition("@")[2].lower()
        allowed = settings.oidc_allowed_email_domains
        if allowed and domain not in allowed:
            raise SignInRejected(
                f"Addresses at {domain} may not sign in to this DocChat; ask your administrator."
            )
        try:
            email = valid_email(identity.email)
        except ValueError:
            raise SignInRejected(
                f"{settings.oidc_provider_name} gave an address DocChat cannot use."
            ) from None
        user = await get_user_by_email(session, email=email)
        if user is None:
            first = await repository.is_first_account(session)
            user = await repository.add_user(
                session,
                email=email,
                full_name=(identity.name or email.partition("@")[0]).strip()[:200],
                password_hash=None,
                role=Role.ADMIN if first else Role.MEMBER,
            )
            if user is None:  # the same address registered at the same moment
                raise SignInRejected("Sign-in failed at the same moment as a sign-up; try again.")
        await repository.link_identity(
            session, user_id=user.id, issuer=identity.issuer, subject=identity.subject
        )
    if not user.is_active:
        raise SignInRejected("This account is disabled; ask your administrator.")
    return user


async def create_sign_in_code(session: AsyncSession, *, user_id: uuid.UUID) -> str:
    return await _new_account_token(
        session, user_id=user_id, purpose=SIGN_IN_CODE, ttl_s=SIGN_IN_CODE_TTL_S
    )


async def redeem_sign_in_code(session: AsyncSession, *, code: str) -> User:
    stored = await repository.claim_account_token(
        session, token_hash=security.hash_opaque_token(code), purpose=SIGN_IN_CODE
    )
    user = None if stored is None else await repository.user_by_id(session, user_id=stored.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("This sign-in code is invalid, was already used or has expired.")
    return user

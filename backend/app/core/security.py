"""Password hashing (Argon2 via pwdlib) and access tokens (JWT HS256 with a `kid` per secret)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

JWT_ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105

# argon2id, 64 MiB, 3 passes, one lane: a hash keeps to one core, so sign-ins cannot take both
# of a small machine's CPUs from searches (hashes with other parameters still verify and are
# upgraded at the next sign-in).
password_hasher = PasswordHash((Argon2Hasher(parallelism=1),))
# Verified when the email is unknown so a miss costs as much as a wrong password.
DUMMY_PASSWORD_HASH = password_hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """(valid, new hash when the stored one uses outdated parameters)."""
    return password_hasher.verify_and_update(password, password_hash)


def key_id(secret: str) -> str:
    """A public name for a secret (the JWT `kid`), so verification picks the right one."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    # The sign-in this token belongs to (its refresh-token family): logging out ends it.
    session_id: uuid.UUID
    expires_at: datetime


class InvalidToken(Exception):
    pass


def create_access_token(
    user_id: uuid.UUID, *, session_id: uuid.UUID, secret: str, ttl_s: int
) -> str:
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "sid": str(session_id),
        "type": ACCESS_TOKEN_TYPE,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=ttl_s),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM, headers={"kid": key_id(secret)})


def decode_access_token(token: str, *, secrets_by_kid: dict[str, str]) -> AccessClaims:
    """Verify with the secret named by `kid` (current or a previous one still accepted)."""
    try:
        header = jwt.get_unverified_header(token)
        secret = secrets_by_kid.get(str(header.get("kid")))
        if secret is None or header.get("alg") != JWT_ALGORITHM:
            raise InvalidToken("unknown key or algorithm")
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "sub", "iat", "sid"]},
            leeway=5,
        )
        if payload.get("type") != ACCESS_TOKEN_TYPE:
            raise InvalidToken("not an access token")
        return AccessClaims(
            user_id=uuid.UUID(payload["sub"]),
            session_id=uuid.UUID(payload["sid"]),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise InvalidToken(str(exc)) from exc


def new_opaque_token() -> str:
    """A random token for refresh tokens and invite links: stored hashed, shown once."""
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> bytes:
    # A high-entropy random token needs no slow hash: SHA-256 makes a DB leak useless.
    return hashlib.sha256(token.encode()).digest()


API_KEY_MARKER = "dc_live_"
# What a person sees of a stored key: the marker and four random characters.
API_KEY_PREFIX_CHARS = len(API_KEY_MARKER) + 4
READ_SCOPE = "read"
WRITE_SCOPE = "write"
ALL_SCOPES = frozenset({READ_SCOPE, WRITE_SCOPE})


def new_api_key() -> str:
    return API_KEY_MARKER + secrets.token_urlsafe(32)


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_MARKER)

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from app.auth.emails import refuse_look_alike, valid_email
from app.core.types import TextIn, UnicodeText

MIN_PASSWORD_LENGTH = 10
_EMAIL_SCHEMA = WithJsonSchema({"type": "string", "format": "email", "maxLength": 320})

# The normal form (app.auth.emails) of an address typed at sign-in.
EmailIn = Annotated[UnicodeText, AfterValidator(valid_email), _EMAIL_SCHEMA]
# ... and of a new account's, which must not imitate another script.
NewEmailIn = Annotated[EmailIn, AfterValidator(refuse_look_alike), _EMAIL_SCHEMA]


class RegisterIn(BaseModel):
    email: NewEmailIn
    password: UnicodeText = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    full_name: TextIn = Field(min_length=1, max_length=200)
    # From an invite link (/register?invite=<token>): needed when registration is by invite.
    invite_token: UnicodeText | None = Field(default=None, min_length=1, max_length=200)


class LoginIn(BaseModel):
    email: EmailIn
    password: UnicodeText = Field(min_length=1, max_length=1024)


class RefreshIn(BaseModel):
    refresh_token: UnicodeText = Field(min_length=1, max_length=512)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    role: Literal["admin", "member"]
    created_at: datetime


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int


NewPassword = Annotated[UnicodeText, Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)]


class PasswordChangeIn(BaseModel):
    current_password: UnicodeText = Field(min_length=1, max_length=1024)
    new_password: NewPassword


class ProfileIn(BaseModel):
    full_name: TextIn | None = Field(default=None, min_length=1, max_length=200)
    email: NewEmailIn | None = None
    # Required to change the email.
    current_password: UnicodeText | None = Field(default=None, max_length=1024)


class ProfileOut(UserOut):
    # Set while an email change waits for the link sent to the new address.
    pending_email: str | None = None


class SessionOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool


class PasswordResetIn(BaseModel):
    email: EmailIn


class PasswordResetConfirmIn(BaseModel):
    token: UnicodeText = Field(min_length=1, max_length=512)
    new_password: NewPassword


class EmailConfirmIn(BaseModel):
    token: UnicodeText = Field(min_length=1, max_length=512)


class SignInCodeIn(BaseModel):
    code: UnicodeText = Field(min_length=1, max_length=512)


class AuthConfigOut(BaseModel):
    """What the sign-in page offers (GET /api/v1/auth/oidc/config)."""

    enabled: bool
    provider_name: str | None
    password_login_enabled: bool
    # False: no reset mail; the page says how an administrator resets a password.
    password_reset_by_email: bool

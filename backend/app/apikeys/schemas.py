from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.types import TextIn

# `write` includes reading: a key is either read-only or may also change data.
ScopesIn = list[Literal["read", "write"]]


class ApiKeyCreate(BaseModel):
    name: TextIn = Field(min_length=1, max_length=100)
    scopes: ScopesIn = Field(min_length=1, max_length=2, examples=[["read"], ["read", "write"]])
    expires_at: datetime | None = Field(
        default=None, description="When the key stops working (none: until revoked)"
    )

    @field_validator("name")
    @classmethod
    def _stripped(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("scopes")
    @classmethod
    def _read_with_write(cls, value: list[str]) -> list[str]:
        if "write" in value and "read" not in value:
            raise ValueError('a key that writes reads too: use ["read", "write"]')
        return sorted(set(value))

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("must include a time zone (e.g. 2027-01-31T00:00:00Z)")
        if value <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return value


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    scopes: list[str]
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None = Field(description="Updated at most once a minute")
    last_used_ip: str | None


class ApiKeyCreated(BaseModel):
    """A new key: `key` is shown this once and never stored (only its hash is)."""

    id: uuid.UUID
    name: str
    key: str
    prefix: str
    scopes: list[str]
    expires_at: datetime | None
    created_at: datetime

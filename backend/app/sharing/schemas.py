from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.auth.schemas import EmailIn
from app.core.types import TextIn
from app.sharing.models import Role

MAX_IDS = 500

ShareRole = Literal["viewer", "editor"]


class PersonOut(BaseModel):
    """Another account as sharing shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str


class CollectionIn(BaseModel):
    name: TextIn = Field(min_length=1, max_length=200)
    description: TextIn = Field(default="", max_length=2000)


class CollectionUpdate(BaseModel):
    name: TextIn | None = Field(default=None, min_length=1, max_length=200)
    description: TextIn | None = Field(default=None, max_length=2000)
    owner_email: EmailIn | None = Field(
        default=None, description="Transfer the collection to this account (owner only)"
    )


class CollectionOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    owner: PersonOut
    my_role: Role
    document_count: int
    created_at: datetime
    updated_at: datetime


class DocumentIdsIn(BaseModel):
    document_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_IDS)


class MemberIn(BaseModel):
    """Share with one person (``email``) or one group (``group_id``)."""

    email: EmailIn | None = None
    group_id: uuid.UUID | None = None
    role: ShareRole

    @model_validator(mode="after")
    def one_grantee(self) -> Self:
        if (self.email is None) == (self.group_id is None):
            raise ValueError("Give either an email or a group_id.")
        return self


class GroupRefOut(BaseModel):
    id: uuid.UUID
    name: str


class MemberOut(BaseModel):
    id: uuid.UUID
    kind: Literal["user", "group"]
    user: PersonOut | None
    group: GroupRefOut | None
    role: ShareRole


class GroupIn(BaseModel):
    name: TextIn = Field(min_length=1, max_length=200)


class GroupOut(BaseModel):
    id: uuid.UUID
    name: str
    owner: PersonOut
    my_role: Literal["owner", "member"]
    member_count: int
    created_at: datetime


class GroupMemberIn(BaseModel):
    email: EmailIn

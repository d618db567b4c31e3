from __future__ import annotations

from pydantic import BaseModel, Field

from app.core.types import UnicodeText


class DeleteAccountIn(BaseModel):
    password: UnicodeText = Field(min_length=1, max_length=1024)

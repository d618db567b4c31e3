from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    page_count: int | None
    chunk_count: int
    status: Literal["queued", "processing", "ready", "failed"]
    progress: int
    stage: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime

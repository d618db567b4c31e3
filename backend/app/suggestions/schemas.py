from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field


class SuggestionsOut(BaseModel):
    document_id: uuid.UUID
    questions: list[str] = Field(description="Empty until the document is ready")
    source: Literal["headings", "llm", "none"] = Field(
        description="headings: made from its headings and opening text; llm: written by the "
        "language model; none: the document is not ready yet"
    )

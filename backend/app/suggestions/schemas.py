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


class ScopeSuggestionsOut(BaseModel):
    questions: list[str] = Field(
        description="Up to four questions, taken in turns from the documents' own suggestions"
    )
    document_ids: list[uuid.UUID] = Field(
        description="The ready documents the questions are about: the first two ready ones "
        "of document_id, else the newest two of the collection, else of everything you can "
        "read. Empty when nothing in the scope is ready yet"
    )

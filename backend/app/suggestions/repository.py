"""The SQL of suggested questions."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.documents.models import Chunk
from app.suggestions.models import DocumentSuggestions


async def stored(session: AsyncSession, *, document_id: uuid.UUID) -> DocumentSuggestions | None:
    return await session.get(DocumentSuggestions, document_id)


async def store(
    session: AsyncSession, *, document_id: uuid.UUID, questions: list[str], source: str
) -> None:
    """Keep the first ones made (two readers asking at once get the same questions)."""
    await session.execute(
        insert(DocumentSuggestions)
        .values(document_id=document_id, questions=questions, source=source)
        .on_conflict_do_nothing(index_elements=["document_id"])
    )
    await session.flush()


async def opening_chunks(
    session: AsyncSession, *, document_id: uuid.UUID, limit: int
) -> list[tuple[list[str], str]]:
    """(heading path, text) of the document's first chunks, in reading order."""
    result = await session.execute(
        select(Chunk.heading_path, Chunk.text)
        .where(Chunk.document_id == document_id)
        .order_by(Chunk.ordinal)
        .limit(limit)
    )
    return [(list(row.heading_path), row.text) for row in result]

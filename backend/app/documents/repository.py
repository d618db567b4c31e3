"""The documents domain's queries of what a reader may see (app.sharing.access decides)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.documents.models import Document
from app.sharing import access
from app.sharing.models import Role


@dataclass(frozen=True)
class ReadableDocument:
    document: Document
    owner: User
    role: Role


async def readable_documents(
    session: AsyncSession,
    *,
    reader_id: uuid.UUID,
    document_ids: Sequence[uuid.UUID] | None = None,
    collection_id: uuid.UUID | None = None,
    owned: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[ReadableDocument]:
    """The documents the reader can read, newest first, with their owner and the reader's
    role; narrowed to ``document_ids``, a collection's documents, or the reader's own."""
    ranks = access.document_ranks(reader_id, document_ids=document_ids)
    statement = (
        select(Document, User, ranks.c.rank)
        .join(ranks, ranks.c.document_id == Document.id)
        .join(User, User.id == Document.user_id)
        .order_by(Document.created_at.desc(), Document.id)
        .offset(offset)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if collection_id is not None:
        statement = statement.where(Document.id.in_(access.in_collection(collection_id)))
    if owned:
        statement = statement.where(Document.user_id == reader_id)
    rows = (await session.execute(statement)).all()
    return [ReadableDocument(row[0], row[1], access.role_of_rank(row[2])) for row in rows]

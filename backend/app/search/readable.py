"""Search what a reader may read (app.sharing.access.ReadScope): their own partition and the
shared documents of other owners' partitions (listed, or as the collections holding them),
in one retrieval whose BM25 statistics are those of exactly the readable chunks
(app.search.retrieval, multi-owner scopes)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import Settings
from app.search import service
from app.search.passages import Passage
from app.search.retrieval import RetrievalParams, SharedCollections
from app.sharing.access import ReadScope


async def search_readable(
    session: AsyncSession,
    *,
    settings: Settings,
    scope: ReadScope,
    query: str,
    k: int,
    params: RetrievalParams | None = None,
) -> list[Passage]:
    """The top-k passages of the scope for the query (none for an empty scope)."""
    if scope.is_empty:
        return []
    return await service.search(
        session,
        settings=settings,
        user_id=scope.reader_id,
        query=query,
        k=k,
        readable={owner.owner_id: owner.document_ids for owner in scope.owners},
        collections=SharedCollections(
            collection_ids=scope.collection_ids, owner_ids=scope.collection_owner_ids
        ),
        params=params,
    )

"""Search what a reader may read (app.sharing.access.ReadScope): their own partition and the
shared documents of other owners' partitions.

Each owner's partition is searched with the one-owner retrieval (narrowed to the shared
document ids), and the passages are merged by their fused score, which is on the same
scale in every partition (cosine and BM25 over the query's largest possible BM25).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import Settings
from app.search import service
from app.search.passages import Passage
from app.search.retrieval import RetrievalParams
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
    found: list[Passage] = []
    for owner in scope.owners:
        if owner.document_ids is not None and not owner.document_ids:
            continue  # never "no filter": an empty list of shared documents reads nothing
        found += await service.search(
            session,
            settings=settings,
            user_id=owner.owner_id,
            query=query,
            k=k,
            document_ids=owner.document_ids,
            params=params,
        )
    return sorted(found, key=lambda passage: (-passage.score, passage.chunk_id))[:k]

"""Search for the signed-in user: embed the query, then hybrid retrieval in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.ai.embedding_process import embed_query_async
from app.ai.factory import get_embedder
from app.core.settings import Settings
from app.search.config import get_retrieval_params
from app.search.passages import Passage
from app.search.prewarm import prewarmer
from app.search.retrieval import (
    ReadableDocuments,
    RetrievalParams,
    SearchScope,
    SharedCollections,
    hybrid_search,
)


async def search(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: uuid.UUID,
    query: str,
    k: int,
    document_ids: Sequence[uuid.UUID] | None = None,
    readable: ReadableDocuments | None = None,
    collections: SharedCollections | None = None,
    params: RetrievalParams | None = None,
) -> list[Passage]:
    """The ``k`` best passages for ``query``.

    Without ``readable``: ``user_id``'s own documents (narrowed to ``document_ids``, BM25
    statistics of their whole corpus). With it: exactly the documents it lists per owner
    (None: every document of that owner) and the documents of ``collections``, BM25
    statistics of exactly those; the caller (app.sharing) has decided that ``user_id`` may
    read them, and ``document_ids`` must be None. ``{user_id: None}`` runs the same SQL as
    no ``readable``.
    """
    if readable is not None and document_ids is not None:
        raise ValueError("readable lists the documents: narrow it instead of document_ids")
    # PostgreSQL text cannot hold U+0000 (a 500 from to_tsvector otherwise): treat it as a space.
    query = query.replace("\x00", " ")
    embedder = get_embedder(settings)
    vector = await embed_query_async(embedder, query)
    if readable is not None:
        scope = SearchScope(
            owners=readable,
            collections=collections,
            model_id=embedder.model_id,
            dimensions=embedder.dimensions,
        )
    else:
        scope = SearchScope(
            user_id=user_id,
            document_ids=list(document_ids) if document_ids else None,
            model_id=embedder.model_id,
            dimensions=embedder.dimensions,
        )
    if isinstance(session.bind, AsyncEngine):
        owners = (
            [user_id] if readable is None else [o for o, ids in readable.items() if ids is None]
        )
        prewarmer.tenants_searched(session.bind, user_ids=owners, model_id=embedder.model_id)
    return await hybrid_search(
        session,
        scope=scope,
        query=query,
        query_vector=vector,
        k=k,
        params=params or get_retrieval_params(),
    )

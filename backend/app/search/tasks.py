"""Jobs of the search domain: a large tenant's own vector index."""

from __future__ import annotations

import logging
import uuid

from procrastinate import Blueprint, JobContext, RetryStrategy

from app.core.database_url import libpq_url
from app.search.indexing import create_tenant_vector_index

logger = logging.getLogger(__name__)


async def build_tenant_vector_index(
    context: JobContext, user_id: str, model_id: str, dimensions: int
) -> None:
    from app.worker import worker_deps

    settings = worker_deps(context).settings
    url = settings.database_direct_url or settings.database_url
    assert url is not None
    built = await create_tenant_vector_index(
        libpq_url(url), user_id=uuid.UUID(user_id), model_id=model_id, dimensions=dimensions
    )
    logger.info(
        "tenant_vector_index", extra={"user_id": user_id, "model": model_id, "built": built}
    )


def search_blueprint() -> Blueprint:
    blueprint = Blueprint()
    blueprint.task(
        name="build_tenant_vector_index",
        pass_context=True,
        retry=RetryStrategy(max_attempts=5, exponential_wait=10),
    )(build_tenant_vector_index)
    return blueprint

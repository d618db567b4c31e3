"""The bulk action job: one batch per transaction until the selection is done."""

from __future__ import annotations

import logging
import uuid

from procrastinate import Blueprint, JobContext

from app.core.errors import AppError
from app.documents.tasks import worker_deps
from app.library.bulk import fail_bulk_action, run_batch

logger = logging.getLogger(__name__)

UNEXPECTED_ERROR = "Something went wrong while doing this; what was done so far is kept."

library_jobs = Blueprint()


@library_jobs.task(name="library:run_bulk_action", pass_context=True)
async def run_bulk_action(context: JobContext, bulk_id: str) -> None:
    deps = worker_deps(context)
    action_id = uuid.UUID(bulk_id)
    while True:
        async with deps.sessionmaker() as session:
            try:
                result = await run_batch(session, bulk_id=action_id)
                await session.commit()
            except AppError as exc:
                await session.rollback()
                await fail_bulk_action(session, bulk_id=action_id, reason=exc.message)
                await session.commit()
                return
            except Exception:
                logger.exception("bulk_action_failed", extra={"bulk_id": bulk_id})
                await session.rollback()
                await fail_bulk_action(session, bulk_id=action_id, reason=UNEXPECTED_ERROR)
                await session.commit()
                return
        for kind, document_id in result.deleted_originals:
            await deps.originals.forget(kind=kind, document_id=document_id)
        if result.finished:
            return

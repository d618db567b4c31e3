"""Walking a bulk action's selection, one batch per transaction.

The selection is a library filter frozen at the moment it was asked for (documents added
later are left out) or a list of ids. Each document's role is checked like the
single-document routes do: delete and reindex need `owner` (the others are counted as
denied), adding to a collection needs `editor` on it (checked again at every batch: a role
taken away stops the action)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.documents import repository as documents_repository
from app.documents import service as documents
from app.documents.repository import LibraryFilter, LibrarySort
from app.library import repository
from app.library.models import BulkAction, BulkStatus, DocumentBulkAction
from app.library.schemas import LibraryFilterIn
from app.sharing import access
from app.sharing.models import Role
from app.sharing.repository import add_collection_documents

BATCH_SIZE = 100


def library_filter_of(selected: LibraryFilterIn, *, as_of: datetime) -> LibraryFilter:
    """The filter a bulk action walks: the one asked for, frozen at ``as_of``."""
    created_to = as_of if selected.created_to is None else min(selected.created_to, as_of)
    return LibraryFilter(
        statuses=tuple(status.value for status in selected.status),
        kinds=tuple(kind.value for kind in selected.kind),
        collection_id=selected.collection_id,
        owned=selected.owned,
        created_from=selected.created_from,
        created_to=created_to,
        query=(selected.q.strip() or None) if selected.q is not None else None,
        folder=documents.normalize_folder(selected.folder),
    )


@dataclass(frozen=True)
class BatchResult:
    finished: bool
    # (store, document id) of each deleted original, to forget once the batch commits.
    deleted_originals: list[tuple[str | None, uuid.UUID]]


async def _next_batch(
    session: AsyncSession, bulk: DocumentBulkAction
) -> tuple[list[uuid.UUID], str | None]:
    """The next batch's document ids and the position after it."""
    if "document_ids" in bulk.selection:
        start = int(bulk.position or 0)
        ids = [uuid.UUID(value) for value in bulk.selection["document_ids"]]
        return ids[start : start + BATCH_SIZE], str(start + BATCH_SIZE)
    wanted = library_filter_of(
        LibraryFilterIn.model_validate(bulk.selection["filter"]),
        as_of=datetime.fromisoformat(bulk.selection["as_of"]),
    )
    after = (
        documents.decode_cursor(bulk.position, LibrarySort.DATE, descending=True)
        if bulk.position
        else None
    )
    rows = await documents_repository.library_page(
        session,
        reader_id=bulk.user_id,
        wanted=wanted,
        sort=LibrarySort.DATE,
        descending=True,
        after=after,
        limit=BATCH_SIZE,
    )
    if not rows:
        return [], bulk.position
    position = documents.encode_cursor(LibrarySort.DATE, descending=True, keys=rows[-1])
    return [row[-1] for row in rows], position


async def run_batch(session: AsyncSession, *, bulk_id: uuid.UUID) -> BatchResult:
    """Act on the next batch of the selection and record the progress (the caller commits,
    one transaction per batch). An AppError (the collection no longer editable) stops it."""
    bulk = await repository.bulk_action_for_update(session, bulk_id=bulk_id)
    if bulk is None or bulk.status in (BulkStatus.DONE, BulkStatus.FAILED):
        return BatchResult(finished=True, deleted_originals=[])
    ids, position = await _next_batch(session, bulk)
    if not ids:
        await repository.set_bulk_values(
            session, bulk_id=bulk.id, status=BulkStatus.DONE.value, finished_at=datetime.now(UTC)
        )
        return BatchResult(finished=True, deleted_originals=[])
    roles = await access.document_roles(session, reader_id=bulk.user_id, document_ids=ids)
    deleted: list[tuple[str | None, uuid.UUID]] = []
    if bulk.action == BulkAction.ADD_TO_COLLECTION:
        assert bulk.collection_id is not None
        await access.require_collection(
            session, reader_id=bulk.user_id, collection_id=bulk.collection_id, at_least=Role.EDITOR
        )
        allowed = [document_id for document_id in ids if document_id in roles]
        if allowed:
            await add_collection_documents(
                session,
                collection_id=bulk.collection_id,
                document_ids=allowed,
                added_by=bulk.user_id,
            )
    else:
        allowed = [document_id for document_id in ids if roles.get(document_id) is Role.OWNER]
        for document_id in allowed:
            if bulk.action == BulkAction.DELETE:
                document = await documents.delete_document(
                    session, user_id=bulk.user_id, document_id=document_id
                )
                deleted.append((document.original_storage, document.id))
            else:
                await documents.request_reindex(
                    session, user_id=bulk.user_id, document_id=document_id
                )
    await repository.set_bulk_values(
        session,
        bulk_id=bulk.id,
        status=BulkStatus.RUNNING.value,
        processed=bulk.processed + len(ids),
        succeeded=bulk.succeeded + len(allowed),
        denied=bulk.denied + len(ids) - len(allowed),
        position=position,
    )
    return BatchResult(finished=False, deleted_originals=deleted)


async def fail_bulk_action(session: AsyncSession, *, bulk_id: uuid.UUID, reason: str) -> None:
    await repository.set_bulk_values(
        session,
        bulk_id=bulk_id,
        status=BulkStatus.FAILED.value,
        error=reason,
        finished_at=datetime.now(UTC),
    )

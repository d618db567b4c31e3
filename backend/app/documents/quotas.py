"""Per-account quotas (storage and number of documents), checked when documents are added."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core.errors import QuotaExceeded
from app.core.settings import Settings
from app.documents import repository

MB = 1024 * 1024
ASK_FOR_MORE = "Delete some documents, or ask an administrator for a larger quota."


@dataclass(frozen=True)
class Quota:
    """Limits of one account; None: no limit."""

    storage_mb: int | None
    documents: int | None


def quota_of(user: User, settings: Settings) -> Quota:
    """The user's own limits, else the configured defaults; 0 means no limit in both."""
    storage = settings.quota_storage_mb if user.quota_storage_mb is None else user.quota_storage_mb
    documents = settings.quota_documents if user.quota_documents is None else user.quota_documents
    return Quota(storage_mb=storage or None, documents=documents or None)


def _size(n_bytes: float) -> str:
    if n_bytes < 0.1 * MB:
        return f"{n_bytes / 1024:.1f} KB"
    return f"{n_bytes / MB:.1f} MB"


async def check_quota(
    session: AsyncSession, *, user_id: uuid.UUID, quota: Quota, sizes_by_sha256: Mapping[str, int]
) -> None:
    """Refuse (403 quota_exceeded) files that would take the user past a limit. Files the
    user already has (same SHA-256) add nothing. The user's other uploads wait for this
    transaction, so two at once cannot both squeeze under the limit."""
    if quota.storage_mb is None and quota.documents is None:
        return
    await repository.lock_quota_of_user(session, user_id=user_id)
    present = await repository.hashes_present(
        session, user_id=user_id, sha256s=list(sizes_by_sha256)
    )
    added = {digest: size for digest, size in sizes_by_sha256.items() if digest not in present}
    if not added:
        return
    usage = await repository.usage_of_user(session, user_id=user_id)
    if quota.documents is not None and usage.documents + len(added) > quota.documents:
        over = usage.documents + len(added) - quota.documents
        raise QuotaExceeded(
            f"Document limit reached: your account may hold {quota.documents} documents and "
            f"holds {usage.documents}; this upload adds {len(added)}, {over} over the limit. "
            + ASK_FOR_MORE
        )
    new_bytes = sum(added.values())
    if quota.storage_mb is not None and usage.storage_bytes + new_bytes > quota.storage_mb * MB:
        over_bytes = usage.storage_bytes + new_bytes - quota.storage_mb * MB
        raise QuotaExceeded(
            f"Storage limit reached: your account may store {quota.storage_mb} MB and stores "
            f"{_size(usage.storage_bytes)}; this upload adds {_size(new_bytes)}, "
            f"{_size(over_bytes)} over the limit. " + ASK_FOR_MORE
        )

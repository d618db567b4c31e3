"""Deleting an account with everything in it."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import service as auth_service
from app.auth.models import User
from app.core.errors import Forbidden
from app.documents import service as documents_service

WRONG_PASSWORD = "The password is not correct."  # noqa: S105
SSO_ONLY = (
    "This account signs in with single sign-on and has no password to confirm with: set one "
    "with 'Forgot password', or ask an administrator to delete the account."
)


async def delete_account(
    session: AsyncSession, *, user: User, password: str
) -> list[tuple[str | None, uuid.UUID]]:
    """The account and all its data, as an admin's delete does: every document with its
    chunks, vectors, postings, pages and ingestion job, then the user row, which cascades to
    chats, messages, sign-ins, API keys and whatever else references the user. Returns
    (store, document id) of each original, for the caller to forget once this commits."""
    if user.password_hash is None:
        raise Forbidden(SSO_ONLY)
    if not await auth_service.password_matches(user=user, password=password):
        raise Forbidden(WRONG_PASSWORD)
    originals = await documents_service.delete_all_documents(session, user_id=user.id)
    await audit.record(
        session,
        action=audit.ACCOUNT_DELETE,
        actor_id=None,
        target_type="user",
        target_id=str(user.id),
        details={"email": user.email, "documents": len(originals)},
    )
    await auth_service.delete_user(session, user_id=user.id)
    return originals

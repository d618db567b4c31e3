from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class BulkAction(StrEnum):
    DELETE = "delete"
    ADD_TO_COLLECTION = "add_to_collection"
    REINDEX = "reindex"


class BulkStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class DocumentBulkAction(Base):
    """A select-all action over a library filter (or a list of documents), run as a job
    batch by batch; the counters are its progress."""

    __tablename__ = "document_bulk_actions"
    __table_args__ = (
        CheckConstraint(
            "action IN ('delete', 'add_to_collection', 'reindex')", name="action_valid"
        ),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_valid"),
        Index("ix_document_bulk_actions_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    action: Mapped[str] = mapped_column(String(32))
    # {"filter": {...}} (app.library.service.selection_of) or {"document_ids": [...]}.
    selection: Mapped[dict[str, Any]] = mapped_column(JSONB)
    collection_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(16), server_default=BulkStatus.QUEUED.value)
    total: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    processed: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    succeeded: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    denied: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    # Where the job resumes after a crash: the last batch's page cursor, or list index.
    position: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

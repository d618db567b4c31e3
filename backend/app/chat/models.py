from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (
        Index("ix_chats_user_id_updated_at", "user_id", "updated_at"),
        Index(
            "ix_chats_collection_id",
            "collection_id",
            postgresql_where=sql_text("collection_id IS NOT NULL"),
        ),
        Index(
            "ix_chats_title_fts", sql_text("to_tsvector('english', title)"), postgresql_using="gin"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(200), server_default="New chat")
    document_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    # The chat's scope: a collection (its documents the asker can read); NULL: all they can.
    collection_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("collections.id", ondelete="SET NULL")
    )
    pinned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An LLM_MODELS id; NULL (or an id no longer configured): the default answerer.
    model: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        Index("ix_chat_messages_chat_id_created_at", "chat_id", "created_at"),
        CheckConstraint("role IN ('user', 'assistant')", name="role_valid"),
        CheckConstraint("status IN ('streaming', 'done', 'failed')", name="status_valid"),
        Index(
            "ix_chat_messages_content_fts",
            sql_text("to_tsvector('english', content)"),
            postgresql_using="gin",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    chat_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chats.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    # The message this one follows (a question: the answer before it; an answer: its
    # question). Messages with the same parent are versions of one turn; no foreign key, a
    # chat's messages go together (chat_id cascades).
    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    # The standalone query a follow-up question was rewritten into (user messages).
    search_query: Mapped[str | None] = mapped_column(Text)
    partial: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("false"))
    extractive: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("false"))
    error: Mapped[str | None] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=sql_text("'[]'::jsonb")
    )
    # An answer's retrieved passages (cited or not), as references: app.chat.answering.
    retrieved: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # 'streaming' while the answer is written (content saved as it grows), 'done', 'failed'.
    status: Mapped[str] = mapped_column(String(16), server_default=sql_text("'done'"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    # The writer's heartbeat while streaming.
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    # Of the versions of a turn, the one selected last is shown.
    selected_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    # Its owner's rating (a chat is its owner's alone), loaded with the message.
    feedback: Mapped[MessageFeedback | None] = relationship(
        "MessageFeedback",
        primaryjoin="and_(MessageFeedback.message_id == ChatMessage.id, "
        "MessageFeedback.user_id == ChatMessage.user_id)",
        foreign_keys="[MessageFeedback.message_id]",
        viewonly=True,
        uselist=False,
        lazy="selectin",
    )


class MessageFeedback(Base):
    """A person's rating of an answer, with what the answer was made of when they rated it:
    the question, what was searched, the answer and its passages (as they were)."""

    __tablename__ = "message_feedback"
    __table_args__ = (
        UniqueConstraint("message_id", "user_id", name="uq_message_feedback_message_id_user_id"),
        CheckConstraint("rating IN (-1, 1)", name="rating_valid"),
        Index("ix_message_feedback_user_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    message_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chat_messages.id", ondelete="CASCADE")
    )
    chat_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chats.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text)
    search_query: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    # The chat's scope when rated: {"document_ids": [...] | null, "collection_id": ... | null}.
    scope: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sql_text("'{}'::jsonb"))
    passages: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=sql_text("'[]'::jsonb")
    )
    # Every passage the answer was given (cited or not), with its text when rated.
    retrieved: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

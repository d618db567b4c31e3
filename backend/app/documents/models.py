from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class DocumentStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("user_id", "sha256", name="uq_documents_user_id_sha256"),
        CheckConstraint(
            "status IN ('queued', 'processing', 'ready', 'failed')", name="status_valid"
        ),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        # The library list's keyset sorts, each ending in id for ties. Migration 0018 also
        # builds (user_id, lower(filename), id), a trigram index on lower('folder/filename') and
        # (user_id, folder text_pattern_ops): migration-only (app/migrations/env.py).
        Index("ix_documents_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_documents_user_id_size_bytes_id", "user_id", "size_bytes", "id"),
        Index("ix_documents_user_id_status_created_at_id", "user_id", "status", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    kind: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), server_default=DocumentStatus.QUEUED.value)
    stage: Mapped[str | None] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(SmallInteger, server_default=sql_text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    page_count: Mapped[int | None] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    # The sum of its chunks' lexeme_count (BM25 length), written with them; NULL: unknown.
    lexeme_total: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    embedding_model: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The store holding the original (app.documents.storage); NULL = Postgres.
    original_storage: Mapped[str | None] = mapped_column(String(16))
    # The address a document imported from the web was fetched from (after redirects).
    source_url: Mapped[str | None] = mapped_column(Text)
    # The folder a file was uploaded from, relative to what was picked ("reports/2024");
    # NULL at the top level.
    folder: Mapped[str | None] = mapped_column(Text)
    # Pages whose text was read by OCR (NULL: none), and what the owner should know about a
    # ready document, such as the pages OCR could not read.
    ocr_pages: Mapped[int | None] = mapped_column(Integer)
    notice: Mapped[str | None] = mapped_column(Text)


class DocumentFile(Base):
    """The original bytes, kept in Postgres so the database is the only stateful service."""

    __tablename__ = "document_files"

    document_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Chunk(Base):
    __tablename__ = "chunks"
    __table_args__ = (
        UniqueConstraint("document_id", "ordinal", name="uq_chunks_document_id_ordinal"),
        Index("ix_chunks_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    page_start: Mapped[int] = mapped_column(Integer)
    page_end: Mapped[int] = mapped_column(Integer)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    heading_path: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=sql_text("'{}'::text[]")
    )
    text: Mapped[str] = mapped_column(Text)
    token_count: Mapped[int] = mapped_column(Integer)
    # BM25 document length: lexeme occurrences in heading + text.
    lexeme_count: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    embedding_model: Mapped[str] = mapped_column(String(255))
    # No fixed dimension: each model gets its own partial HNSW index over a cast expression.
    embedding: Mapped[list[float]] = mapped_column(Vector())
    # [[page, start, end], ...]: the slices of document_pages.text the chunk's text joins
    # (with "\n"). NULL for chunks written before page text was stored (reindex fills it).
    spans: Mapped[list[list[int]] | None] = mapped_column(JSONB)
    # A spreadsheet passage: its sheet (NULL for CSV/TSV) and the sheet rows it quotes.
    sheet: Mapped[str | None] = mapped_column(Text)
    row_start: Mapped[int | None] = mapped_column(Integer)
    row_end: Mapped[int | None] = mapped_column(Integer)


class DocumentPage(Base):
    """DocChat's extracted text of one page (or sheet, slide, section: any location a format
    has), which chunk spans and citation highlights index. The document viewer shows it for
    formats it does not render itself."""

    __tablename__ = "document_pages"
    __table_args__ = (CheckConstraint("number >= 1", name="number_positive"),)

    document_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    # Denormalised for the owner filter every read carries; documents.user_id cascades.
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    number: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-based, reading order
    text: Mapped[str] = mapped_column(Text)
    # [[start, end], ...] of text: running headers, footers and page numbers.
    furniture: Mapped[list[list[int]]] = mapped_column(
        JSONB, server_default=sql_text("'[]'::jsonb")
    )
    # The sheet's, slide's or chapter's title.
    title: Mapped[str | None] = mapped_column(Text)
    # A sheet: the row number in the sheet of each row of text (rows are "\n\n"-separated).
    row_numbers: Mapped[list[int] | None] = mapped_column(ARRAY(Integer))
    # A page read by OCR: [[start, end, left, top, right, bottom], ...], a box per word of text
    # (offsets into text; the box in fractions of the page's width and height). NULL otherwise.
    words: Mapped[list[list[float]] | None] = mapped_column(JSONB)


class ChunkTerm(Base):
    """BM25 postings: one row per (user, lexeme, chunk), read per query lexeme by index.

    The primary key carries every column BM25 reads (migration 0023), so both a lexeme's
    range scan and a probe for one chunk are index-only."""

    __tablename__ = "chunk_terms"
    __table_args__ = (
        PrimaryKeyConstraint(
            "user_id",
            "lexeme",
            "chunk_id",
            name="pk_chunk_terms",
            postgresql_include=["document_id", "tf", "doc_len"],
        ),
        Index("ix_chunk_terms_document_id", "document_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    lexeme: Mapped[str] = mapped_column(Text)
    chunk_id: Mapped[int] = mapped_column(BigInteger)
    document_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    tf: Mapped[int] = mapped_column(SmallInteger)
    doc_len: Mapped[int] = mapped_column(Integer)


class UserLexemeStats(Base):
    """Per-user document frequency of each lexeme: how many of the user's chunks have a
    posting for it (the df of BM25 over the user's whole corpus). Written by triggers on
    chunk_terms (migration 0025), in the transaction that writes or deletes the postings."""

    __tablename__ = "user_lexeme_stats"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    lexeme: Mapped[str] = mapped_column(Text, primary_key=True)
    df: Mapped[int] = mapped_column(BigInteger)


class UserCorpusStats(Base):
    """Per-user BM25 corpus statistics, maintained in the indexing and deleting transactions."""

    __tablename__ = "user_corpus_stats"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    chunk_count: Mapped[int] = mapped_column(BigInteger, server_default=sql_text("0"))
    total_length: Mapped[int] = mapped_column(BigInteger, server_default=sql_text("0"))

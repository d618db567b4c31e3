"""Every ORM model, imported in one place so Alembic sees the whole schema."""

from app.audit.models import AuditEvent
from app.auth.models import InstanceSettings, Invite, RefreshToken, User
from app.chat.models import Chat, ChatMessage
from app.core.db import Base
from app.documents.models import Chunk, ChunkTerm, Document, DocumentFile, UserCorpusStats

metadata = Base.metadata

__all__ = [
    "AuditEvent",
    "Chat",
    "ChatMessage",
    "Chunk",
    "ChunkTerm",
    "Document",
    "DocumentFile",
    "InstanceSettings",
    "Invite",
    "RefreshToken",
    "User",
    "UserCorpusStats",
    "metadata",
]

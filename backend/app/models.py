"""Every ORM model, imported in one place so Alembic sees the whole schema."""

from app.audit.models import AuditEvent
from app.auth.models import ApiKey, InstanceSettings, Invite, RefreshToken, User
from app.chat.models import Chat, ChatMessage
from app.core.db import Base
from app.documents.models import Chunk, ChunkTerm, Document, DocumentFile, UserCorpusStats
from app.library.models import DocumentBulkAction
from app.sharing.models import (
    Collection,
    CollectionDocument,
    CollectionMember,
    Group,
    GroupMember,
)

metadata = Base.metadata

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Chat",
    "ChatMessage",
    "Chunk",
    "ChunkTerm",
    "Collection",
    "CollectionDocument",
    "CollectionMember",
    "Document",
    "DocumentBulkAction",
    "DocumentFile",
    "Group",
    "GroupMember",
    "InstanceSettings",
    "Invite",
    "RefreshToken",
    "User",
    "UserCorpusStats",
    "metadata",
]

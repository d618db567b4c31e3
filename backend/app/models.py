"""Every ORM model, imported in one place so Alembic sees the whole schema."""

from app.audit.models import AuditEvent
from app.auth.models import ApiKey, InstanceSettings, Invite, RefreshToken, User
from app.chat.models import Chat, ChatMessage, MessageFeedback
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
from app.suggestions.models import DocumentSuggestions

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
    "DocumentSuggestions",
    "Group",
    "GroupMember",
    "InstanceSettings",
    "Invite",
    "MessageFeedback",
    "RefreshToken",
    "User",
    "UserCorpusStats",
    "metadata",
]

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from app.documents.detect import DocumentKind
from app.documents.models import DocumentStatus
from app.library.models import BulkAction, BulkStatus

MAX_BULK_DOCUMENT_IDS = 1000


class LibraryFilterIn(BaseModel):
    """The library list's filters (the query parameters of `GET /documents`)."""

    status: list[DocumentStatus] = Field(default_factory=list)
    kind: list[DocumentKind] = Field(default_factory=list)
    collection_id: uuid.UUID | None = None
    owned: bool = False
    created_from: datetime | None = None
    created_to: datetime | None = None
    q: str | None = Field(default=None, min_length=1, max_length=200)
    folder: str | None = Field(default=None, max_length=2000)


class BulkActionIn(BaseModel):
    action: BulkAction = Field(
        description="delete and reindex: documents you uploaded (the others are counted as "
        "denied); add_to_collection: every selected document, into `collection_id`"
    )
    filter: LibraryFilterIn | None = Field(
        default=None,
        description="Select all: every document matching these filters when the action is "
        "asked for (documents added later are left out)",
    )
    document_ids: list[uuid.UUID] | None = Field(
        default=None,
        max_length=MAX_BULK_DOCUMENT_IDS,
        description="Or these documents (ids you cannot read are counted as denied)",
    )
    collection_id: uuid.UUID | None = Field(
        default=None, description="add_to_collection: the collection (you edit or own it)"
    )

    @model_validator(mode="after")
    def one_selection(self) -> BulkActionIn:
        if (self.filter is None) == (self.document_ids is None):
            raise ValueError("Give either filter (select all) or document_ids.")
        if (self.action is BulkAction.ADD_TO_COLLECTION) != (self.collection_id is not None):
            raise ValueError("collection_id is needed for add_to_collection, and only there.")
        return self


class BulkActionOut(BaseModel):
    """A bulk action and its progress: poll it until `status` is done or failed."""

    id: uuid.UUID
    action: BulkAction
    status: BulkStatus
    collection_id: uuid.UUID | None
    total: int = Field(description="Documents selected when the action was asked for")
    processed: int = Field(description="Documents looked at so far")
    succeeded: int = Field(description="Documents deleted, queued for reindexing or added")
    denied: int = Field(
        description="Documents left alone: not yours to delete or reindex, or no longer there"
    )
    error: str | None = Field(description="Why a failed action stopped")
    created_at: datetime
    finished_at: datetime | None

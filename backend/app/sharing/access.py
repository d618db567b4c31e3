"""Who may read or change what: the one place that decides it, in SQL, on every request.

A user reads their own documents and every document of a collection they own, were given
a role on directly, or through a group they are a member of. Roles rank viewer < editor <
owner; a document's owner is its uploader, and a role on a collection gives at most
`editor` on the documents in it (only the uploader deletes or reindexes a document).

Nothing here is cached: a share removed, a group left or a document deleted is gone from
the very next statement that asks.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    Subquery,
    Uuid,
    bindparam,
    case,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Forbidden, NotFound
from app.sharing.models import (
    Collection,
    CollectionDocument,
    CollectionMember,
    Group,
    GroupMember,
    Role,
    documents_table,
)

COLLECTION_NOT_FOUND = "Collection not found."
DOCUMENT_NOT_FOUND = "Document not found."
GROUP_NOT_FOUND = "Group not found."
NEEDS = {
    Role.EDITOR: "Only the collection's owner and editors can do this.",
    Role.OWNER: "Only the owner can do this.",
}

_documents = documents_table  # short for the queries below

_OWNER, _EDITOR, _VIEWER = Role.OWNER.rank, Role.EDITOR.rank, Role.VIEWER.rank


def role_of_rank(rank: int) -> Role:
    return next(role for role in Role if role.rank == rank)


def _rank_of_share() -> ColumnElement[int]:
    return case((CollectionMember.role == Role.EDITOR.value, _EDITOR), else_=_VIEWER)


def collection_ranks(reader_id: uuid.UUID | BindParameter[uuid.UUID]) -> Subquery:
    """(collection_id, rank) of every collection the reader can see, with their best role."""
    groups = select(GroupMember.group_id).where(GroupMember.user_id == reader_id)
    shares = select(CollectionMember.collection_id, _rank_of_share().label("rank"))
    # Three index scans, each estimated from its own index: an OR of the two share filters
    # was estimated at hundreds of collections, and the plans built on it read every row of
    # collection_documents and documents.
    grants = union_all(
        select(Collection.id.label("collection_id"), literal(_OWNER, Integer).label("rank")).where(
            Collection.owner_id == reader_id
        ),
        shares.where(CollectionMember.user_id == reader_id),
        shares.where(CollectionMember.group_id.in_(groups)),
    ).subquery("grants")
    return (
        select(grants.c.collection_id, func.max(grants.c.rank).label("rank"))
        .group_by(grants.c.collection_id)
        .subquery("reader_collections")
    )


def document_ranks(
    reader_id: uuid.UUID, *, document_ids: Sequence[uuid.UUID] | None = None
) -> Subquery:
    """(document_id, rank) of every document the reader can read (or of those of
    ``document_ids`` they can): to join, so that a query returns nothing else."""
    collections = collection_ranks(reader_id)
    own = select(
        _documents.c.id.label("document_id"), literal(_OWNER, Integer).label("rank")
    ).where(_documents.c.user_id == reader_id)
    shared = select(
        CollectionDocument.document_id, func.least(collections.c.rank, _EDITOR).label("rank")
    ).join(collections, collections.c.collection_id == CollectionDocument.collection_id)
    if document_ids is not None:
        own = own.where(_documents.c.id.in_(list(document_ids)))
        shared = shared.where(CollectionDocument.document_id.in_(list(document_ids)))
    grants = union_all(own, shared).subquery("document_grants")
    return (
        select(grants.c.document_id, func.max(grants.c.rank).label("rank"))
        .group_by(grants.c.document_id)
        .subquery("readable_documents")
    )


def role_label(rank: ColumnElement[int]) -> ColumnElement[str]:
    """The SQL expression naming a rank column's role ('owner', 'editor', 'viewer')."""
    return case(
        (rank == _OWNER, Role.OWNER.value),
        (rank == _EDITOR, Role.EDITOR.value),
        else_=Role.VIEWER.value,
    )


def in_collection(collection_id: uuid.UUID) -> Select[uuid.UUID]:
    """The ids of a collection's documents (filter a readable set with it)."""
    return select(CollectionDocument.document_id).where(
        CollectionDocument.collection_id == collection_id
    )


# --------------------------------------------------------------------------- checks


def _require(role: Role | None, at_least: Role, not_found: str) -> Role:
    if role is None:
        raise NotFound(not_found)
    if role.rank < at_least.rank:
        raise Forbidden(NEEDS[at_least])
    return role


async def collection_role(
    session: AsyncSession, *, reader_id: uuid.UUID, collection_id: uuid.UUID
) -> Role | None:
    ranks = collection_ranks(reader_id)
    rank = (
        await session.execute(select(ranks.c.rank).where(ranks.c.collection_id == collection_id))
    ).scalar_one_or_none()
    return None if rank is None else role_of_rank(rank)


async def require_collection(
    session: AsyncSession, *, reader_id: uuid.UUID, collection_id: uuid.UUID, at_least: Role
) -> Role:
    """The reader's role on the collection: 404 if they cannot see it, 403 if it is below
    ``at_least``."""
    role = await collection_role(session, reader_id=reader_id, collection_id=collection_id)
    return _require(role, at_least, COLLECTION_NOT_FOUND)


async def document_roles(
    session: AsyncSession, *, reader_id: uuid.UUID, document_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Role]:
    """The reader's role on each of ``document_ids`` they can read (the others are absent)."""
    wanted = list(dict.fromkeys(document_ids))
    if not wanted:
        return {}
    ranks = document_ranks(reader_id, document_ids=wanted)
    rows = (await session.execute(select(ranks.c.document_id, ranks.c.rank))).all()
    return {row.document_id: role_of_rank(row.rank) for row in rows}


async def require_document(
    session: AsyncSession, *, reader_id: uuid.UUID, document_id: uuid.UUID, at_least: Role
) -> Role:
    """The reader's role on the document: 404 if they cannot read it, 403 if it is below
    ``at_least`` (deleting and reindexing need `owner`)."""
    roles = await document_roles(session, reader_id=reader_id, document_ids=[document_id])
    return _require(roles.get(document_id), at_least, DOCUMENT_NOT_FOUND)


async def group_role(
    session: AsyncSession, *, reader_id: uuid.UUID, group_id: uuid.UUID
) -> Role | None:
    """`owner` for the group's owner, `viewer` for a member, None for anyone else."""
    row = (
        await session.execute(
            select(
                Group.owner_id,
                select(GroupMember.user_id)
                .where(GroupMember.group_id == Group.id, GroupMember.user_id == reader_id)
                .exists()
                .label("member"),
            ).where(Group.id == group_id)
        )
    ).one_or_none()
    if row is None:
        return None
    if row.owner_id == reader_id:
        return Role.OWNER
    return Role.VIEWER if row.member else None


async def require_group(
    session: AsyncSession, *, reader_id: uuid.UUID, group_id: uuid.UUID, at_least: Role
) -> Role:
    role = await group_role(session, reader_id=reader_id, group_id=group_id)
    return _require(role, at_least, GROUP_NOT_FOUND)


# --------------------------------------------------------------------------- search scope


@dataclass(frozen=True)
class OwnerDocuments:
    """Documents of one owner the reader may search: ``document_ids`` None means all of
    them (the reader's own partition, unnarrowed)."""

    owner_id: uuid.UUID
    document_ids: tuple[uuid.UUID, ...] | None


@dataclass(frozen=True)
class ReadScope:
    """What a search or an answer may read, by the owner whose partition holds it: listed
    per owner (``owners``), and the documents of ``collection_owner_ids`` that are in
    ``collection_ids`` (shared collections are handed to retrieval as collections, not as
    the ids of however many documents they hold)."""

    reader_id: uuid.UUID
    owners: tuple[OwnerDocuments, ...]
    collection_ids: tuple[uuid.UUID, ...] = ()
    collection_owner_ids: tuple[uuid.UUID, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.owners or self.collection_owner_ids)


async def read_scope(
    session: AsyncSession,
    *,
    reader_id: uuid.UUID,
    collection_id: uuid.UUID | None = None,
    document_ids: Sequence[uuid.UUID] | None = None,
    require_collection: bool = True,
) -> ReadScope:
    """Everything the reader can read, narrowed to a collection and/or to documents (ids they
    cannot read are left out). A collection they cannot see is a 404, or with
    ``require_collection=False`` (a chat's stored scope, after a revocation) reads nothing."""
    if collection_id is not None:
        role = await collection_role(session, reader_id=reader_id, collection_id=collection_id)
        if role is None:
            if require_collection:
                raise NotFound(COLLECTION_NOT_FOUND)
            return ReadScope(reader_id=reader_id, owners=())
    if document_ids is None:
        return await _collections_scope(session, reader_id=reader_id, collection_id=collection_id)
    wanted = list(document_ids)
    shared = select(CollectionDocument.owner_id, CollectionDocument.document_id).distinct()
    if collection_id is not None:
        # Every document of a collection the reader can see is readable.
        shared = shared.where(CollectionDocument.collection_id == collection_id)
    else:
        collections = collection_ranks(reader_id)
        shared = shared.join(
            collections, collections.c.collection_id == CollectionDocument.collection_id
        ).where(CollectionDocument.owner_id != reader_id)
    shared = shared.where(CollectionDocument.document_id.in_(wanted))
    by_owner: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for owner_id, document_id in (await session.execute(shared)).all():
        by_owner[owner_id].add(document_id)
    owners = [
        OwnerDocuments(owner_id=owner_id, document_ids=tuple(sorted(ids)))
        for owner_id, ids in sorted(by_owner.items())
        if owner_id != reader_id
    ]
    own: tuple[uuid.UUID, ...]  # the reader's own readable documents among the wanted
    if collection_id is not None:
        own = tuple(sorted(by_owner.get(reader_id, ())))
    else:
        rows = await session.execute(
            select(_documents.c.id).where(
                _documents.c.user_id == reader_id, _documents.c.id.in_(wanted)
            )
        )
        own = tuple(sorted(rows.scalars()))
    if own:
        owners.insert(0, OwnerDocuments(owner_id=reader_id, document_ids=own))
    return ReadScope(reader_id=reader_id, owners=tuple(owners))


@functools.cache
def _collection_owner_pairs(*, one_collection: bool) -> Select[uuid.UUID, uuid.UUID]:
    """(collection_id, owner_id) of the documents of :collection_id, or of every collection
    :reader_id can see (other owners' documents only). Built once: every search asks, and
    composing the statement cost more than running it."""
    pairs = select(CollectionDocument.collection_id, CollectionDocument.owner_id).distinct()
    if one_collection:
        return pairs.where(
            CollectionDocument.collection_id == bindparam("collection_id", type_=Uuid)
        )
    reader = bindparam("reader_id", type_=Uuid)
    collections = collection_ranks(reader)
    return pairs.join(
        collections, collections.c.collection_id == CollectionDocument.collection_id
    ).where(CollectionDocument.owner_id != reader)


async def _collections_scope(
    session: AsyncSession, *, reader_id: uuid.UUID, collection_id: uuid.UUID | None
) -> ReadScope:
    """A collection's documents (``collection_id``, which the reader can see), or the
    reader's own documents and those of every collection they can see: as the collections
    and the owners whose documents are in them (one row per pair; the documents stay in
    SQL)."""
    if collection_id is not None:
        rows = (
            await session.execute(
                _collection_owner_pairs(one_collection=True), {"collection_id": collection_id}
            )
        ).all()
    else:
        rows = (
            await session.execute(
                _collection_owner_pairs(one_collection=False), {"reader_id": reader_id}
            )
        ).all()
    whole = () if collection_id is not None else (OwnerDocuments(reader_id, None),)
    return ReadScope(
        reader_id=reader_id,
        owners=whole,
        collection_ids=tuple(sorted({row.collection_id for row in rows})),
        collection_owner_ids=tuple(sorted({row.owner_id for row in rows})),
    )

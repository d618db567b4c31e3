"""The sharing domain's ORM queries: collections, their documents and members, groups.

What a reader may see comes from `app.sharing.access`; these queries join it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.sharing import access
from app.sharing.models import (
    Collection,
    CollectionDocument,
    CollectionMember,
    Group,
    GroupMember,
    Role,
    documents_table,
)


@dataclass(frozen=True)
class CollectionView:
    collection: Collection
    owner: User
    role: Role
    document_count: int


@dataclass(frozen=True)
class MemberView:
    member: CollectionMember
    user: User | None
    group: Group | None


@dataclass(frozen=True)
class GroupView:
    group: Group
    owner: User
    is_owner: bool
    member_count: int


# --------------------------------------------------------------------------- collections


async def collection_views(
    session: AsyncSession,
    *,
    reader_id: uuid.UUID,
    collection_id: uuid.UUID | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[CollectionView]:
    """The collections the reader can see (or the one of ``collection_id``), by name."""
    ranks = access.collection_ranks(reader_id)
    document_count = (
        select(func.count())
        .where(CollectionDocument.collection_id == Collection.id)
        .scalar_subquery()
    )
    statement = (
        select(Collection, User, ranks.c.rank, document_count.label("document_count"))
        .join(ranks, ranks.c.collection_id == Collection.id)
        .join(User, User.id == Collection.owner_id)
        .order_by(func.lower(Collection.name), Collection.id)
        .offset(offset)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if collection_id is not None:
        statement = statement.where(Collection.id == collection_id)
    rows = (await session.execute(statement)).all()
    return [
        CollectionView(row[0], row[1], access.role_of_rank(row[2]), int(row[3])) for row in rows
    ]


async def add_collection_documents(
    session: AsyncSession,
    *,
    collection_id: uuid.UUID,
    document_ids: Sequence[uuid.UUID],
    added_by: uuid.UUID,
) -> None:
    documents = documents_table
    await session.execute(
        pg_insert(CollectionDocument)
        .from_select(
            ["collection_id", "document_id", "owner_id", "added_by"],
            select(
                literal(collection_id, UUID(as_uuid=True)),
                documents.c.id,
                documents.c.user_id,
                literal(added_by, UUID(as_uuid=True)),
            ).where(documents.c.id.in_(list(document_ids))),
        )
        .on_conflict_do_nothing(index_elements=["collection_id", "document_id"])
    )
    await touch_collection(session, collection_id=collection_id)


async def remove_collection_documents(
    session: AsyncSession, *, collection_id: uuid.UUID, document_ids: Sequence[uuid.UUID]
) -> None:
    await session.execute(
        delete(CollectionDocument).where(
            CollectionDocument.collection_id == collection_id,
            CollectionDocument.document_id.in_(list(document_ids)),
        )
    )
    await touch_collection(session, collection_id=collection_id)


async def touch_collection(session: AsyncSession, *, collection_id: uuid.UUID) -> None:
    await session.execute(
        update(Collection).where(Collection.id == collection_id).values(updated_at=func.now())
    )


# --------------------------------------------------------------------------- members


async def member_views(
    session: AsyncSession, *, collection_id: uuid.UUID, member_id: uuid.UUID | None = None
) -> list[MemberView]:
    statement = (
        select(CollectionMember, User, Group)
        .outerjoin(User, User.id == CollectionMember.user_id)
        .outerjoin(Group, Group.id == CollectionMember.group_id)
        .where(CollectionMember.collection_id == collection_id)
        .order_by(CollectionMember.created_at, CollectionMember.id)
        .execution_options(populate_existing=True)
    )
    if member_id is not None:
        statement = statement.where(CollectionMember.id == member_id)
    return [MemberView(*row) for row in (await session.execute(statement)).all()]


async def upsert_member(
    session: AsyncSession,
    *,
    collection_id: uuid.UUID,
    role: str,
    user_id: uuid.UUID | None = None,
    group_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Share with a person or a group (a share that exists gets the new role); its id."""
    grantee = "user_id" if user_id is not None else "group_id"
    inserted = await session.execute(
        pg_insert(CollectionMember)
        .values(
            id=uuid.uuid4(),
            collection_id=collection_id,
            user_id=user_id,
            group_id=group_id,
            role=role,
        )
        .on_conflict_do_update(index_elements=["collection_id", grantee], set_={"role": role})
        .returning(CollectionMember.id)
    )
    return inserted.scalar_one()


async def delete_member(session: AsyncSession, *, member_id: uuid.UUID) -> None:
    await session.execute(delete(CollectionMember).where(CollectionMember.id == member_id))


async def delete_user_member(
    session: AsyncSession, *, collection_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    await session.execute(
        delete(CollectionMember).where(
            CollectionMember.collection_id == collection_id, CollectionMember.user_id == user_id
        )
    )


# --------------------------------------------------------------------------- groups


async def group_views(
    session: AsyncSession,
    *,
    reader_id: uuid.UUID,
    group_id: uuid.UUID | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[GroupView]:
    """The groups the reader owns or is a member of (or the one of ``group_id``), by name."""
    member_count = select(func.count()).where(GroupMember.group_id == Group.id).scalar_subquery()
    is_member = (
        select(GroupMember.user_id)
        .where(GroupMember.group_id == Group.id, GroupMember.user_id == reader_id)
        .exists()
    )
    statement = (
        select(Group, User, member_count.label("member_count"))
        .join(User, User.id == Group.owner_id)
        .where(or_(Group.owner_id == reader_id, is_member))
        .order_by(func.lower(Group.name), Group.id)
        .offset(offset)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if group_id is not None:
        statement = statement.where(Group.id == group_id)
    rows = (await session.execute(statement)).all()
    return [GroupView(row[0], row[1], row[0].owner_id == reader_id, int(row[2])) for row in rows]


async def group_members(
    session: AsyncSession, *, group_id: uuid.UUID, limit: int, offset: int
) -> Sequence[User]:
    return (
        (
            await session.execute(
                select(User)
                .join(GroupMember, GroupMember.user_id == User.id)
                .where(GroupMember.group_id == group_id)
                .order_by(func.lower(User.email), User.id)
                .limit(limit)
                .offset(offset)
            )
        )
        .scalars()
        .all()
    )


async def add_group_member(
    session: AsyncSession, *, group_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    await session.execute(
        pg_insert(GroupMember)
        .values(group_id=group_id, user_id=user_id)
        .on_conflict_do_nothing(index_elements=["group_id", "user_id"])
    )


async def set_directory_memberships(
    session: AsyncSession, *, user_id: uuid.UUID, names: Sequence[str]
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Make the user a member of exactly those groups owned by an administrator whose names
    are in ``names``; (the groups joined, the groups left)."""
    directory = (
        select(Group.id, Group.name)
        .join(User, User.id == Group.owner_id)
        .where(User.role == "admin")
        .subquery()
    )
    wanted = select(directory.c.id).where(directory.c.name.in_(list(names)))
    joined = await session.execute(
        pg_insert(GroupMember)
        .from_select(["group_id", "user_id"], wanted.add_columns(literal(user_id, UUID())))
        .on_conflict_do_nothing(index_elements=["group_id", "user_id"])
        .returning(GroupMember.group_id)
    )
    left = await session.execute(
        delete(GroupMember)
        .where(
            GroupMember.user_id == user_id,
            GroupMember.group_id.in_(select(directory.c.id)),
            GroupMember.group_id.not_in(wanted),
        )
        .returning(GroupMember.group_id)
    )
    return list(joined.scalars()), list(left.scalars())


async def remove_group_member(
    session: AsyncSession, *, group_id: uuid.UUID, user_id: uuid.UUID
) -> bool:
    """False when the user was not a member."""
    removed = await session.execute(
        delete(GroupMember)
        .where(GroupMember.group_id == group_id, GroupMember.user_id == user_id)
        .returning(GroupMember.user_id)
    )
    return removed.first() is not None


async def collection_id_by_name(
    session: AsyncSession, *, reader_id: uuid.UUID, name: str
) -> uuid.UUID | None:
    """A collection the reader can see with this name (case-insensitive; the oldest one if
    several have it)."""
    ranks = access.collection_ranks(reader_id)
    result = await session.execute(
        select(Collection.id)
        .join(ranks, ranks.c.collection_id == Collection.id)
        .where(func.lower(Collection.name) == name.lower())
        .order_by(Collection.created_at, Collection.id)
        .limit(1)
    )
    return result.scalar_one_or_none()

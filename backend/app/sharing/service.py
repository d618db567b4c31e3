"""Collections, shares and groups: what each caller may change, and the changes.

Every check goes through `app.sharing.access` (404 for what the caller cannot see, 403 for
what they see but may not change).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import User
from app.auth.service import get_user_by_email
from app.core.errors import Forbidden, NotFound, Unprocessable
from app.sharing import access, repository
from app.sharing.models import Collection, Group, GroupMember, Role
from app.sharing.repository import CollectionView, GroupView, MemberView

NO_ACCOUNT = "No account uses this email address."
MEMBER_NOT_FOUND = "This collection has no such member."
NOT_A_GROUP_MEMBER = "This person is not a member of the group."
OWNER_IS_NOT_A_MEMBER = "The owner already has every right on the collection."
BLANK_NAME = "The name must not be blank."
ONLY_THE_OWNER_OR_THEMSELF = "Only the owner, or the member themself, can remove a member."
ONLY_THE_OWNER_OR_THE_MEMBER = "Only the group's owner removes others; members can leave."


def _name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise Unprocessable(BLANK_NAME)
    return cleaned


async def _account(session: AsyncSession, *, email: str) -> User:
    user = await get_user_by_email(session, email=email)
    if user is None:
        raise NotFound(NO_ACCOUNT)
    return user


# --------------------------------------------------------------------------- collections


async def list_collections(
    session: AsyncSession, *, reader_id: uuid.UUID, limit: int, offset: int
) -> list[CollectionView]:
    return await repository.collection_views(
        session, reader_id=reader_id, limit=limit, offset=offset
    )


async def get_collection(
    session: AsyncSession, *, reader_id: uuid.UUID, collection_id: uuid.UUID
) -> CollectionView:
    views = await repository.collection_views(
        session, reader_id=reader_id, collection_id=collection_id
    )
    if not views:
        raise NotFound(access.COLLECTION_NOT_FOUND)
    return views[0]


async def create_collection(
    session: AsyncSession, *, owner_id: uuid.UUID, name: str, description: str
) -> CollectionView:
    collection = Collection(owner_id=owner_id, name=_name(name), description=description.strip())
    session.add(collection)
    await session.flush()
    return await get_collection(session, reader_id=owner_id, collection_id=collection.id)


async def update_collection(
    session: AsyncSession,
    *,
    reader_id: uuid.UUID,
    collection_id: uuid.UUID,
    name: str | None = None,
    description: str | None = None,
    owner_email: str | None = None,
) -> CollectionView:
    """The owner renames, describes, or transfers the collection to ``owner_email`` (and
    stays on as an editor)."""
    await access.require_collection(
        session, reader_id=reader_id, collection_id=collection_id, at_least=Role.OWNER
    )
    collection = await session.get_one(Collection, collection_id)
    if name is not None:
        collection.name = _name(name)
    if description is not None:
        collection.description = description.strip()
    if owner_email is not None:
        new_owner = await _account(session, email=owner_email)
        if new_owner.id != collection.owner_id:
            previous = collection.owner_id
            await repository.delete_user_member(
                session, collection_id=collection_id, user_id=new_owner.id
            )
            collection.owner_id = new_owner.id
            await session.flush()
            await repository.upsert_member(
                session, collection_id=collection_id, user_id=previous, role=Role.EDITOR.value
            )
            await audit.record(
                session,
                action=audit.COLLECTION_TRANSFER,
                actor_id=reader_id,
                target_type="collection",
                target_id=str(collection_id),
                details={"from": str(previous), "to": str(new_owner.id)},
            )
    await session.flush()
    await repository.touch_collection(session, collection_id=collection_id)
    return await get_collection(session, reader_id=reader_id, collection_id=collection_id)


async def delete_collection(
    session: AsyncSession, *, reader_id: uuid.UUID, collection_id: uuid.UUID
) -> None:
    """The collection and its shares go; its documents stay with their owners."""
    await access.require_collection(
        session, reader_id=reader_id, collection_id=collection_id, at_least=Role.OWNER
    )
    await session.execute(delete(Collection).where(Collection.id == collection_id))
    await audit.record(
        session,
        action=audit.COLLECTION_DELETE,
        actor_id=reader_id,
        target_type="collection",
        target_id=str(collection_id),
    )


async def add_documents(
    session: AsyncSession,
    *,
    reader_id: uuid.UUID,
    collection_id: uuid.UUID,
    document_ids: Sequence[uuid.UUID],
) -> None:
    """Editors add documents they can read (404 naming none of the others)."""
    await access.require_collection(
        session, reader_id=reader_id, collection_id=collection_id, at_least=Role.EDITOR
    )
    readable = await access.document_roles(session, reader_id=reader_id, document_ids=document_ids)
    if set(document_ids) - set(readable):
        raise NotFound(access.DOCUMENT_NOT_FOUND)
    await repository.add_collection_documents(
        session, collection_id=collection_id, document_ids=document_ids, added_by=reader_id
    )


async def remove_documents(
    session: AsyncSession,
    *,
    reader_id: uuid.UUID,
    collection_id: uuid.UUID,
    document_ids: Sequence[uuid.UUID],
) -> None:
    await access.require_collection(
        session, reader_id=reader_id, collection_id=collection_id, at_least=Role.EDITOR
    )
    await repository.remove_collection_documents(
        session, collection_id=collection_id, document_ids=document_ids
    )


# --------------------------------------------------------------------------- members


async def list_members(
    session: AsyncSession, *, reader_id: uuid.UUID, collection_id: uuid.UUID
) -> list[MemberView]:
    await access.require_collection(
        session, reader_id=reader_id, collection_id=collection_id, at_least=Role.VIEWER
    )
    return await repository.member_views(session, collection_id=collection_id)


async def share(
    session: AsyncSession,
    *,
    reader_id: uuid.UUID,
    collection_id: uuid.UUID,
    role: str,
    email: str | None = None,
    group_id: uuid.UUID | None = None,
) -> MemberView:
    """Share the collection with a person (by email) or a group the owner can see; sharing
    again changes the role."""
    await access.require_collection(
        session, reader_id=reader_id, collection_id=collection_id, at_least=Role.OWNER
    )
    user_id: uuid.UUID | None = None
    if email is not None:
        user = await _account(session, email=email)
        collection = await session.get_one(Collection, collection_id)
        if user.id == collection.owner_id:
            raise Unprocessable(OWNER_IS_NOT_A_MEMBER)
        user_id = user.id
    else:
        assert group_id is not None  # MemberIn allows exactly one
        await access.require_group(
            session, reader_id=reader_id, group_id=group_id, at_least=Role.VIEWER
        )
    member_id = await repository.upsert_member(
        session, collection_id=collection_id, role=role, user_id=user_id, group_id=group_id
    )
    [view] = await repository.member_views(
        session, collection_id=collection_id, member_id=member_id
    )
    await audit.record(
        session,
        action=audit.COLLECTION_SHARE,
        actor_id=reader_id,
        target_type="collection",
        target_id=str(collection_id),
        details={
            "user_id": str(user_id) if user_id else None,
            "group_id": str(group_id) if group_id else None,
            "role": role,
        },
    )
    return view


async def unshare(
    session: AsyncSession, *, reader_id: uuid.UUID, collection_id: uuid.UUID, member_id: uuid.UUID
) -> None:
    """The owner removes any share; a person may remove their own."""
    role = await access.require_collection(
        session, reader_id=reader_id, collection_id=collection_id, at_least=Role.VIEWER
    )
    views = await repository.member_views(session, collection_id=collection_id, member_id=member_id)
    if not views:
        raise NotFound(MEMBER_NOT_FOUND)
    if role is not Role.OWNER and views[0].member.user_id != reader_id:
        raise Forbidden(ONLY_THE_OWNER_OR_THEMSELF)
    await repository.delete_member(session, member_id=member_id)
    member = views[0].member
    await audit.record(
        session,
        action=audit.COLLECTION_UNSHARE,
        actor_id=reader_id,
        target_type="collection",
        target_id=str(collection_id),
        details={
            "user_id": str(member.user_id) if member.user_id else None,
            "group_id": str(member.group_id) if member.group_id else None,
        },
    )


# --------------------------------------------------------------------------- groups


async def list_groups(
    session: AsyncSession, *, reader_id: uuid.UUID, limit: int, offset: int
) -> list[GroupView]:
    return await repository.group_views(session, reader_id=reader_id, limit=limit, offset=offset)


async def get_group(
    session: AsyncSession, *, reader_id: uuid.UUID, group_id: uuid.UUID
) -> GroupView:
    views = await repository.group_views(session, reader_id=reader_id, group_id=group_id)
    if not views:
        raise NotFound(access.GROUP_NOT_FOUND)
    return views[0]


async def create_group(session: AsyncSession, *, owner_id: uuid.UUID, name: str) -> GroupView:
    """The owner is its first member (they may leave and still manage it)."""
    group = Group(owner_id=owner_id, name=_name(name))
    session.add(group)
    await session.flush()
    session.add(GroupMember(group_id=group.id, user_id=owner_id))
    await session.flush()
    return await get_group(session, reader_id=owner_id, group_id=group.id)


async def rename_group(
    session: AsyncSession, *, reader_id: uuid.UUID, group_id: uuid.UUID, name: str
) -> GroupView:
    await access.require_group(session, reader_id=reader_id, group_id=group_id, at_least=Role.OWNER)
    group = await session.get_one(Group, group_id)
    group.name = _name(name)
    await session.flush()
    return await get_group(session, reader_id=reader_id, group_id=group_id)


async def delete_group(session: AsyncSession, *, reader_id: uuid.UUID, group_id: uuid.UUID) -> None:
    """The group and every share made with it go at once."""
    await access.require_group(session, reader_id=reader_id, group_id=group_id, at_least=Role.OWNER)
    await session.execute(delete(Group).where(Group.id == group_id))
    await audit.record(
        session,
        action=audit.GROUP_DELETE,
        actor_id=reader_id,
        target_type="group",
        target_id=str(group_id),
    )


async def list_group_members(
    session: AsyncSession, *, reader_id: uuid.UUID, group_id: uuid.UUID, limit: int, offset: int
) -> Sequence[User]:
    await access.require_group(
        session, reader_id=reader_id, group_id=group_id, at_least=Role.VIEWER
    )
    return await repository.group_members(session, group_id=group_id, limit=limit, offset=offset)


async def add_group_member(
    session: AsyncSession, *, reader_id: uuid.UUID, group_id: uuid.UUID, email: str
) -> None:
    await access.require_group(session, reader_id=reader_id, group_id=group_id, at_least=Role.OWNER)
    user = await _account(session, email=email)
    await repository.add_group_member(session, group_id=group_id, user_id=user.id)
    await audit.record(
        session,
        action=audit.GROUP_MEMBER_ADD,
        actor_id=reader_id,
        target_type="group",
        target_id=str(group_id),
        details={"user_id": str(user.id)},
    )


async def remove_group_member(
    session: AsyncSession, *, reader_id: uuid.UUID, group_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """The owner removes anyone; a member may leave."""
    role = await access.require_group(
        session, reader_id=reader_id, group_id=group_id, at_least=Role.VIEWER
    )
    if role is not Role.OWNER and user_id != reader_id:
        raise Forbidden(ONLY_THE_OWNER_OR_THE_MEMBER)
    if not await repository.remove_group_member(session, group_id=group_id, user_id=user_id):
        raise NotFound(NOT_A_GROUP_MEMBER)
    await audit.record(
        session,
        action=audit.GROUP_MEMBER_REMOVE,
        actor_id=reader_id,
        target_type="group",
        target_id=str(group_id),
        details={"user_id": str(user_id)},
    )


async def sync_directory_groups(
    session: AsyncSession, *, user_id: uuid.UUID, names: Sequence[str]
) -> None:
    """Single sign-on's group claim (OIDC_GROUPS_CLAIM): the groups an administrator owns
    mirror it for the person signing in, who joins those it names and leaves the others."""
    joined, left = await repository.set_directory_memberships(session, user_id=user_id, names=names)
    for action, group_ids in ((audit.GROUP_MEMBER_ADD, joined), (audit.GROUP_MEMBER_REMOVE, left)):
        for group_id in group_ids:
            await audit.record(
                session,
                action=action,
                actor_id=None,
                target_type="group",
                target_id=str(group_id),
                details={"user_id": str(user_id), "via": "sso"},
            )

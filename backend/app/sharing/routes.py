from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Response, status

from app.auth.deps import CurrentUser
from app.core.db import SessionDep
from app.core.openapi import ERROR_RESPONSE
from app.core.pagination import Page, page_params
from app.core.routing import API_PREFIX, api_router
from app.sharing import service
from app.sharing.repository import CollectionView, GroupView, MemberView
from app.sharing.schemas import (
    CollectionIn,
    CollectionOut,
    CollectionUpdate,
    DocumentIdsIn,
    GroupIn,
    GroupMemberIn,
    GroupOut,
    GroupRefOut,
    MemberIn,
    MemberOut,
    PersonOut,
)

Responses = dict[int | str, dict[str, Any]]
ERRORS: Responses = {
    400: ERROR_RESPONSE,
    401: ERROR_RESPONSE,
    422: ERROR_RESPONSE,
    503: ERROR_RESPONSE,
}
SEEN: Responses = {404: ERROR_RESPONSE}
CHANGED: Responses = {403: ERROR_RESPONSE, 404: ERROR_RESPONSE}

collections_router = api_router(
    prefix=f"{API_PREFIX}/collections", tags=["collections"], responses=ERRORS
)
groups_router = api_router(prefix=f"{API_PREFIX}/groups", tags=["groups"], responses=ERRORS)


def no_content() -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def collection_out(view: CollectionView) -> CollectionOut:
    return CollectionOut(
        id=view.collection.id,
        name=view.collection.name,
        description=view.collection.description,
        owner=PersonOut.model_validate(view.owner),
        my_role=view.role,
        document_count=view.document_count,
        created_at=view.collection.created_at,
        updated_at=view.collection.updated_at,
    )


def member_out(view: MemberView) -> MemberOut:
    return MemberOut(
        id=view.member.id,
        kind="user" if view.user is not None else "group",
        user=None if view.user is None else PersonOut.model_validate(view.user),
        group=None if view.group is None else GroupRefOut(id=view.group.id, name=view.group.name),
        role=view.member.role,
    )


def group_out(view: GroupView) -> GroupOut:
    return GroupOut(
        id=view.group.id,
        name=view.group.name,
        owner=PersonOut.model_validate(view.owner),
        my_role="owner" if view.is_owner else "member",
        member_count=view.member_count,
        created_at=view.group.created_at,
    )


# --------------------------------------------------------------------------- collections


@collections_router.get("", response_model=list[CollectionOut])
async def list_collections(
    user: CurrentUser,
    session: SessionDep,
    page: Annotated[Page, Depends(page_params(default_limit=200))],
) -> list[CollectionOut]:
    """Collections the caller owns or that are shared with them, directly or via a group."""
    views = await service.list_collections(
        session, reader_id=user.id, limit=page.limit, offset=page.offset
    )
    return [collection_out(view) for view in views]


@collections_router.post("", status_code=status.HTTP_201_CREATED, response_model=CollectionOut)
async def create_collection(
    body: CollectionIn, user: CurrentUser, session: SessionDep
) -> CollectionOut:
    view = await service.create_collection(
        session, owner_id=user.id, name=body.name, description=body.description
    )
    return collection_out(view)


@collections_router.get("/{collection_id}", response_model=CollectionOut, responses=SEEN)
async def get_collection(
    collection_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> CollectionOut:
    view = await service.get_collection(session, reader_id=user.id, collection_id=collection_id)
    return collection_out(view)


@collections_router.patch("/{collection_id}", response_model=CollectionOut, responses=CHANGED)
async def update_collection(
    collection_id: uuid.UUID, body: CollectionUpdate, user: CurrentUser, session: SessionDep
) -> CollectionOut:
    """Rename, describe or transfer (``owner_email``) the collection: the owner only."""
    view = await service.update_collection(
        session,
        reader_id=user.id,
        collection_id=collection_id,
        name=body.name,
        description=body.description,
        owner_email=body.owner_email,
    )
    return collection_out(view)


@collections_router.delete(
    "/{collection_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGED
)
async def delete_collection(
    collection_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Response:
    """The owner deletes the collection; its documents stay with their owners."""
    await service.delete_collection(session, reader_id=user.id, collection_id=collection_id)
    return no_content()


@collections_router.post(
    "/{collection_id}/documents", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGED
)
async def add_collection_documents(
    collection_id: uuid.UUID, body: DocumentIdsIn, user: CurrentUser, session: SessionDep
) -> Response:
    """Editors and the owner add documents they can read."""
    await service.add_documents(
        session, reader_id=user.id, collection_id=collection_id, document_ids=body.document_ids
    )
    return no_content()


@collections_router.delete(
    "/{collection_id}/documents", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGED
)
async def remove_collection_documents(
    collection_id: uuid.UUID, body: DocumentIdsIn, user: CurrentUser, session: SessionDep
) -> Response:
    """Editors and the owner remove documents (the documents themselves stay)."""
    await service.remove_documents(
        session, reader_id=user.id, collection_id=collection_id, document_ids=body.document_ids
    )
    return no_content()


@collections_router.get("/{collection_id}/members", response_model=list[MemberOut], responses=SEEN)
async def list_collection_members(
    collection_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> list[MemberOut]:
    """Who the collection is shared with (anyone who can read it sees this)."""
    views = await service.list_members(session, reader_id=user.id, collection_id=collection_id)
    return [member_out(view) for view in views]


@collections_router.put("/{collection_id}/members", response_model=MemberOut, responses=CHANGED)
async def share_collection(
    collection_id: uuid.UUID, body: MemberIn, user: CurrentUser, session: SessionDep
) -> MemberOut:
    """The owner shares with a person (``email``) or a group (``group_id``), or changes the
    role of an existing share."""
    view = await service.share(
        session,
        reader_id=user.id,
        collection_id=collection_id,
        role=body.role,
        email=body.email,
        group_id=body.group_id,
    )
    return member_out(view)


@collections_router.delete(
    "/{collection_id}/members/{member_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=CHANGED,
)
async def unshare_collection(
    collection_id: uuid.UUID, member_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Response:
    """The owner removes a share; a person may remove their own (leave the collection)."""
    await service.unshare(
        session, reader_id=user.id, collection_id=collection_id, member_id=member_id
    )
    return no_content()


# --------------------------------------------------------------------------- groups


@groups_router.get("", response_model=list[GroupOut])
async def list_groups(
    user: CurrentUser,
    session: SessionDep,
    page: Annotated[Page, Depends(page_params(default_limit=200))],
) -> list[GroupOut]:
    """Groups the caller owns or is a member of."""
    views = await service.list_groups(
        session, reader_id=user.id, limit=page.limit, offset=page.offset
    )
    return [group_out(view) for view in views]


@groups_router.post("", status_code=status.HTTP_201_CREATED, response_model=GroupOut)
async def create_group(body: GroupIn, user: CurrentUser, session: SessionDep) -> GroupOut:
    """A new group, with its owner as first member."""
    return group_out(await service.create_group(session, owner_id=user.id, name=body.name))


@groups_router.patch("/{group_id}", response_model=GroupOut, responses=CHANGED)
async def rename_group(
    group_id: uuid.UUID, body: GroupIn, user: CurrentUser, session: SessionDep
) -> GroupOut:
    view = await service.rename_group(session, reader_id=user.id, group_id=group_id, name=body.name)
    return group_out(view)


@groups_router.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGED)
async def delete_group(group_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    """The owner deletes the group: every collection shared with it stops being shared."""
    await service.delete_group(session, reader_id=user.id, group_id=group_id)
    return no_content()


@groups_router.get("/{group_id}/members", response_model=list[PersonOut], responses=SEEN)
async def list_group_members(
    group_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    page: Annotated[Page, Depends(page_params(default_limit=200))],
) -> list[PersonOut]:
    members = await service.list_group_members(
        session, reader_id=user.id, group_id=group_id, limit=page.limit, offset=page.offset
    )
    return [PersonOut.model_validate(member) for member in members]


@groups_router.put("/{group_id}/members", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGED)
async def add_group_member(
    group_id: uuid.UUID, body: GroupMemberIn, user: CurrentUser, session: SessionDep
) -> Response:
    """The owner adds an account by email."""
    await service.add_group_member(session, reader_id=user.id, group_id=group_id, email=body.email)
    return no_content()


@groups_router.delete(
    "/{group_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGED
)
async def remove_group_member(
    group_id: uuid.UUID, user_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Response:
    """The owner removes a member; a member removes themself (leaves the group)."""
    await service.remove_group_member(
        session, reader_id=user.id, group_id=group_id, user_id=user_id
    )
    return no_content()

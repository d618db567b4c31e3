from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response, status

from app.apikeys import service
from app.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from app.auth.deps import SignedInUser
from app.core.db import SessionDep
from app.core.openapi import ERROR_RESPONSE
from app.core.pagination import Page, page_params
from app.core.routing import API_PREFIX, api_router

router = api_router(
    prefix=f"{API_PREFIX}/api-keys",
    tags=["api-keys"],
    responses={
        400: ERROR_RESPONSE,
        401: ERROR_RESPONSE,
        403: ERROR_RESPONSE,
        422: ERROR_RESPONSE,
        503: ERROR_RESPONSE,
    },
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(
    body: ApiKeyCreate, user: SignedInUser, session: SessionDep
) -> ApiKeyCreated:
    created = await service.create_api_key(
        session, user_id=user.id, name=body.name, scopes=body.scopes, expires_at=body.expires_at
    )
    api_key = created.api_key
    return ApiKeyCreated(
        id=api_key.id,
        name=api_key.name,
        key=created.key,
        prefix=api_key.prefix,
        scopes=api_key.scopes,
        expires_at=api_key.expires_at,
        created_at=api_key.created_at,
    )


@router.get("", response_model=list[ApiKeyOut])
async def list_api_keys(
    user: SignedInUser,
    session: SessionDep,
    page: Annotated[Page, Depends(page_params(default_limit=100))],
) -> list[ApiKeyOut]:
    keys = await service.list_api_keys(
        session, user_id=user.id, limit=page.limit, offset=page.offset
    )
    return [ApiKeyOut.model_validate(k) for k in keys]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: ERROR_RESPONSE})
async def revoke_api_key(key_id: uuid.UUID, user: SignedInUser, session: SessionDep) -> Response:
    await service.revoke_api_key(session, user_id=user.id, key_id=key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

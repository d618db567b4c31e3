from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import (
    BackgroundTasks,
    Depends,
    File,
    Form,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from fastapi.responses import StreamingResponse

from app.auth.deps import CurrentUser, WritingUser, per_user_limit
from app.core.db import SessionDep
from app.core.errors import Unprocessable
from app.core.openapi import ERROR_RESPONSE
from app.core.pagination import Page, page_params
from app.core.routing import API_PREFIX, api_router
from app.core.settings import SettingsDep
from app.documents import service
from app.documents.detect import DocumentKind
from app.documents.models import DocumentStatus
from app.documents.quotas import quota_of
from app.documents.repository import LibraryFilter, LibrarySort, ReadableDocument
from app.documents.schemas import (
    ChunkLocationOut,
    DocumentOut,
    PageOut,
    SpanOut,
    StatusCountsOut,
    UrlImportIn,
    WordBoxOut,
)
from app.documents.storage import Originals
from app.search.highlights import cite
from app.search.schemas import HighlightOut

ERRORS = {400: ERROR_RESPONSE, 401: ERROR_RESPONSE, 422: ERROR_RESPONSE, 503: ERROR_RESPONSE}
router = api_router(prefix=f"{API_PREFIX}/documents", tags=["documents"], responses=ERRORS)
# A collection's documents are a listing of documents: this package owns their shape.
collection_documents_router = api_router(
    prefix=f"{API_PREFIX}/collections", tags=["collections"], responses=ERRORS
)

MAX_FILES_PER_REQUEST = 20
NEXT_CURSOR_HEADER = "X-Next-Cursor"


def get_originals(request: Request) -> Originals:
    originals: Originals = request.app.state.originals
    return originals


OriginalsDep = Annotated[Originals, Depends(get_originals)]


def document_out(readable: ReadableDocument) -> DocumentOut:
    return DocumentOut.of(readable.document, owner=readable.owner, my_role=readable.role)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=list[DocumentOut],
    responses={
        403: ERROR_RESPONSE,
        404: ERROR_RESPONSE,
        413: ERROR_RESPONSE,
        415: ERROR_RESPONSE,
        429: ERROR_RESPONSE,
    },
    dependencies=[per_user_limit("upload", lambda settings: settings.upload_rate_limit)],
)
async def upload_documents(
    user: WritingUser,
    session: SessionDep,
    settings: SettingsDep,
    originals: OriginalsDep,
    files: Annotated[list[UploadFile], File(description="One or more documents")],
    collection_id: Annotated[
        uuid.UUID | None,
        Form(description="Also add the documents to this collection (its editors and owner)"),
    ] = None,
    folder: Annotated[
        str | None,
        Form(
            description="The folder these files were picked from, relative to the folder the "
            "user chose ('reports/2024'); shown and filtered on in the library",
            max_length=2000,
        ),
    ] = None,
) -> list[DocumentOut]:
    if len(files) > MAX_FILES_PER_REQUEST:
        raise Unprocessable(f"Upload at most {MAX_FILES_PER_REQUEST} files at once.")
    uploads = [
        service.Upload(filename=f.filename or "", data=await f.read(), folder=folder) for f in files
    ]
    documents = await service.create_documents(
        session,
        user_id=user.id,
        uploads=uploads,
        originals=originals,
        collection_id=collection_id,
        quota=quota_of(user, settings),
    )
    described = await service.describe(session, user_id=user.id, documents=documents)
    return [document_out(readable) for readable in described]


@router.post(
    "/url",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DocumentOut,
    responses={403: ERROR_RESPONSE, 413: ERROR_RESPONSE, 415: ERROR_RESPONSE, 429: ERROR_RESPONSE},
    dependencies=[per_user_limit("url_import", lambda settings: settings.url_import_rate_limit)],
)
async def import_document_from_url(
    body: UrlImportIn,
    user: WritingUser,
    session: SessionDep,
    settings: SettingsDep,
    originals: OriginalsDep,
) -> DocumentOut:
    """Fetch a web page or PDF (its main content is indexed; the fetched original is kept)."""
    document = await service.import_url(
        session,
        user_id=user.id,
        url=body.url,
        limits=service.fetch_limits(settings),
        originals=originals,
        quota=quota_of(user, settings),
    )
    [described] = await service.describe(session, user_id=user.id, documents=[document])
    return document_out(described)


def _choices(raw: str | None, allowed: type[StrEnum], name: str) -> tuple[str, ...]:
    """A comma-separated query parameter of ``allowed`` values (a parameter is given once)."""
    if raw is None:
        return ()
    values = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    known = {choice.value for choice in allowed}
    unknown = [value for value in values if value not in known]
    if unknown:
        raise Unprocessable(
            f"{name}: {', '.join(unknown)} is not one of {', '.join(sorted(known))}."
        )
    return values


def library_filter(
    status: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Only documents in these states, comma-separated (queued,processing,"
            "ready,failed)",
            examples=["failed,queued"],
        ),
    ] = None,
    kind: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Only documents of these formats, comma-separated (pdf,docx,html,"
            "markdown,text,xlsx,xls,csv,pptx,epub,webpage,image)",
            examples=["pdf,docx"],
        ),
    ] = None,
    collection_id: Annotated[
        uuid.UUID | None, Query(description="Only this collection's documents")
    ] = None,
    owned: Annotated[bool, Query(description="Only the documents you uploaded")] = False,
    created_from: Annotated[
        datetime | None, Query(description="Added at or after this time (ISO 8601)")
    ] = None,
    created_to: Annotated[
        datetime | None, Query(description="Added before this time (ISO 8601)")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Filename or folder contains these characters (any case)",
        ),
    ] = None,
    folder: Annotated[
        str | None,
        Query(max_length=2000, description="Only this folder and its subfolders ('reports')"),
    ] = None,
) -> LibraryFilter:
    """The library list's filters as query parameters (the list and its counts)."""
    return LibraryFilter(
        statuses=_choices(status, DocumentStatus, "status"),
        kinds=_choices(kind, DocumentKind, "kind"),
        collection_id=collection_id,
        owned=owned,
        created_from=created_from,
        created_to=created_to,
        query=(q.strip() or None) if q is not None else None,
        folder=service.normalize_folder(folder),
    )


LibraryFilterDep = Annotated[LibraryFilter, Depends(library_filter)]


@router.get(
    "",
    response_model=list[DocumentOut],
    responses={
        200: {
            "headers": {
                NEXT_CURSOR_HEADER: {
                    "description": "Pass it as `cursor` for the next page; absent on the last",
                    "schema": {"type": "string"},
                }
            }
        },
        404: ERROR_RESPONSE,
    },
)
async def list_documents(
    user: CurrentUser,
    session: SessionDep,
    response: Response,
    page: Annotated[Page, Depends(page_params(default_limit=200))],
    wanted: LibraryFilterDep,
    sort: Annotated[LibrarySort, Query(description="What to sort by")] = LibrarySort.DATE,
    order: Annotated[Literal["asc", "desc"], Query(description="Sort direction")] = "desc",
    cursor: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="Keyset pagination: the previous page's `X-Next-Cursor` header "
            "(with the same sort and order); use it rather than `offset` deep in a library",
        ),
    ] = None,
) -> list[DocumentOut]:
    """Every document you can read (yours and those of collections shared with you) that
    matches the filters, one page at a time. Totals are at `GET /documents/counts`."""
    found = await service.list_library(
        session,
        user_id=user.id,
        wanted=wanted,
        sort=sort,
        descending=order == "desc",
        limit=page.limit,
        offset=page.offset,
        cursor=cursor,
    )
    if found.next_cursor is not None:
        response.headers[NEXT_CURSOR_HEADER] = found.next_cursor
    return [document_out(readable) for readable in found.documents]


@router.get("/counts", response_model=StatusCountsOut, responses={404: ERROR_RESPONSE})
async def count_documents(
    user: CurrentUser, session: SessionDep, wanted: LibraryFilterDep
) -> StatusCountsOut:
    """How many documents match the same filters as the list, by status."""
    counts = await service.count_library(session, user_id=user.id, wanted=wanted)
    statuses = wanted.statuses or tuple(status.value for status in DocumentStatus)
    by_status = {status.value: counts.get(status.value, 0) for status in DocumentStatus}
    return StatusCountsOut(total=sum(by_status[status] for status in statuses), **by_status)


@collection_documents_router.get(
    "/{collection_id}/documents", response_model=list[DocumentOut], responses={404: ERROR_RESPONSE}
)
async def list_collection_documents(
    collection_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    page: Annotated[Page, Depends(page_params(default_limit=200))],
) -> list[DocumentOut]:
    """The documents of a collection you can see (the same as ``GET /documents?collection_id=``)."""
    found = await service.list_library(
        session,
        user_id=user.id,
        wanted=LibraryFilter(collection_id=collection_id),
        limit=page.limit,
        offset=page.offset,
    )
    return [document_out(readable) for readable in found.documents]


@router.get("/{document_id}", response_model=DocumentOut, responses={404: ERROR_RESPONSE})
async def get_document(
    document_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> DocumentOut:
    readable = await service.get_readable(session, user_id=user.id, document_id=document_id)
    return document_out(readable)


@router.get(
    "/{document_id}/file",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The original"},
        404: ERROR_RESPONSE,
        429: ERROR_RESPONSE,
    },
    dependencies=[per_user_limit("download", lambda settings: settings.download_rate_limit)],
)
async def get_document_file(
    document_id: uuid.UUID, user: CurrentUser, session: SessionDep, originals: OriginalsDep
) -> Response:
    document, pieces = await service.get_document_file(
        session, user_id=user.id, document_id=document_id, originals=originals
    )
    headers = {
        "Content-Length": str(document.size_bytes),
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(document.filename)}",
        "Cache-Control": "private, max-age=300",
    }
    if document.content_type != "application/pdf":
        # An uploaded HTML original must never run script when opened from our origin
        # (PDFs are exempt: Chromium's viewer refuses to render in a sandboxed document).
        headers["Content-Security-Policy"] = (
            "sandbox; default-src 'none'; style-src 'unsafe-inline'"
        )
    return StreamingResponse(pieces, media_type=document.content_type, headers=headers)


@router.get(
    "/{document_id}/pages/{number}", response_model=PageOut, responses={404: ERROR_RESPONSE}
)
async def get_document_page(
    document_id: uuid.UUID,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
    user: CurrentUser,
    session: SessionDep,
) -> PageOut:
    document, page, page_count = await service.get_page(
        session, user_id=user.id, document_id=document_id, number=number
    )
    return PageOut(
        document_id=document.id,
        number=page.number,
        page_count=page_count,
        text=page.text,
        furniture=[SpanOut(start=start, end=end) for start, end in page.furniture],
        title=page.title,
        row_numbers=page.row_numbers,
        ocr=page.words is not None,
        words=[
            WordBoxOut(
                start=int(start), end=int(end), left=left, top=top, right=right, bottom=bottom
            )
            for start, end, left, top, right, bottom in page.words or []
        ],
    )


@router.get(
    "/{document_id}/pages/{number}/image",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The page of an image document"},
        404: ERROR_RESPONSE,
        429: ERROR_RESPONSE,
    },
    dependencies=[per_user_limit("download", lambda settings: settings.download_rate_limit)],
)
async def get_document_page_image(
    document_id: uuid.UUID,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
    user: CurrentUser,
    session: SessionDep,
    originals: OriginalsDep,
    settings: SettingsDep,
) -> Response:
    png = await service.get_page_image(
        session,
        user_id=user.id,
        document_id=document_id,
        number=number,
        originals=originals,
        max_pixels=settings.max_image_pixels,
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.get(
    "/{document_id}/chunks/{chunk_id}",
    response_model=ChunkLocationOut,
    responses={404: ERROR_RESPONSE},
)
async def get_chunk_location(
    document_id: uuid.UUID,
    chunk_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    user: CurrentUser,
    session: SessionDep,
) -> ChunkLocationOut:
    chunk = await service.get_chunk(
        session, user_id=user.id, document_id=document_id, chunk_id=chunk_id
    )
    location = cite(chunk, [(0, len(chunk.text))])
    return ChunkLocationOut(
        chunk_id=chunk.id,
        document_id=chunk.document_id,
        page=location.page,
        page_start=chunk.page_start,
        page_end=chunk.page_end,
        sheet=chunk.sheet,
        row_start=chunk.row_start,
        row_end=chunk.row_end,
        highlights=[HighlightOut(**vars(highlight)) for highlight in location.highlights],
    )


@router.delete(
    "/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: ERROR_RESPONSE, 404: ERROR_RESPONSE},
)
async def delete_document(
    document_id: uuid.UUID,
    user: WritingUser,
    session: SessionDep,
    originals: OriginalsDep,
    background: BackgroundTasks,
) -> Response:
    document = await service.delete_document(session, user_id=user.id, document_id=document_id)
    # After the response, i.e. after the commit: a failed delete never loses an original.
    background.add_task(originals.forget, kind=document.original_storage, document_id=document.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{document_id}/reindex",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DocumentOut,
    responses={403: ERROR_RESPONSE, 404: ERROR_RESPONSE},
)
async def reindex_document(
    document_id: uuid.UUID, user: WritingUser, session: SessionDep
) -> DocumentOut:
    """Its owner only."""
    document = await service.request_reindex(session, user_id=user.id, document_id=document_id)
    [described] = await service.describe(session, user_id=user.id, documents=[document])
    return document_out(described)

"""Export of an account's data as a zip, written while it streams.

The archive holds every original (in the pieces its store reads, one piece in memory at a
time) and every chat as JSON and as Markdown (one chat in memory at a time), plus
`account.json`. Each read is a short transaction of its own: nothing holds a connection
while the client downloads."""

from __future__ import annotations

import re
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository as auth_repository
from app.auth.models import User
from app.chat import service as chat_service
from app.chat.export import chat_export, chat_markdown
from app.chat.models import Chat, ChatMessage
from app.core.errors import ServiceUnavailable
from app.documents import service as documents_service
from app.documents.models import Document
from app.documents.original_store import OriginalMissing
from app.documents.storage import Originals

PAGE_SIZE = 100
# Originals are mostly compressed formats already; text compresses well.
_STORED = zipfile.ZIP_STORED
_DEFLATED = zipfile.ZIP_DEFLATED
_UNSAFE_NAME = re.compile(r'[\x00-\x1f/\\:*?"<>|]+')
ZIP64_FROM_BYTES = 2**31

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class _Pipe:
    """A write-only, unseekable file for zipfile: what it writes is taken out piece by piece."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._pieces.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._pieces)
        self._pieces.clear()
        return data


def safe_name(name: str, *, fallback: str) -> str:
    """A file name that stays inside its folder when the archive is unpacked."""
    cleaned = _UNSAFE_NAME.sub("_", name).strip().lstrip(".")[:150]
    return cleaned or fallback


def archive_filename() -> str:
    return f"docchat-export-{datetime.now(UTC):%Y%m%d}.zip"


async def export_archive(
    sessions: SessionFactory, originals: Originals, *, user_id: uuid.UUID
) -> AsyncIterator[bytes]:
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=_DEFLATED) as archive:
        async with sessions() as session:
            user = await auth_repository.user_by_id(session, user_id=user_id)
        if user is None:
            return
        archive.writestr("account.json", _json(_account(user)))
        missing: list[str] = []
        yield pipe.take()
        async for document in _documents(sessions, user_id=user_id):
            info = zipfile.ZipInfo(
                f"documents/{str(document.id)[:8]}-{safe_name(document.filename, fallback='file')}",
                date_time=document.created_at.timetuple()[:6],
            )
            info.compress_type = _STORED
            with archive.open(
                info, mode="w", force_zip64=document.size_bytes >= ZIP64_FROM_BYTES
            ) as member:
                try:
                    store = originals.store(document.original_storage)
                    async for piece in store.read_pieces(document_id=document.id):
                        member.write(piece)
                        yield pipe.take()
                except (OriginalMissing, ServiceUnavailable):
                    # Gone since it was listed, or in a store this server cannot reach: the
                    # archive still completes, and says which ones it could not include.
                    missing.append(info.filename)
            yield pipe.take()
        async for chat, messages in _chats(sessions, user_id=user_id):
            stem = f"chats/{str(chat.id)[:8]}-{safe_name(chat.title, fallback='chat')}"
            export = chat_export(chat, messages, exported_at=datetime.now(UTC))
            archive.writestr(f"{stem}.json", _json(export.model_dump(mode="json")))
            archive.writestr(f"{stem}.md", chat_markdown(export))
            yield pipe.take()
        if missing:
            archive.writestr(
                "missing-originals.txt",
                "These originals could not be read from their store (empty in this archive):\n"
                + "\n".join(missing),
            )
    yield pipe.take()


async def _documents(sessions: SessionFactory, *, user_id: uuid.UUID) -> AsyncIterator[Document]:
    offset = 0
    while True:
        async with sessions() as session:
            page = await documents_service.list_documents(
                session, user_id=user_id, limit=PAGE_SIZE, offset=offset, owned=True
            )
        for readable in page:
            yield readable.document
        if len(page) < PAGE_SIZE:
            return
        offset += PAGE_SIZE


async def _chats(
    sessions: SessionFactory, *, user_id: uuid.UUID
) -> AsyncIterator[tuple[Chat, list[ChatMessage]]]:
    offset = 0
    while True:
        async with sessions() as session:
            page = await chat_service.list_chats(
                session, user_id=user_id, archived=None, limit=PAGE_SIZE, offset=offset
            )
        for chat in page:
            async with sessions() as session:
                messages = await chat_service.all_messages(
                    session, user_id=user_id, chat_id=chat.id
                )
            yield chat, messages
        if len(page) < PAGE_SIZE:
            return
        offset += PAGE_SIZE


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "created_at": user.created_at,
        "exported_at": datetime.now(UTC),
    }

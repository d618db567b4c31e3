"""`docchat ingest PATH... --user EMAIL`: upload files and folders (resumable: files already
there are skipped by content hash), then wait with progress, rate and ETA.
`docchat reindex --all` (or `--user EMAIL`): queue documents for indexing again, likewise."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.service import get_user_by_email
from app.core.db import create_engine, create_sessionmaker
from app.core.errors import AppError
from app.core.settings import Settings
from app.documents import repository, service
from app.documents.models import Document
from app.documents.storage import Originals, open_originals
from app.documents.tasks import WorkerDeps
from app.sharing import access
from app.sharing import service as sharing_service
from app.sharing.models import Role
from app.sharing.repository import collection_id_by_name
from app.worker import running_worker

POLL_S = 0.5
HASH_PIECE_BYTES = 1 << 20
FAILURE_EXAMPLES = 3


@dataclass
class IngestReport:
    queued: int = 0
    ready: int = 0
    failed: int = 0
    rejected: int = 0
    # Files whose bytes the account already has (a resumed or repeated run).
    skipped: int = 0
    # Why files were rejected or failed, with how many and a few of them.
    reasons: dict[str, FailureReason] = field(default_factory=dict)

    def note_failure(self, reason: str, name: str) -> None:
        entry = self.reasons.setdefault(reason, FailureReason())
        entry.count += 1
        if len(entry.examples) < FAILURE_EXAMPLES:
            entry.examples.append(name)


@dataclass
class FailureReason:
    count: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FoundFile:
    path: Path
    # The folder it is in, relative to the folder given ("reports/2024"); None at its top.
    folder: str | None


def _visible(name: str) -> bool:
    return not name.startswith(".")


def iter_files(paths: Iterable[Path]) -> Iterator[FoundFile]:
    """The files of ``paths`` (hidden ones left out), streamed: a folder is walked one
    directory at a time, never listed whole, so 100,000 files take no more memory than 10."""
    for path in paths:
        if path.is_file():
            yield FoundFile(path, None)
            continue
        for directory, subdirectories, filenames in os.walk(path):
            subdirectories[:] = sorted(name for name in subdirectories if _visible(name))
            relative = Path(directory).relative_to(path).as_posix()
            for name in sorted(filter(_visible, filenames)):
                child = Path(directory) / name
                if child.is_file():
                    yield FoundFile(child, None if relative == "." else relative)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while piece := stream.read(HASH_PIECE_BYTES):
            digest.update(piece)
    return digest.hexdigest()


class RateColumn(ProgressColumn):
    """Items per second, once there is a rate."""

    def render(self, task: Task) -> Text:
        return Text("" if task.speed is None else f"{task.speed:.1f}/s")


def progress_columns() -> tuple[ProgressColumn, ...]:
    return (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )


async def _collection_id(
    session: AsyncSession, *, user_id: uuid.UUID, collection: str
) -> uuid.UUID:
    """The collection (an id, or the name of one the user can see) to add the files to."""
    try:
        return uuid.UUID(collection)
    except ValueError:
        pass
    found = await collection_id_by_name(session, reader_id=user_id, name=collection)
    if found is None:
        raise AppError(f"No collection named {collection!r}; create it in the web app first.")
    return found


async def ingest_paths(
    settings: Settings,
    *,
    database_url: str,
    queue_url: str,
    email: str,
    paths: list[Path],
    run_worker: bool,
    console: Console,
    collection: str | None = None,
    wait: bool = True,
) -> IngestReport:
    """Upload every file of ``paths`` (skipping the ones the account already has, by
    content hash: a run that was stopped resumes where it was), then wait until they are
    indexed (unless not ``wait``), with progress, rate and ETA."""
    engine = create_engine(database_url, pool_size=2, max_overflow=2)
    sessionmaker = create_sessionmaker(engine)
    report = IngestReport()
    try:
        async with sessionmaker() as session:
            user = await get_user_by_email(session, email=email)
            if user is None:
                raise AppError(
                    f"No account with email {email}; create it with `docchat create-user`."
                )
            user_id = user.id
            collection_id = None
            if collection is not None:
                collection_id = await _collection_id(
                    session, user_id=user_id, collection=collection
                )
                await access.require_collection(
                    session, reader_id=user_id, collection_id=collection_id, at_least=Role.EDITOR
                )
        target = _Target(user_id=user_id, collection_id=collection_id)
        async with open_originals(settings, sessionmaker) as originals:
            started = await _upload_files(sessionmaker, originals, target, paths, report, console)
            if wait and report.queued:
                await _process(
                    settings,
                    sessionmaker,
                    originals,
                    queue_url,
                    run_worker,
                    _RunDocuments(user_id=user_id, since=started, count=report.queued),
                    report,
                    console,
                )
    finally:
        await engine.dispose()
    return report


@dataclass(frozen=True)
class _Target:
    user_id: uuid.UUID
    collection_id: uuid.UUID | None


@dataclass(frozen=True)
class _RunDocuments:
    """The documents a run created: the user's, created since it started (so the waiting
    never holds 100,000 ids)."""

    user_id: uuid.UUID
    since: datetime
    count: int


async def _upload_files(
    sessionmaker: async_sessionmaker[AsyncSession],
    originals: Originals,
    target: _Target,
    paths: list[Path],
    report: IngestReport,
    console: Console,
) -> datetime:
    """Upload the files one at a time; returns when the first new document could have been
    created (the database's clock)."""
    total = sum(1 for _ in iter_files(paths))
    async with sessionmaker() as session:
        started = await repository.database_now(session)
    with Progress(*progress_columns(), console=console) as progress:
        task = progress.add_task("Uploading", total=total)
        for found in iter_files(paths):
            await _upload_one(sessionmaker, originals, target, found, report)
            progress.advance(task)
    return started


async def _upload_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    originals: Originals,
    target: _Target,
    found: FoundFile,
    report: IngestReport,
) -> None:
    try:
        digest = file_sha256(found.path)
    except OSError as exc:
        report.rejected += 1
        report.note_failure(f"cannot be read ({exc.strerror})", str(found.path))
        return
    async with sessionmaker() as session:
        existing = await repository.document_id_of_hash(
            session, user_id=target.user_id, sha256=digest
        )
        if existing is not None:
            report.skipped += 1
            if target.collection_id is not None:
                await sharing_service.add_documents(
                    session,
                    reader_id=target.user_id,
                    collection_id=target.collection_id,
                    document_ids=[existing],
                )
                await session.commit()
            return
        try:
            await service.create_documents(
                session,
                user_id=target.user_id,
                uploads=[
                    service.Upload(
                        filename=found.path.name,
                        data=found.path.read_bytes(),
                        folder=found.folder,
                    )
                ],
                originals=originals,
                collection_id=target.collection_id,
            )
            await session.commit()
        except AppError as exc:
            report.rejected += 1
            report.note_failure(_without_filename(exc.message, found.path.name), str(found.path))
            return
    report.queued += 1


def _without_filename(message: str, filename: str) -> str:
    """'notes.exe: This file type…' → 'This file type…', so that reasons group."""
    for prefix in (f"{filename}: ", f"{filename} "):
        if message.startswith(prefix):
            return message.removeprefix(prefix if prefix.endswith(": ") else filename).strip()
    return message


def print_summary(report: IngestReport, console: Console) -> None:
    """The failures and rejections grouped by reason, most frequent first, with a few of the
    files of each (one line each, never wrapped: easy to grep)."""
    if not report.reasons:
        return
    console.print("[bold]Not indexed:[/]", soft_wrap=True)
    for reason, entry in sorted(report.reasons.items(), key=lambda item: -item[1].count):
        files = "1 file" if entry.count == 1 else f"{entry.count} files"
        console.print(f"  {files}: {reason}", soft_wrap=True, markup=False)
        for example in entry.examples:
            console.print(f"      {example}", soft_wrap=True, markup=False)


async def reindex_documents(
    settings: Settings,
    *,
    database_url: str,
    queue_url: str,
    email: str | None,
    run_worker: bool,
    console: Console,
) -> IngestReport:
    """Queue every document (of one user, or of everyone) for indexing again, so it gets
    what ingestion does today (page text, page spans, furniture removal), and wait."""
    engine = create_engine(database_url, pool_size=2, max_overflow=2)
    sessionmaker = create_sessionmaker(engine)
    report = IngestReport()
    try:
        async with sessionmaker() as session:
            statement = select(Document.id, Document.user_id).order_by(Document.created_at)
            if email is not None:
                user = await get_user_by_email(session, email=email)
                if user is None:
                    raise AppError(f"No account with email {email}.")
                statement = statement.where(Document.user_id == user.id)
            documents = (await session.execute(statement)).all()
        for document_id, user_id in documents:
            async with sessionmaker() as session:
                await service.request_reindex(session, user_id=user_id, document_id=document_id)
                await session.commit()
        report.queued = len(documents)
        async with open_originals(settings, sessionmaker) as originals:
            await _process(
                settings,
                sessionmaker,
                originals,
                queue_url,
                run_worker,
                [document_id for document_id, _ in documents],
                report,
                console,
            )
    finally:
        await engine.dispose()
    return report


async def _process(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    originals: Originals,
    queue_url: str,
    run_worker: bool,
    documents: _RunDocuments | list[uuid.UUID],
    report: IngestReport,
    console: Console,
) -> None:
    """Wait, with a progress bar, until the documents are processed (by a worker in this
    process when ``run_worker``, else by the running workers)."""
    if not run_worker:
        await _wait_with_progress(sessionmaker, documents, report, console)
        return
    deps = WorkerDeps(settings=settings, sessionmaker=sessionmaker, originals=originals)
    async with running_worker(queue_url, deps, concurrency=1):
        await _wait_with_progress(sessionmaker, documents, report, console)


async def _wait_with_progress(
    sessionmaker: async_sessionmaker[AsyncSession],
    documents: _RunDocuments | list[uuid.UUID],
    report: IngestReport,
    console: Console,
) -> None:
    total = documents.count if isinstance(documents, _RunDocuments) else len(documents)
    with Progress(*progress_columns(), console=console) as progress:
        task = progress.add_task("Indexing", total=total)
        while True:
            async with sessionmaker() as session:
                if isinstance(documents, _RunDocuments):
                    counts = await repository.status_counts_since(
                        session, user_id=documents.user_id, since=documents.since
                    )
                else:
                    counts = await repository.status_counts_of(session, document_ids=documents)
            settled = counts.get("ready", 0) + counts.get("failed", 0)
            progress.update(task, completed=settled)
            if settled >= total:
                break
            await asyncio.sleep(POLL_S)
    report.ready, report.failed = counts.get("ready", 0), counts.get("failed", 0)
    if report.failed:
        async with sessionmaker() as session:
            failures = (
                repository.failures_since(session, user_id=documents.user_id, since=documents.since)
                if isinstance(documents, _RunDocuments)
                else repository.failures_of(session, document_ids=documents)
            )
            async for filename, error in failures:
                report.note_failure(error or "failed", filename)

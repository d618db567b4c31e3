"""`docchat ingest PATH... --user EMAIL`: upload files and folders, then wait with progress.
`docchat reindex --all` (or `--user EMAIL`): queue documents for indexing again, likewise."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.service import get_user_by_email
from app.core.db import create_engine, create_sessionmaker
from app.core.errors import AppError
from app.core.settings import Settings
from app.documents import service
from app.documents.models import Document
from app.documents.storage import Originals, open_originals
from app.documents.tasks import WorkerDeps
from app.worker import running_worker

POLL_S = 0.5


@dataclass
class IngestReport:
    queued: int = 0
    ready: int = 0
    failed: int = 0
    rejected: int = 0


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in relative.parts):
                    yield child
        elif path.is_file():
            yield path


async def ingest_paths(
    settings: Settings,
    *,
    database_url: str,
    queue_url: str,
    email: str,
    paths: list[Path],
    run_worker: bool,
    console: Console,
) -> IngestReport:
    engine = create_engine(database_url, pool_size=2, max_overflow=2)
    sessionmaker = create_sessionmaker(engine)
    report = IngestReport()
    document_ids: list[uuid.UUID] = []
    try:
        async with sessionmaker() as session:
            user = await get_user_by_email(session, email=email)
            if user is None:
                raise AppError(
                    f"No account with email {email}; create it with `docchat create-user`."
                )
            user_id = user.id
        async with open_originals(settings, sessionmaker) as originals:
            await _upload_files(
                sessionmaker, originals, user_id, paths, report, document_ids, console
            )
            await _process(
                settings,
                sessionmaker,
                originals,
                queue_url,
                run_worker,
                document_ids,
                report,
                console,
            )
    finally:
        await engine.dispose()
    return report


async def _upload_files(
    sessionmaker: async_sessionmaker[AsyncSession],
    originals: Originals,
    user_id: uuid.UUID,
    paths: list[Path],
    report: IngestReport,
    document_ids: list[uuid.UUID],
    console: Console,
) -> None:
    for path in iter_files(paths):
        async with sessionmaker() as session:
            try:
                (document,) = await service.create_documents(
                    session,
                    user_id=user_id,
                    uploads=[service.Upload(filename=path.name, data=path.read_bytes())],
                    originals=originals,
                )
                await session.commit()
            except AppError as exc:
                report.rejected += 1
                console.print(f"[yellow]skipped[/] {path}: {exc.message}")
                continue
        document_ids.append(document.id)
        report.queued += 1


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
    document_ids: list[uuid.UUID],
    report: IngestReport,
    console: Console,
) -> None:
    """Wait, with a progress bar, until the documents are processed (by a worker in this
    process when ``run_worker``, else by the running workers)."""
    if not run_worker:
        await _wait_with_progress(sessionmaker, document_ids, report, console)
        return
    deps = WorkerDeps(settings=settings, sessionmaker=sessionmaker, originals=originals)
    async with running_worker(queue_url, deps, concurrency=1):
        await _wait_with_progress(sessionmaker, document_ids, report, console)


async def _wait_with_progress(
    sessionmaker: async_sessionmaker[AsyncSession],
    document_ids: list[uuid.UUID],
    report: IngestReport,
    console: Console,
) -> None:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Indexing", total=len(document_ids) * 100)
        pending = set(document_ids)
        while pending:
            async with sessionmaker() as session:
                rows = (
                    await session.execute(
                        select(
                            Document.id,
                            Document.filename,
                            Document.status,
                            Document.progress,
                            Document.error,
                        ).where(Document.id.in_(document_ids))
                    )
                ).all()
            done = 0
            for row in rows:
                if row.status in ("ready", "failed"):
                    done += 100
                    if row.id in pending:
                        pending.discard(row.id)
                        if row.status == "ready":
                            report.ready += 1
                        else:
                            report.failed += 1
                            console.print(f"[red]failed[/] {row.filename}: {row.error}")
                else:
                    done += row.progress
            progress.update(task, completed=done)
            if pending:
                await asyncio.sleep(POLL_S)

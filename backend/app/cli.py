"""The `docchat` command: serve, migrate, worker, create-user, reset-password, ingest, reindex,
eval."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from psycopg import Error as PsycopgError
from sqlalchemy.exc import DBAPIError

from app.core.db import database_error
from app.core.settings import ConfigError, Settings, get_settings

cli = typer.Typer(help="DocChat: chat with your documents.", no_args_is_help=True)
logger = logging.getLogger("app.cli")


def _settings(*, serves_http: bool = False) -> Settings:
    try:
        settings = get_settings()
        settings.validate_for_startup(serves_http=serves_http)
    except (ConfigError, ValueError) as exc:
        typer.echo(f"configuration error: {exc}".splitlines()[0], err=True)
        raise typer.Exit(1) from None
    from app.core.logging import configure_logging

    configure_logging(settings.log_level, settings.log_output)
    return settings


def _database_url(settings: Settings, *, direct: bool = True, migrate: bool | None = None) -> str:
    """The configured database, or the embedded one when DATABASE_URL is unset. Migrations
    run first when `migrate` is true, and by default for the embedded database."""
    from app.core import migrate as migrations
    from app.core.db import resolve_database_url

    embedded = not settings.database_url
    try:
        url = resolve_database_url(settings)
    except ConfigError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(1) from None
    direct_url = settings.database_direct_url or url
    if migrate or (migrate is None and embedded):
        try:
            migrations.upgrade(direct_url)
        except (DBAPIError, PsycopgError) as exc:
            variable = "DATABASE_DIRECT_URL" if settings.database_direct_url else "DATABASE_URL"
            typer.echo(f"configuration error: {variable}: {database_error(exc)}", err=True)
            raise typer.Exit(1) from None
    return direct_url if direct else url


def _require_database(settings: Settings, url: str) -> None:
    """Connect once, so that a wrong or unreachable URL is one line instead of a pool timeout."""
    import psycopg

    from app.core.database_url import libpq_url

    variable = "DATABASE_DIRECT_URL" if url == settings.database_direct_url else "DATABASE_URL"
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5, prepare_threshold=None):
            pass
    except PsycopgError as exc:
        typer.echo(f"configuration error: {variable}: {database_error(exc)}", err=True)
        raise typer.Exit(1) from None


@cli.command()
def migrate() -> None:
    """Apply pending migrations (under an advisory lock, safe with many replicas)."""
    _database_url(_settings(), migrate=True)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: $PORT or 8000)")] = None,
    worker: Annotated[bool | None, typer.Option(help="Run a job worker in-process")] = None,
) -> None:
    """Apply migrations, then serve the API (and the built frontend) with uvicorn."""
    import uvicorn

    from app.core.logging import uvicorn_log_config
    from app.main import create_app

    settings = _settings(serves_http=True)
    _database_url(settings, migrate=True)
    if worker is not None:
        settings.run_worker = worker
    app = create_app(settings)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it to whatever handler was there
    # before: with the default one the process dies without running atexit, and a development
    # run's embedded PostgreSQL would be left running. Exit normally instead (status 143).
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    uvicorn.run(
        app,
        host=host,
        port=port or settings.port,
        log_config=uvicorn_log_config(settings.log_output),
        log_level=settings.log_level.lower(),
        access_log=False,
        # The app resolves the client address itself (app.core.client_address).
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )


@cli.command("worker")
def run_worker(
    concurrency: Annotated[
        int | None,
        typer.Option(help="Jobs run at once by this process (default: $WORKER_CONCURRENCY)"),
    ] = None,
) -> None:
    """Run job workers (document ingestion) until SIGINT/SIGTERM."""
    from app.core.db import create_engine, create_sessionmaker
    from app.documents.tasks import WorkerDeps
    from app.worker import running_worker

    settings = _settings()
    jobs_at_once = concurrency or settings.worker_concurrency
    app_url = _database_url(settings, direct=False)
    queue_url = _database_url(settings)
    for url in {app_url, queue_url}:
        _require_database(settings, url)

    async def main() -> None:
        from app.ai.factory import get_embedder
        from app.documents.indexing import log_embedding_disagreement
        from app.documents.storage import open_originals
        from app.worker_health import serve_worker_health

        # a job holds at most one pooled connection at a time
        engine = create_engine(app_url, pool_size=jobs_at_once, max_overflow=2)
        sessionmaker = create_sessionmaker(engine)
        await log_embedding_disagreement(
            engine, model_id=get_embedder(settings).model_id, role="worker"
        )
        try:
            async with open_originals(settings, sessionmaker) as originals:
                deps = WorkerDeps(settings=settings, sessionmaker=sessionmaker, originals=originals)
                async with (
                    running_worker(
                        queue_url, deps, concurrency=jobs_at_once, install_signal_handlers=True
                    ) as worker,
                    serve_worker_health(settings, engine, worker),
                ):
                    await worker
        finally:
            await engine.dispose()

    asyncio.run(main())


@cli.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(prompt=True)],
    full_name: Annotated[str, typer.Option(prompt="Full name")],
    password: Annotated[
        str | None, typer.Option(help="Prompted when omitted (or $DOCCHAT_PASSWORD)")
    ] = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="An administrator (else: the first account is one)")
    ] = False,
) -> None:
    """Create an account, whatever the registration mode."""
    from pydantic import ValidationError

    from app.audit import service as audit
    from app.auth import service
    from app.auth.models import Role
    from app.auth.schemas import RegisterIn
    from app.core.db import create_engine, create_sessionmaker
    from app.core.errors import AppError

    settings = _settings()
    password = password or os.environ.get("DOCCHAT_PASSWORD") or getpass.getpass("Password: ")
    try:
        body = RegisterIn(email=email, password=password, full_name=full_name)
    except ValidationError as exc:
        typer.echo(
            f"invalid input: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}", err=True
        )
        raise typer.Exit(2) from None
    url = _database_url(settings, direct=False)

    async def main() -> str:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            async with create_sessionmaker(engine)() as session:
                user = await service.create_user(
                    session,
                    email=body.email,
                    password=body.password,
                    full_name=body.full_name,
                    role=Role.ADMIN if admin else None,
                )
                await audit.record(
                    session,
                    action=audit.REGISTER,
                    actor_id=None,
                    target_type="user",
                    target_id=str(user.id),
                    details={"role": user.role, "via": "cli"},
                )
                await session.commit()
                return f"{user.role}, {user.id}"
        finally:
            await engine.dispose()

    try:
        created = asyncio.run(main())
    except AppError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created user {body.email} ({created})")


@cli.command("reset-password")
def reset_password(
    email: Annotated[str, typer.Argument(help="The account's email address")],
    password: Annotated[
        str | None,
        typer.Option(
            help="The new password (or $DOCCHAT_PASSWORD); omitted: a temporary one is printed"
        ),
    ] = None,
) -> None:
    """Set an account's password (for when reset mail is not configured, or not arriving).
    Every session of the account is signed out; hand the password over, and the person
    changes it under Settings."""
    import secrets

    from pydantic import TypeAdapter, ValidationError

    from app.auth import service
    from app.auth.schemas import NewPassword
    from app.core.db import create_engine, create_sessionmaker
    from app.core.errors import AppError

    settings = _settings()
    chosen = password or os.environ.get("DOCCHAT_PASSWORD")
    new_password = chosen or secrets.token_urlsafe(12)
    try:
        TypeAdapter(NewPassword).validate_python(new_password)
    except ValidationError as exc:
        typer.echo(f"invalid input: password: {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(2) from None
    url = _database_url(settings, direct=False)

    async def main() -> str:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            async with create_sessionmaker(engine)() as session:
                user = await service.set_temporary_password(
                    session, email=email, password=new_password
                )
                await session.commit()
                return user.email
        finally:
            await engine.dispose()

    try:
        account = asyncio.run(main())
    except AppError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"password of {account} reset; every session of the account was signed out")
    if not chosen:
        typer.echo(f"temporary password: {new_password}")


originals_cli = typer.Typer(help="Uploaded originals: where they are kept.", no_args_is_help=True)
cli.add_typer(originals_cli, name="originals")


@originals_cli.command("migrate")
def migrate_originals(
    to: Annotated[str, typer.Option("--to", help="Target store: s3 (needs S3_BUCKET) or postgres")],
) -> None:
    """Move every original into one store, one document per transaction, with progress.
    Safe to interrupt and re-run (it resumes), and to run while the app serves: each
    document is locked while it moves. Set ORIGINALS_STORAGE to the same store first, so
    that new uploads go there too."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from app.core.db import create_engine, create_sessionmaker
    from app.documents.storage import (
        POSTGRES,
        S3,
        OriginalMissing,
        documents_to_move,
        move_original,
        open_originals,
    )

    if to not in (POSTGRES, S3):
        typer.echo(f"--to must be {POSTGRES} or {S3}, not {to!r}", err=True)
        raise typer.Exit(2)
    settings = _settings()
    if to == S3 and not settings.s3_bucket:
        typer.echo("configuration error: S3_BUCKET is not set; --to s3 needs a bucket", err=True)
        raise typer.Exit(1)
    url = _database_url(settings, direct=False)

    async def main() -> tuple[int, int, int]:
        engine = create_engine(url, pool_size=2, max_overflow=0)
        sessionmaker = create_sessionmaker(engine)
        moved = size = missing = 0
        try:
            async with open_originals(settings, sessionmaker) as originals:
                async with sessionmaker() as session:
                    document_ids = await documents_to_move(session, target=to)
                columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
                with Progress(*columns, console=Console(stderr=True)) as progress:
                    task = progress.add_task("Moving originals", total=len(document_ids))
                    for document_id in document_ids:
                        try:
                            async with sessionmaker() as session:
                                result = await move_original(
                                    session,
                                    originals=originals,
                                    document_id=document_id,
                                    target=to,
                                )
                                await session.commit()
                        except OriginalMissing as exc:
                            missing += 1
                            progress.console.print(f"[yellow]skipped[/] {exc}")
                            result = None
                        if result is not None:
                            source, bytes_moved = result
                            if source != POSTGRES:
                                await originals.store(source).remove(document_id=document_id)
                            moved += 1
                            size += bytes_moved
                        progress.advance(task)
        finally:
            await engine.dispose()
        return moved, size, missing

    moved, size, missing = asyncio.run(main())
    typer.echo(f"moved {moved} originals ({size / 1e6:.1f} MB) to {to}; {missing} missing")
    if missing:
        raise typer.Exit(1)


eval_cli = typer.Typer(
    help="Retrieval benchmarks, and checks made from people's feedback on answers.",
    no_args_is_help=True,
)
cli.add_typer(eval_cli, name="eval")


@eval_cli.command("beir")
def eval_beir(
    directory: Annotated[
        str, typer.Argument(help="BEIR dataset: corpus.jsonl, queries.jsonl, qrels/")
    ],
    split: Annotated[
        str, typer.Option(help="qrels split to score (tune on train, report test)")
    ] = "test",
    concurrency: Annotated[int, typer.Option(help="Ingestion jobs run at once")] = 2,
    ingest_only: Annotated[bool, typer.Option(help="Ingest the corpus, do not score")] = False,
    fusion: Annotated[str | None, typer.Option(help="rrf or convex")] = None,
    lexical_weight: Annotated[
        float | None, typer.Option(help="BM25 share of the fused score")
    ] = None,
    rrf_k: Annotated[int | None, typer.Option()] = None,
    k1: Annotated[float | None, typer.Option(help="BM25 k1")] = None,
    b: Annotated[float | None, typer.Option(help="BM25 b")] = None,
    candidates: Annotated[int | None, typer.Option(help="Candidates per retriever")] = None,
    ef_search: Annotated[int | None, typer.Option()] = None,
    param: Annotated[
        list[str] | None, typer.Option(help="Any RetrievalParams field: name=value (repeatable)")
    ] = None,
) -> None:
    """Ingest a BEIR dataset through the real pipeline and score search on a qrels split.
    The last output line is a JSON object (ndcg@10, recall@10, recall@100, mrr@10, p50_ms,
    p95_ms, queries)."""
    import json
    from pathlib import Path

    from app.core import migrate as migrations
    from app.evaluation.beir import params_with_overrides, parse_param_overrides, run_beir
    from app.search.config import get_retrieval_params

    settings = _settings()
    url = _database_url(settings, direct=False)
    migrations.upgrade(_database_url(settings))
    overrides = {
        "fusion": fusion,
        "lexical_weight": lexical_weight,
        "rrf_k": rrf_k,
        "bm25_k1": k1,
        "bm25_b": b,
        "candidates": candidates,
        "ef_search": ef_search,
        **parse_param_overrides(param or []),
    }
    params = params_with_overrides(get_retrieval_params(), overrides)
    summary = asyncio.run(
        run_beir(
            settings,
            url,
            Path(directory),
            split=split,
            params=params,
            concurrency=concurrency,
            echo=typer.echo,
            ingest_only=ingest_only,
        )
    )
    from app.evaluation.beir import summary_lines

    if ingest_only:
        typer.echo(json.dumps(summary))
        return
    for line in summary_lines(summary, title=f"BEIR {Path(directory).name} ({split})"):
        typer.echo(line)


@eval_cli.command("feedback")
def eval_feedback(
    out: Annotated[Path, typer.Option(help="Folder for review.md and cases.jsonl")] = Path(
        "feedback"
    ),
    user: Annotated[
        str | None, typer.Option("--user", help="Only this account's ratings (email)")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only ratings given since this date (YYYY-MM-DD)")
    ] = None,
) -> None:
    """Export every account's ratings of answers (or one account's, --user): thumbs-down
    into review.md for a person to read, thumbs-up into cases.jsonl, regression cases that
    `docchat eval regression` scores. The files hold people's questions and answers: keep
    them where only operators can read them."""
    import json
    from datetime import UTC, datetime

    from app.core.db import create_engine, create_sessionmaker
    from app.core.errors import AppError
    from app.evaluation.feedback import export_feedback

    try:
        since_at = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
    except ValueError:
        typer.echo(f"--since {since!r} is not a date like 2026-11-30.", err=True)
        raise typer.Exit(2) from None
    settings = _settings()
    url = _database_url(settings, direct=False)

    async def main() -> dict[str, object]:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            summary = await export_feedback(
                create_sessionmaker(engine), out, email=user, since=since_at
            )
        finally:
            await engine.dispose()
        typer.echo(f"{summary.reviewed} answer(s) rated down → {summary.review_path}")
        typer.echo(f"{summary.cases} regression case(s) → {summary.cases_path}")
        if summary.liked_without_sources:
            typer.echo(f"{summary.liked_without_sources} liked answer(s) cited no source: no case")
        return {"reviewed": summary.reviewed, "cases": summary.cases}

    try:
        result = asyncio.run(main())
    except AppError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(result))


@eval_cli.command("regression")
def eval_regression(
    cases: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="cases.jsonl")],
    param: Annotated[
        list[str] | None, typer.Option(help="Any RetrievalParams field: name=value (repeatable)")
    ] = None,
) -> None:
    """Check that the questions of liked answers still retrieve the passages those answers
    cited (each as its asker, in its chat's scope). Exits 1 when a case fails; the last
    output line is a JSON object (cases, passed, failed, skipped, recall)."""
    import json

    from app.core.db import create_engine, create_sessionmaker
    from app.evaluation.beir import params_with_overrides, parse_param_overrides
    from app.evaluation.feedback import read_cases, score_cases
    from app.search.config import get_retrieval_params

    try:
        params = params_with_overrides(get_retrieval_params(), parse_param_overrides(param or []))
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    settings = _settings()
    url = _database_url(settings, direct=False)

    async def main() -> dict[str, object]:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            score = await score_cases(
                create_sessionmaker(engine), settings, read_cases(cases), params=params
            )
        finally:
            await engine.dispose()
        for result in score.results:
            if result.skipped:
                typer.echo(f"skipped  {result.case_id}  {result.question!r}: {result.skipped}")
            elif not result.passed:
                typer.echo(
                    f"FAILED   {result.case_id}  {result.question!r}: "
                    f"{result.found}/{result.expected} expected passages retrieved"
                )
        return score.summary()

    summary = asyncio.run(main())
    typer.echo(json.dumps(summary))
    if summary["failed"]:
        raise typer.Exit(1)


@cli.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Files and folders")],
    user: Annotated[str, typer.Option("--user", help="Email of the owning account")],
    worker: Annotated[bool, typer.Option(help="Process the queue in this command too")] = True,
    collection: Annotated[
        str | None,
        typer.Option(help="Also add the files to this collection (its id or name)"),
    ] = None,
    wait: Annotated[
        bool, typer.Option(help="Wait until the files are indexed (else: upload and queue)")
    ] = True,
) -> None:
    """Upload files and folders for a user and wait until they are indexed. Files the
    account already has (same content) are skipped, so a stopped run resumes; folders keep
    their relative paths."""
    from rich.console import Console

    from app.core.errors import AppError
    from app.ingest_command import ingest_paths, print_summary

    settings = _settings()
    console = Console(stderr=True)
    try:
        report = asyncio.run(
            ingest_paths(
                settings,
                database_url=_database_url(settings, direct=False),
                queue_url=_database_url(settings),
                email=user,
                paths=paths,
                run_worker=worker,
                console=console,
                collection=collection,
                wait=wait,
            )
        )
    except AppError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    print_summary(report, console)
    files = report.queued + report.rejected + report.skipped
    outcome = f"{report.ready} ready, {report.failed} failed" if wait else f"{report.queued} queued"
    typer.echo(
        f"{outcome}, {report.rejected} rejected, {report.skipped} already there (of {files} files)"
    )
    if report.failed or report.rejected:
        raise typer.Exit(1)


@cli.command()
def reindex(
    all_documents: Annotated[
        bool, typer.Option("--all", help="Every document of every account")
    ] = False,
    user: Annotated[
        str | None, typer.Option("--user", help="Only the documents of this account (email)")
    ] = None,
    worker: Annotated[bool, typer.Option(help="Process the queue in this command too")] = True,
) -> None:
    """Index documents again with the current pipeline (after an upgrade that changes what
    ingestion produces), and wait until they are done."""
    from rich.console import Console

    from app.core.errors import AppError
    from app.ingest_command import reindex_documents

    if all_documents == (user is not None):
        typer.echo("Say which documents to reindex: --all, or --user EMAIL.", err=True)
        raise typer.Exit(2)
    settings = _settings()
    console = Console(stderr=True)
    try:
        report = asyncio.run(
            reindex_documents(
                settings,
                database_url=_database_url(settings, direct=False),
                queue_url=_database_url(settings),
                email=user,
                run_worker=worker,
                console=console,
            )
        )
    except AppError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{report.ready} ready, {report.failed} failed (of {report.queued} documents)")
    if report.failed:
        raise typer.Exit(1)


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cli()


if __name__ == "__main__":
    main()

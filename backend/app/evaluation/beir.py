"""BEIR retrieval benchmark through the real ingestion pipeline and the real search path.

1. Every corpus entry becomes a Markdown document ``# {title}\\n\\n{text}`` named ``{_id}.md``,
   uploaded for a dedicated eval user with ``documents.service.create_documents`` (the same
   call as POST /api/v1/documents), in batched transactions. Documents already there are
   skipped, so a second run reuses the ingested corpus.
2. An in-process procrastinate worker runs the queued ingestion jobs until every eval
   document is ``ready`` or ``failed``.
3. Each judged query goes through ``app.search.service.search`` (query embedding + hybrid
   retrieval, as POST /api/v1/search) with k=100; chunk hits become a document ranking
   (a document's rank is its best chunk's rank) and are scored against the qrels.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import service as auth
from app.core.db import create_engine, create_sessionmaker
from app.core.settings import Settings
from app.documents.models import Document
from app.documents.service import Upload, create_documents
from app.documents.storage import postgres_originals
from app.documents.tasks import WorkerDeps
from app.evaluation.metrics import dedupe, evaluate, percentile
from app.search.retrieval import RetrievalParams
from app.search.service import search
from app.worker import running_worker

logger = logging.getLogger(__name__)

EVAL_EMAIL = "beir-eval@docchat.local"
UPLOAD_BATCH = 250
SEARCH_K = 100
WARMUP_QUERIES = 10

Echo = Callable[[str], None]


@dataclass(frozen=True)
class BeirDataset:
    corpus: dict[str, tuple[str, str]]  # _id -> (title, text)
    queries: dict[str, str]  # _id -> text, only those judged in the split
    qrels: dict[str, dict[str, int]]  # query id -> corpus id -> grade


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load_beir(directory: Path, split: str) -> BeirDataset:
    corpus = {
        str(row["_id"]): (str(row.get("title") or ""), str(row.get("text") or ""))
        for row in _read_jsonl(directory / "corpus.jsonl")
    }
    qrels: dict[str, dict[str, int]] = {}
    with (directory / "qrels" / f"{split}.tsv").open(encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        for row in reader:
            if len(row) < 3 or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    all_queries = {
        str(row["_id"]): str(row["text"]) for row in _read_jsonl(directory / "queries.jsonl")
    }
    queries = {qid: all_queries[qid] for qid in qrels if qid in all_queries}
    qrels = {qid: judged for qid, judged in qrels.items() if qid in queries}
    return BeirDataset(corpus=corpus, queries=queries, qrels=qrels)


def render_markdown(title: str, text: str) -> bytes:
    title = " ".join(title.split())
    body = f"# {title}\n\n{text}\n" if title else f"{text}\n"
    return body.encode("utf-8")


def corpus_id(filename: str) -> str:
    return PurePath(filename).stem


# --------------------------------------------------------------------------- ingestion


async def ensure_eval_user(
    sessionmaker: async_sessionmaker[AsyncSession], email: str = EVAL_EMAIL
) -> uuid.UUID:

    async with sessionmaker() as session:
        user = await auth.get_user_by_email(session, email=email)
        if user is not None:
            return user.id
        user = await auth.create_user(
            session, email=email, password=secrets.token_urlsafe(24), full_name="BEIR evaluation"
        )
        await session.commit()
        return user.id


async def existing_filenames(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: uuid.UUID
) -> set[str]:

    async with sessionmaker() as session:
        rows = await session.execute(select(Document.filename).where(Document.user_id == user_id))
        return {row[0] for row in rows}


async def upload_corpus(
    sessionmaker: async_sessionmaker[AsyncSession],
    user_id: uuid.UUID,
    corpus: Mapping[str, tuple[str, str]],
    *,
    batch: int = UPLOAD_BATCH,
    echo: Echo | None = None,
) -> int:
    """Upload the corpus entries not yet stored for the user; returns how many were new."""

    present = await existing_filenames(sessionmaker, user_id)
    missing = [(cid, doc) for cid, doc in corpus.items() if f"{cid}.md" not in present]
    for start in range(0, len(missing), batch):
        uploads = [
            Upload(filename=f"{cid}.md", data=render_markdown(title, text))
            for cid, (title, text) in missing[start : start + batch]
        ]
        async with sessionmaker() as session:
            await create_documents(
                session,
                user_id=user_id,
                uploads=uploads,
                originals=postgres_originals(sessionmaker),
            )
            await session.commit()
        if echo:
            echo(f"uploaded {min(start + batch, len(missing))}/{len(missing)} documents")
    return len(missing)


async def status_counts(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: uuid.UUID
) -> dict[str, int]:

    async with sessionmaker() as session:
        rows = await session.execute(
            select(Document.status, func.count())
            .where(Document.user_id == user_id)
            .group_by(Document.status)
        )
        return {status: int(count) for status, count in rows}


def _pending(counts: Mapping[str, int]) -> int:
    return counts.get("queued", 0) + counts.get("processing", 0)


async def run_worker_until_settled(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue_url: str,
    user_id: uuid.UUID,
    *,
    concurrency: int = 2,
    echo: Echo | None = None,
    report_every_s: float = 15.0,
    timeout_s: float | None = None,
    poll_s: float = 0.5,
) -> dict[str, int]:
    """Run an in-process worker until no document of the user is queued or processing.

    Not ``run_worker_async(wait=False)``: that returns as soon as no job is left to *fetch*
    and then shuts down, aborting jobs still running after ``shutdown_graceful_timeout``
    (10 s), which a large PDF always is (measured: the job ends ``aborted`` and its document
    stays ``processing``). So the worker waits for jobs, this polls the documents' status,
    and the worker is stopped only once everything has settled."""
    deps = WorkerDeps(
        settings=settings, sessionmaker=sessionmaker, originals=postgres_originals(sessionmaker)
    )
    started = time.perf_counter()
    last_report = started
    async with running_worker(queue_url, deps, concurrency=concurrency) as worker:
        while True:
            counts = await status_counts(sessionmaker, user_id)
            if not _pending(counts):
                return counts
            if worker.done():
                worker.result()  # raises what stopped the worker
                raise RuntimeError("the ingestion worker stopped early")
            now = time.perf_counter()
            if timeout_s is not None and now - started > timeout_s:
                raise TimeoutError(f"ingestion did not settle within {timeout_s} s: {counts}")
            if echo and now - last_report >= report_every_s:
                last_report = now
                echo(
                    f"  {now - started:6.0f} s  ready {counts.get('ready', 0)}"
                    f"  failed {counts.get('failed', 0)}  pending {_pending(counts)}"
                )
            await asyncio.sleep(poll_s)


# --------------------------------------------------------------------------- scoring


@dataclass
class EvalResult:
    metrics: dict[str, float]
    latencies_ms: list[float] = field(default_factory=list)
    rankings: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> dict[str, float | int]:
        return {
            "ndcg@10": round(self.metrics["ndcg@10"], 4),
            "recall@10": round(self.metrics["recall@10"], 4),
            "recall@100": round(self.metrics["recall@100"], 4),
            "mrr@10": round(self.metrics["mrr@10"], 4),
            "p50_ms": round(percentile(self.latencies_ms, 50), 1),
            "p95_ms": round(percentile(self.latencies_ms, 95), 1),
            "queries": len(self.rankings),
        }


async def score_queries(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    user_id: uuid.UUID,
    dataset: BeirDataset,
    *,
    params: RetrievalParams | None = None,
    k: int = SEARCH_K,
    warmup: int = WARMUP_QUERIES,
) -> EvalResult:
    """Each query through app.search.service.search in its own transaction (like a request);
    latency is the wall time of that call, after ``warmup`` unmeasured queries."""

    async def run(query: str) -> tuple[list[str], float]:
        async with sessionmaker() as session:
            started = time.perf_counter()
            hits = await search(
                session, settings=settings, user_id=user_id, query=query, k=k, params=params
            )
            elapsed = (time.perf_counter() - started) * 1000
            await session.rollback()
        return dedupe([corpus_id(hit.filename) for hit in hits]), elapsed

    for query in list(dataset.queries.values())[:warmup]:
        await run(query)
    rankings: dict[str, list[str]] = {}
    latencies: list[float] = []
    for qid, query in dataset.queries.items():
        rankings[qid], elapsed = await run(query)
        latencies.append(elapsed)
    return EvalResult(
        metrics=evaluate(rankings, dataset.qrels), latencies_ms=latencies, rankings=rankings
    )


def format_table(summary: Mapping[str, Any], *, title: str) -> str:
    rows = [
        ("nDCG@10", f"{summary['ndcg@10']:.4f}"),
        ("Recall@10", f"{summary['recall@10']:.4f}"),
        ("Recall@100", f"{summary['recall@100']:.4f}"),
        ("MRR@10", f"{summary['mrr@10']:.4f}"),
        ("search p50", f"{summary['p50_ms']:.1f} ms"),
        ("search p95", f"{summary['p95_ms']:.1f} ms"),
        ("queries", str(summary["queries"])),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [title, "-" * len(title)]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- orchestration


async def run_beir(
    settings: Settings,
    database_url: str,
    directory: Path,
    *,
    split: str = "test",
    params: RetrievalParams | None = None,
    concurrency: int = 2,
    email: str = EVAL_EMAIL,
    echo: Echo | None = None,
    ingest_only: bool = False,
) -> dict[str, Any]:
    """Ingest (or reuse) the corpus for the eval user, then score the split's queries."""

    dataset = load_beir(directory, split)
    engine = create_engine(database_url, pool_size=4, max_overflow=4)
    sessionmaker = create_sessionmaker(engine)
    try:
        user_id = await ensure_eval_user(sessionmaker, email)
        started = time.perf_counter()
        new = await upload_corpus(sessionmaker, user_id, dataset.corpus, echo=echo)
        counts = await status_counts(sessionmaker, user_id)
        if _pending(counts):
            if echo:
                echo(f"ingesting {_pending(counts)} documents ({new} new) ...")
            counts = await run_worker_until_settled(
                settings,
                sessionmaker,
                settings.database_direct_url or database_url,
                user_id,
                concurrency=concurrency,
                echo=echo,
            )
            if echo:
                echo(f"ingestion settled in {time.perf_counter() - started:.0f} s: {counts}")
        if counts.get("failed") and echo:
            echo(f"warning: {counts['failed']} documents failed to ingest")
        if ingest_only:
            return {"documents": counts}
        result = await score_queries(settings, sessionmaker, user_id, dataset, params=params)
        summary: dict[str, Any] = dict(result.summary())
        summary["split"] = split
        if params is not None:
            summary["params"] = {
                name: getattr(params, name) for name in params.__dataclass_fields__
            }
        return summary
    finally:
        await engine.dispose()


def params_with_overrides(base: RetrievalParams, overrides: Mapping[str, Any]) -> RetrievalParams:
    from dataclasses import replace

    return replace(base, **{key: value for key, value in overrides.items() if value is not None})


def summary_lines(summary: Mapping[str, Any], *, title: str) -> Iterable[str]:
    yield format_table(summary, title=title)
    yield json.dumps(dict(summary), sort_keys=False)


def parse_param_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``name=value`` pairs for RetrievalParams fields, converted to the field's type."""
    defaults = RetrievalParams()
    out: dict[str, Any] = {}
    for item in items:
        name, _, raw = item.partition("=")
        name = name.strip().replace("-", "_")
        if name not in RetrievalParams.__dataclass_fields__:
            raise ValueError(f"unknown retrieval parameter {name!r}")
        current = getattr(defaults, name)
        if isinstance(current, bool):
            out[name] = raw.strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(current, int):
            out[name] = int(raw)
        elif isinstance(current, float):
            out[name] = float(raw)
        else:
            out[name] = raw.strip()
    return out

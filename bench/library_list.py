"""The library list at 100,000 documents: is every query index-driven, and how long does it take?

    python bench/library_list.py [--docs 100000] [--runs 30]

In a fresh embedded PostgreSQL (temporary directory, deleted at the end), migrated with the
app's migrations: one user with --docs documents (statuses 90 % ready, 5 % queued, 4 %
processing, 1 % failed; 8 kinds; sizes and names with many ties; a third in folders), who also
reads a collection of another owner's 5,000 documents; 20 other users with 5,000 each.
INSERT ... SELECT, then VACUUM ANALYZE.

Each query is the app's own (app.documents.service.list_library / count_library with an
AsyncSession, one transaction per call as in a request): its SQL is captured and run once
with EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) to report the plan's scan nodes, whether any
sequential scan or full sort of `documents` happens, and the plan's execution time; then it
is timed --runs times (after 3 warm-up calls). Offset paging at depth is measured next to
keyset paging at the same depth. The last line is one JSON object. Not a test: the machine's
other load affects every number.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from common import log, start_postgres, summary_ms

OTHER_USERS = 20
OTHER_DOCS = 5_000
SHARED_DOCS = 5_000
PG_SETTINGS = {
    "shared_buffers": "256MB",
    "synchronous_commit": "off",
    "random_page_cost": "1.1",
}

DOCUMENTS_SQL = """
INSERT INTO documents (id, user_id, filename, content_type, kind, size_bytes, sha256, status,
                       created_at, folder)
SELECT gen_random_uuid(), %(user)s,
       (ARRAY['report','invoice','minutes','contract','thesis','notes'])[1 + g %% 6]
         || '-' || (g / 7) || (ARRAY['.pdf','.docx','.md','.txt','.html','.xlsx','.pptx','.csv'])[1 + g %% 8],
       'application/octet-stream',
       (ARRAY['pdf','docx','markdown','text','html','xlsx','pptx','csv'])[1 + g %% 8],
       (g %% 500) * 1024,
       md5(random()::text) || md5(random()::text),
       CASE WHEN g %% 100 = 0 THEN 'failed' WHEN g %% 100 < 5 THEN 'queued'
            WHEN g %% 100 < 9 THEN 'processing' ELSE 'ready' END,
       timestamptz '2026-01-01' + (g / 3) * interval '1 minute',
       CASE WHEN g %% 3 = 0 THEN 'projects/p' || (g %% 40) || '/2024' END
FROM generate_series(1, %(count)s) g
"""


def load(url: str, docs: int) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        users = [uuid.uuid4() for _ in range(OTHER_USERS + 1)]
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO users (id, email, full_name, password_hash) "
                "VALUES (%s, %s, 'Bench', 'x')",
                [(user, f"{user}@example.com") for user in users],
            )
        reader, others = users[0], users[1:]
        conn.execute(DOCUMENTS_SQL, {"user": reader, "count": docs})
        for other in others:
            conn.execute(DOCUMENTS_SQL, {"user": other, "count": OTHER_DOCS})
        collection = uuid.uuid4()
        conn.execute(
            "INSERT INTO collections (id, owner_id, name) VALUES (%s, %s, 'shared')",
            (collection, others[0]),
        )
        conn.execute(
            "INSERT INTO collection_documents (collection_id, document_id, owner_id, added_by) "
            "SELECT %s, id, user_id, user_id FROM documents WHERE user_id = %s LIMIT %s",
            (collection, others[0], SHARED_DOCS),
        )
        conn.execute(
            "INSERT INTO collection_members (id, collection_id, user_id, role) "
            "VALUES (%s, %s, %s, 'viewer')",
            (uuid.uuid4(), collection, reader),
        )
        conn.execute("VACUUM ANALYZE")
    return {"reader": reader, "collection": collection}


def plan_facts(plan: dict[str, Any]) -> dict[str, Any]:
    """The scan nodes of a JSON plan, and whether it reads or sorts `documents` whole."""
    scans: list[str] = []
    seq_scan_documents = False
    big_sorts: list[int] = []

    def walk(node: dict[str, Any]) -> None:
        nonlocal seq_scan_documents
        kind = node["Node Type"]
        if "Scan" in kind:
            scans.append(
                f"{kind} {node.get('Index Name') or node.get('Relation Name', '')}".strip()
            )
        if kind == "Seq Scan" and node.get("Relation Name") == "documents":
            seq_scan_documents = True
        if kind in ("Sort", "Incremental Sort") and node.get("Actual Rows", 0) > 1000:
            big_sorts.append(int(node["Actual Rows"]))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return {
        "scans": sorted(set(scans)),
        "seq_scan_documents": seq_scan_documents,
        "sorted_rows_over_1000": big_sorts,
        "explain_ms": round(plan["Execution Time"], 2),
    }


async def measure(url: str, world: dict[str, Any], runs: int) -> dict[str, Any]:
    from sqlalchemy import event

    from app.core.db import create_engine, create_sessionmaker
    from app.documents import service
    from app.documents.repository import LibraryFilter, LibrarySort

    engine = create_engine(url, pool_size=2, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    reader = world["reader"]
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    results: dict[str, Any] = {}

    async def measured(name: str, call: Callable[[Any], Awaitable[Any]]) -> Any:
        captured.clear()
        async with sessionmaker() as session:
            answer = await call(session)
        statements = list(captured)
        # The listing's (or count's) own query: the one over documents that is not the
        # page's role lookup (readable_in_order reads the page's ids only).
        main = next(s for s in statements if "k0" in s[0] or "count(*)" in s[0].lower())
        async with engine.connect() as conn:
            raw = await conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + main[0], main[1]
            )
            plan = raw.scalar_one()[0]
        seconds = []
        for index in range(runs + 3):
            async with sessionmaker() as session:
                started = time.perf_counter()
                await call(session)
                if index >= 3:
                    seconds.append(time.perf_counter() - started)
        results[name] = {**plan_facts(plan), **summary_ms(seconds)}
        log(name, results[name])
        return answer

    def listing(wanted: LibraryFilter | None = None, **options: Any) -> Callable[[Any], Any]:
        def call(session: Any) -> Any:
            return service.list_library(
                session,
                user_id=reader,
                wanted=wanted or LibraryFilter(),
                limit=100,
                **options,
            )

        return call

    first = await measured("newest_first", listing())
    # Walk 400 keyset pages to a cursor 40,000 documents deep.
    cursor = first.next_cursor
    async with sessionmaker() as session:
        for _ in range(399):
            cursor = (
                await service.list_library(
                    session,
                    user_id=reader,
                    wanted=LibraryFilter(),
                    limit=100,
                    cursor=cursor,
                )
            ).next_cursor
    await measured("keyset_page_at_40000", listing(cursor=cursor))
    await measured("offset_page_at_40000", listing(offset=40_000))
    await measured("by_name", listing(sort=LibrarySort.NAME, descending=False))
    await measured("by_size", listing(sort=LibrarySort.SIZE))
    await measured("by_status", listing(sort=LibrarySort.STATUS, descending=False))
    await measured("failed_only", listing(LibraryFilter(statuses=("failed",))))
    await measured("kind_pdf", listing(LibraryFilter(kinds=("pdf",))))
    await measured("search_invoice_12", listing(LibraryFilter(query="invoice-12")))
    await measured("folder", listing(LibraryFilter(folder="projects/p7")))
    await measured("owned_only", listing(LibraryFilter(owned=True)))
    await measured("shared_collection", listing(LibraryFilter(collection_id=world["collection"])))
    await measured(
        "counts",
        lambda s: service.count_library(s, user_id=reader, wanted=LibraryFilter()),
    )
    await measured(
        "counts_search",
        lambda s: service.count_library(s, user_id=reader, wanted=LibraryFilter(query="invoice")),
    )
    await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from app.core import migrate
    from app.core.embedded_pg import ensure_database

    data_dir = Path(tempfile.mkdtemp(prefix="docchat-library-bench-"))
    server = None
    try:
        server, admin = start_postgres(data_dir, PG_SETTINGS)
        url = ensure_database(admin, "library_bench")
        migrate.upgrade(url)
        started = time.perf_counter()
        world = load(url, args.docs)
        log(f"loaded in {time.perf_counter() - started:.1f} s")
        results = asyncio.run(measure(url, world, args.runs))
        index_driven = all(not r["seq_scan_documents"] for r in results.values())
        print(
            json.dumps(
                {
                    "documents": args.docs + OTHER_USERS * OTHER_DOCS,
                    "reader_documents": args.docs + SHARED_DOCS,
                    "runs": args.runs,
                    "no_seq_scan_of_documents": index_driven,
                    **results,
                }
            )
        )
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

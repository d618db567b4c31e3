"""Access SQL at scale: what deciding "what may this user read" costs on every request.

    python bench/access_scale.py [--others 200] [--docs-per-user 1000] [--runs 200]

In a fresh embedded PostgreSQL (temporary directory, deleted at the end), migrated with the
app's migrations: a reader with 10,000 documents of their own reads 3 collections of other
owners, 5,000 documents each (one shared with the reader as viewer, one as editor, one
through a group); around them --others users with --docs-per-user documents each, every one
with a collection of all their documents shared with 5 random others (and a group of 5).
Rows are inserted with INSERT ... SELECT, then VACUUM ANALYZE.

Timed through app.sharing.access with an AsyncSession of app.core.db, one transaction per
call as in a request (--runs each, after 10 warm-up calls):
- read_scope: everything the reader can read, as every search and answer builds it (the
  reader's own partition whole, the 15,000 shared document ids grouped by owner);
- read_scope narrowed to one shared collection;
- require_document on a shared document (every document route: get, file, page, citation);
- a page of GET /documents (readable_documents, limit 200, newest first);
- GET /collections (collection_views).
The last line is one JSON object. Not a test: the machine's other load affects every number.
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

SHARED_OWNERS = 3
SHARED_DOCS = 5_000
OWN_DOCS = 10_000
SHARES_PER_COLLECTION = 5

PG_SETTINGS = {"shared_buffers": "256MB", "synchronous_commit": "off", "random_page_cost": "1.1"}


def load(admin_uri: str, *, others: int, docs_per_user: int) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True, prepare_threshold=None) as conn:

        def users(count: int) -> list[uuid.UUID]:
            ids = [uuid.uuid4() for _ in range(count)]
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO users (id, email, full_name, password_hash) "
                    "VALUES (%s, %s, 'Bench', 'x')",
                    [(i, f"{i}@example.com") for i in ids],
                )
            return ids

        def documents(owner: uuid.UUID, count: int) -> None:
            conn.execute(
                "INSERT INTO documents (id, user_id, filename, content_type, kind, size_bytes, "
                "sha256, status, created_at) "
                "SELECT gen_random_uuid(), %s, 'f' || g || '.txt', 'text/plain', 'text', 1, "
                "md5(random()::text) || md5(random()::text), 'ready', "
                "now() - g * interval '1 second' FROM generate_series(1, %s) g",
                (owner, count),
            )

        def collection_of(owner: uuid.UUID) -> uuid.UUID:
            collection_id = uuid.uuid4()
            conn.execute(
                "INSERT INTO collections (id, owner_id, name) VALUES (%s, %s, 'c')",
                (collection_id, owner),
            )
            conn.execute(
                "INSERT INTO collection_documents (collection_id, document_id, owner_id, added_by) "
                "SELECT %s, id, user_id, user_id FROM documents WHERE user_id = %s",
                (collection_id, owner),
            )
            return collection_id

        def share(
            collection_id: uuid.UUID, role: str, *, user: Any = None, group: Any = None
        ) -> None:
            conn.execute(
                "INSERT INTO collection_members (id, collection_id, user_id, group_id, role) "
                "VALUES (gen_random_uuid(), %s, %s, %s, %s)",
                (collection_id, user, group, role),
            )

        def group_of(owner: uuid.UUID, members: list[uuid.UUID]) -> uuid.UUID:
            group_id = uuid.uuid4()
            conn.execute(
                "INSERT INTO groups (id, owner_id, name) VALUES (%s, %s, 'g')", (group_id, owner)
            )
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO group_members (group_id, user_id) VALUES (%s, %s)",
                    [(group_id, m) for m in {owner, *members}],
                )
            return group_id

        import random

        rng = random.Random(7)
        crowd = users(others)
        for index, owner in enumerate(crowd):
            documents(owner, docs_per_user)
            collection_id = collection_of(owner)
            for other in rng.sample(crowd, SHARES_PER_COLLECTION):
                if other != owner:
                    share(collection_id, rng.choice(["viewer", "editor"]), user=other)
            group = group_of(owner, rng.sample(crowd, SHARES_PER_COLLECTION))
            share(collection_id, "viewer", group=group)
            if index % 50 == 49:
                log(f"loaded {index + 1}/{others} users")
        [reader] = users(1)
        documents(reader, OWN_DOCS)
        shared: list[uuid.UUID] = []
        for index, owner in enumerate(users(SHARED_OWNERS)):
            documents(owner, SHARED_DOCS)
            collection_id = collection_of(owner)
            shared.append(collection_id)
            if index == 2:
                share(collection_id, "viewer", group=group_of(owner, [reader]))
            else:
                share(collection_id, ["viewer", "editor"][index], user=reader)
        shared_document = conn.execute(
            "SELECT document_id FROM collection_documents WHERE collection_id = %s LIMIT 1",
            (shared[0],),
        ).fetchone()[0]
        conn.execute("VACUUM ANALYZE")
        total = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    return {
        "reader": reader,
        "collections": shared,
        "shared_document": shared_document,
        "documents": int(total),
    }


async def measure(url: str, world: dict[str, Any], runs: int) -> dict[str, Any]:
    from app.core.db import create_engine, create_sessionmaker
    from app.documents.repository import readable_documents
    from app.sharing import access
    from app.sharing.models import Role
    from app.sharing.repository import collection_views

    engine = create_engine(url, pool_size=2, max_overflow=0)
    sessionmaker = create_sessionmaker(engine)
    reader = world["reader"]
    results: dict[str, Any] = {}

    async def timed(name: str, call: Callable[[Any], Awaitable[Any]]) -> Any:
        seconds = []
        answer = None
        for index in range(runs + 10):
            async with sessionmaker() as session:
                started = time.perf_counter()
                answer = await call(session)
                elapsed = time.perf_counter() - started
            if index >= 10:
                seconds.append(elapsed)
        results[name] = summary_ms(seconds)
        log(name, results[name])
        return answer

    scope = await timed("read_scope_everything", lambda s: access.read_scope(s, reader_id=reader))
    results["read_scope_everything"]["shared_ids"] = sum(
        len(o.document_ids or ()) for o in scope.owners
    )
    await timed(
        "read_scope_collection",
        lambda s: access.read_scope(s, reader_id=reader, collection_id=world["collections"][0]),
    )
    await timed(
        "require_document",
        lambda s: access.require_document(
            s, reader_id=reader, document_id=world["shared_document"], at_least=Role.VIEWER
        ),
    )
    await timed(
        "documents_page",
        lambda s: readable_documents(s, reader_id=reader, limit=200, offset=0),
    )
    await timed("collections_list", lambda s: collection_views(s, reader_id=reader))
    await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--others", type=int, default=200)
    parser.add_argument("--docs-per-user", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    from app.core import migrate
    from app.core.embedded_pg import ensure_database

    data_dir = Path(tempfile.mkdtemp(prefix="docchat-access-bench-"))
    server = None
    try:
        server, admin = start_postgres(data_dir, PG_SETTINGS)
        url = ensure_database(admin, "access_bench")
        migrate.upgrade(url)
        started = time.perf_counter()
        world = load(url, others=args.others, docs_per_user=args.docs_per_user)
        log(f"loaded {world['documents']} documents in {time.perf_counter() - started:.1f} s")
        results = asyncio.run(measure(url, world, args.runs))
        print(json.dumps({"documents": world["documents"], "runs": args.runs, **results}))
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

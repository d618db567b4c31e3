"""Seed a library for the browser tests straight into the e2e server's embedded PostgreSQL
(2,000 real ingestions would take many minutes): documents rows only, for the list, its
counts and the bulk actions.

    .venv/bin/python scripts/e2e-seed-library.py EMAIL COUNT FAILED [OLD]

COUNT documents for the account EMAIL: FAILED of them failed ("scan-NNNN.txt", text), the
others ready ("report-NNNN.pdf", pdf), one a minute apart, numbered from the oldest: the
first OLD of them were added 400 days ago, the others three days ago (for the date filter).
Connects through the socket in the server's data directory (.e2e-data/pg, see
scripts/e2e-server.sh); it never starts or stops the server.
"""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

PGDATA = Path(__file__).resolve().parent.parent / ".e2e-data" / "pg"

SEED = """
INSERT INTO documents (id, user_id, filename, content_type, kind, size_bytes, sha256, status,
                       progress, created_at)
SELECT gen_random_uuid(), u.id,
       CASE WHEN g <= %(failed)s THEN 'scan-' ELSE 'report-' END || lpad(g::text, 4, '0')
         || CASE WHEN g <= %(failed)s THEN '.txt' ELSE '.pdf' END,
       CASE WHEN g <= %(failed)s THEN 'text/plain' ELSE 'application/pdf' END,
       CASE WHEN g <= %(failed)s THEN 'text' ELSE 'pdf' END,
       1000 + g, md5(u.id::text || g::text) || md5(g::text),
       CASE WHEN g <= %(failed)s THEN 'failed' ELSE 'ready' END,
       100,
       now() - CASE WHEN g <= %(old)s THEN interval '400 days' ELSE interval '3 days' END
         + g * interval '1 minute'
FROM users u, generate_series(1, %(count)s) g
WHERE u.email = %(email)s
"""


def main() -> None:
    email, count, failed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    old = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    with psycopg.connect(dbname="docchat", user="postgres", host=str(PGDATA)) as conn:
        inserted = conn.execute(
            SEED, {"email": email, "count": count, "failed": failed, "old": old}
        ).rowcount
    if inserted != count:
        sys.exit(f"seeded {inserted} documents, not {count}: is {email} registered?")


if __name__ == "__main__":
    main()

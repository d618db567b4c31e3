"""Store every account's email in its normal form (NFKC, trimmed, lower-case).

Sign-up and sign-in now normalize addresses (app.auth.emails) before comparing them, so a
fullwidth `ＵＳＥＲＡ@example.com` is `usera@example.com`. Rows written before are rewritten to
that form. A row whose normal form is already another account's (a look-alike registered
before this release) keeps its spelling and is logged: its address now signs in to the
other, older account. Data only; `uq_users_email_lower` keeps guarding uniqueness.

Revision ID: 0008
Revises: 0007
Create Date: 2027-01-10
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.auth.emails import normalize_email

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("alembic.runtime.migration")

# Printable ASCII only: lower() is the same in every collation, and it is the normal form
# (lower(email) is already unique, so this cannot collide).
ASCII_ROWS = "email ~ '^[ -~]*$'"


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    bind = op.get_bind()
    bind.execute(
        sa.text(f"UPDATE users SET email = lower(email) WHERE {ASCII_ROWS} AND email <> lower(email)")
    )
    claimed = set(bind.execute(sa.text("SELECT lower(email) FROM users")).scalars())
    rows = bind.execute(
        sa.text(f"SELECT id, email FROM users WHERE NOT ({ASCII_ROWS}) ORDER BY created_at, id")
    ).all()
    look_alikes = 0
    for user_id, email in rows:
        normal = normalize_email(email)
        if normal == email:
            continue
        if normal in claimed and normal != email.lower():
            look_alikes += 1
            continue
        claimed.add(normal)
        bind.execute(
            sa.text("UPDATE users SET email = :email WHERE id = :id"),
            {"email": normal, "id": user_id},
        )
    if look_alikes:
        logger.warning("%d look-alike account email(s) kept as they were", look_alikes)


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    # Nothing to undo: normalized addresses are valid for the previous release too.

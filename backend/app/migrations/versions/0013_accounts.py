"""Accounts: single sign-on identities, emailed single-use links, and where sessions come from.

`users.password_hash` may be NULL: an account created by single sign-on has no password.
`refresh_tokens.ip` / `user_agent` say where a sign-in (or its last refresh) came from, for the
sessions list. `account_tokens` holds password-reset and email-change links (hashed, expiring,
single-use); `oidc_identities` links an account to an OpenID provider's subject. All additions
(and one relaxed constraint): the previous release neither reads nor writes them, and it only
meets a NULL password for accounts that single sign-on created.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("users", "password_hash", existing_type=sa.String(255), nullable=True)
    op.add_column("refresh_tokens", sa.Column("ip", sa.String(45), nullable=True))
    op.add_column("refresh_tokens", sa.Column("user_agent", sa.String(300), nullable=True))
    op.create_table(
        "account_tokens",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("new_email", sa.String(320), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_account_tokens_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_account_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_account_tokens_token_hash"),
    )
    op.create_index("ix_account_tokens_user_id", "account_tokens", ["user_id"])
    op.create_table(
        "oidc_identities",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_oidc_identities_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_identities"),
        sa.UniqueConstraint("issuer", "subject", name="uq_oidc_identities_issuer"),
    )
    op.create_index("ix_oidc_identities_user_id", "oidc_identities", ["user_id"])


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_table("oidc_identities")
    op.drop_table("account_tokens")
    op.drop_column("refresh_tokens", "user_agent")
    op.drop_column("refresh_tokens", "ip")
    # Accounts without a password (single sign-on) cannot go back to NOT NULL: they get an
    # unusable hash, so the previous release refuses them a password sign-in.
    op.execute("UPDATE users SET password_hash = '!' WHERE password_hash IS NULL")
    op.alter_column("users", "password_hash", existing_type=sa.String(255), nullable=False)

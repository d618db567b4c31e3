"""Sharing: collections of documents, groups of people, shares, and a chat's collection scope.

New tables only, plus a nullable `chats.collection_id` (ON DELETE SET NULL): the previous
release neither reads nor writes any of it, and its document and user deletes cascade into
the new tables by their foreign keys. The index on `chats.collection_id` is built
concurrently (writes to chats go on meanwhile).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)


def _created_at(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "collections",
        sa.Column("id", UUID, nullable=False),
        sa.Column("owner_id", UUID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        _created_at(),
        _created_at("updated_at"),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_collections_owner_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_collections"),
    )
    op.create_index("ix_collections_owner_id", "collections", ["owner_id"])
    op.create_table(
        "collection_documents",
        sa.Column("collection_id", UUID, nullable=False),
        sa.Column("document_id", UUID, nullable=False),
        sa.Column("owner_id", UUID, nullable=False),
        sa.Column("added_by", UUID, nullable=True),
        _created_at("added_at"),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name="fk_collection_documents_collection_id_collections",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_collection_documents_document_id_documents",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name="fk_collection_documents_owner_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["users.id"],
            name="fk_collection_documents_added_by_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("collection_id", "document_id", name="pk_collection_documents"),
    )
    op.create_index(
        "ix_collection_documents_document_id", "collection_documents", ["document_id"]
    )
    op.create_table(
        "groups",
        sa.Column("id", UUID, nullable=False),
        sa.Column("owner_id", UUID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_groups_owner_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
    )
    op.create_index("ix_groups_owner_id", "groups", ["owner_id"])
    op.create_table(
        "group_members",
        sa.Column("group_id", UUID, nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        _created_at("added_at"),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_group_members_group_id_groups", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_group_members_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_group_members"),
    )
    op.create_index("ix_group_members_user_id", "group_members", ["user_id"])
    op.create_table(
        "collection_members",
        sa.Column("id", UUID, nullable=False),
        sa.Column("collection_id", UUID, nullable=False),
        sa.Column("user_id", UUID, nullable=True),
        sa.Column("group_id", UUID, nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name="fk_collection_members_collection_id_collections",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_collection_members_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name="fk_collection_members_group_id_groups",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_collection_members"),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (group_id IS NULL)", name="ck_collection_members_one_grantee"
        ),
        sa.CheckConstraint(
            "role IN ('viewer', 'editor')", name="ck_collection_members_role_valid"
        ),
        sa.UniqueConstraint("collection_id", "user_id", name="uq_collection_members_user"),
        sa.UniqueConstraint("collection_id", "group_id", name="uq_collection_members_group"),
    )
    op.create_index("ix_collection_members_user_id", "collection_members", ["user_id"])
    op.create_index("ix_collection_members_group_id", "collection_members", ["group_id"])
    op.add_column("chats", sa.Column("collection_id", UUID, nullable=True))
    op.create_foreign_key(
        "fk_chats_collection_id_collections",
        "chats",
        "collections",
        ["collection_id"],
        ["id"],
        ondelete="SET NULL",
    )
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = '5s'")
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_chats_collection_id "
            "ON chats (collection_id) WHERE collection_id IS NOT NULL"
        )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_index("ix_chats_collection_id", table_name="chats")
    op.drop_constraint("fk_chats_collection_id_collections", "chats", type_="foreignkey")
    op.drop_column("chats", "collection_id")
    op.drop_table("collection_members")
    op.drop_table("group_members")
    op.drop_table("groups")
    op.drop_table("collection_documents")
    op.drop_table("collections")

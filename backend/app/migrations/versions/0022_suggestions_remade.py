"""Suggested questions made without a language model are made again.

They asked about the frequent words of a document's opening text ("What does the document say
about leave?") or about its file's name; `app.suggestions.topics` asks about its title and key
terms instead. Questions are made once per document and kept, so the kept ones of source
'headings' are deleted here and made again, the new way, the next time someone opens a chat
about the document. Those a language model wrote ('llm') stay. The previous release, still
running during the upgrade, makes them again its own way when asked: nothing breaks. A
downgrade deletes them the same way.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DELETE FROM document_suggestions WHERE source = 'headings'")


def downgrade() -> None:
    # The release downgraded to makes them again, its own way.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DELETE FROM document_suggestions WHERE source = 'headings'")
